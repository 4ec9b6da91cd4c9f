"""The recovery draw that closes a contest: the published selection procedure
(procedure.py, plain Python) and the freeze, draw and replacements (service.py)."""
