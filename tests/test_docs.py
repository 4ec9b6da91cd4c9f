"""The README stays a short front door, and what the docs point at exists.

Checked: README.md's length; every relative link in README.md and docs/ resolves to a file
of the repository (and a link to a heading, to a heading of that page); every repository
path the docs quote in `code` exists; every docs/ page that source files cite exists.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
TOPICS = ["api", "design", "deploy", "operations", "auditing", "benchmark"]

# Quoted paths under these folders must exist, except what runs create (results, logs,
# certificates that are never committed).
QUOTED_PATH = re.compile(
    r"`((?:\.ci|bench|bin|contests|deploy|docs|portal|static|templates|tests)/[\w./-]*)`"
)
CREATED_AT_RUN_TIME = ("bench/results/", "deploy/nginx/certs/")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CITED_PAGE = re.compile(r"(?<![\w./-])docs/[\w./-]+\.md\b")


def prose(path: Path) -> str:
    """The page without its fenced code blocks, whose text is shell or JSON, not links."""
    return re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)


def anchors(path: Path) -> set[str]:
    """The heading ids GitHub gives a page: lower case, punctuation dropped, spaces to '-'."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(path).splitlines():
        if match := re.match(r"#{1,6} (.+)", line):
            slug = re.sub(r"[^\w\- ]", "", match[1].strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_readme_is_at_most_200_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"


def test_every_topic_has_its_page_and_the_readme_maps_it():
    readme = (ROOT / "README.md").read_text()
    for topic in TOPICS:
        assert (DOCS / f"{topic}.md").is_file(), topic
        assert f"](docs/{topic}.md)" in readme, f"README.md does not link docs/{topic}.md"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:: not ours to check offline
        file_part, _, fragment = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists() or ROOT not in [resolved, *resolved.parents]:
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {name(resolved)}")
    assert not broken, f"{name(page)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_quoted_repository_paths_exist(page):
    missing = [
        quoted
        for quoted in QUOTED_PATH.findall(prose(page))
        if not quoted.startswith(CREATED_AT_RUN_TIME) and not (ROOT / quoted).exists()
    ]
    assert not missing, f"{name(page)} quotes paths that do not exist: {missing}"


def sources() -> list[Path]:
    """The project's own code and configuration: no virtualenv, no generated files."""
    skipped = {".git", ".venv", "__pycache__", "staticfiles", "test-results", "docs", "vendor"}
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [sub for sub in subfolders if sub not in skipped]
        found += [Path(folder, file) for file in files if not file.endswith((".pyc", ".sqlite3"))]
    return found


def test_pages_cited_by_the_code_exist():
    missing = {
        f"{name(source)}: {cited}"
        for source in sources()
        for cited in CITED_PAGE.findall(source.read_text(errors="replace"))
        if not (ROOT / cited).is_file()
    }
    assert not missing, sorted(missing)
