"""The SHA-256 of the portal's source files, for the perizia: which code is running.

Runs without Django, so that Dockerfile.prod can write it into the image at build time
(`python contests/evidence/source_files.py > SOURCE_SHA256`); the portal recomputes it
when it starts and on the perizia page, and shows whether the three agree.

The digest is that of a sha256sum manifest: one line "<sha256 of the file>  <path>" per
file, paths relative to the project's root in byte order. An expert can recompute it in
the container with the shell alone:

    cd /app && find contests portal templates static manage.py requirements.txt -type f \\
      ! -name '*.pyc' ! -name '*.mo' ! -path '*/__pycache__/*' \\
      | LC_ALL=C sort | xargs sha256sum | sha256sum
"""

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What runs: the code, its templates and static sources, and the pinned requirements.
INCLUDED = ("contests", "portal", "templates", "static", "manage.py", "requirements.txt")
# Made from the sources at run time or at build time (bytecode, compiled translations).
EXCLUDED_SUFFIXES = (".pyc", ".mo")


def source_files(root: Path = ROOT) -> list[str]:
    """The files the digest covers, as POSIX paths relative to `root`, in byte order."""
    found = []
    for name in INCLUDED:
        path = root / name
        candidates = [path] if path.is_file() else path.rglob("*")
        for candidate in candidates:
            if not candidate.is_file() or candidate.suffix in EXCLUDED_SUFFIXES:
                continue
            if "__pycache__" in candidate.parts:
                continue
            found.append(candidate.relative_to(root).as_posix())
    return sorted(found, key=lambda path: path.encode())


def manifest(root: Path = ROOT) -> str:
    lines = []
    for path in source_files(root):
        digest = hashlib.sha256((root / path).read_bytes()).hexdigest()
        lines.append(f"{digest}  {path}\n")
    return "".join(lines)


def source_digest(root: Path = ROOT) -> str:
    return hashlib.sha256(manifest(root).encode()).hexdigest()


if __name__ == "__main__":
    sys.stdout.write(source_digest() + "\n")
