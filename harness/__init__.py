"""Machinery for the tests and the benchmark: real servers on loopback (see servers.py).

Never imported by the portal itself (contests/, portal/, deploy/), and left out of the
images by .dockerignore.
"""
