"""Find the command-line tools the deployment tests run; CI must have every one of them."""

import os
import shutil
import sys
from pathlib import Path

import pytest

# pip puts the console scripts of requirements-dev.txt (hadolint, check-jsonschema) here.
VENV_BIN = Path(sys.executable).parent


def missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI (.ci/run installs everything)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (.ci/run should have installed it)")
    pytest.skip(reason)


def tool(name: str, how: str) -> str:
    """The path of a command, from the virtualenv first, else from PATH."""
    found = VENV_BIN / name
    if found.exists():
        return str(found)
    # Daemons such as nginx live in sbin, which a non-root PATH may leave out.
    path = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if path is None:
        missing(f"{name} is not installed: {how}")
    return path
