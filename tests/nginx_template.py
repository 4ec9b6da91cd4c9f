"""Render deploy/nginx/ templates as the official nginx image does, for tests and by hand."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "templates"
# The image's envsubst step substitutes only variables whose names match this filter
# (NGINX_ENVSUBST_FILTER in docker-compose.prod.yml).
NAME_FILTER = re.compile(r"^NGINX_")
# envsubst's syntax: $NAME or ${NAME}, NAME being the longest run of name characters.
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def render(text: str, environment: dict[str, str]) -> str:
    """Substitute the defined variables that pass the filter; leave every other $ alone."""
    defined = {name: value for name, value in environment.items() if NAME_FILTER.search(name)}

    def substitute(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return defined.get(name, match.group(0))

    return _REFERENCE.sub(substitute, text)


def referenced_names(text: str) -> set[str]:
    """The variables a template would take from the environment."""
    names = {m.group(1) or m.group(2) for m in _REFERENCE.finditer(text)}
    return {name for name in names if NAME_FILTER.search(name)}
