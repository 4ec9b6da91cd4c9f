"""The tree shows the parts: the layering holds and no module grows past a readable size."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_moments_engine_knows_no_http_and_no_cache():
    for path in (ROOT / "contests" / "moments").glob("*.py"):
        imported = _imports(path)
        assert not {name for name in imported if name.startswith("django.http")}, path
        assert not {name for name in imported if name.startswith("django.core.cache")}, path


def test_no_module_outside_tests_and_migrations_is_long():
    long_modules = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests"} or "migrations" in parts:
            continue
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES:
            long_modules.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long_modules
