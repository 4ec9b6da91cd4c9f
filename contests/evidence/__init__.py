"""Evidence that does not rest on the portal's word (docs/auditing.md): trusted timestamps
(timestamps.py), the contest verifier (checks.py, sources.py) and the perizia data sheet
(perizia.py, source_files.py)."""
