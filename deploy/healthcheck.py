"""Docker's health check of a web container: GET /healthz from gunicorn, exit 0 only on 200.

`healthcheck.py` asks /healthz (liveness: the image's HEALTHCHECK); `healthcheck.py /readyz`
asks readiness (the compose service's check, which Nginx waits for). docs/monitoring.md.

It asks gunicorn directly (GUNICORN_BIND's port on 127.0.0.1) with a Host header that
DJANGO_ALLOWED_HOSTS accepts, since Django answers 400 to any other. Plain Python: the slim
image has no curl.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def allowed_host() -> str:
    """The first allowed host, as a Host header ('.example.com' and '*' allow these too)."""
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    if first in ("", "*"):
        return "localhost"
    return first.lstrip(".")


def health_url(path: str = "/healthz") -> str:
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    return f"http://127.0.0.1:{port}{path}"


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    if path not in ("/healthz", "/readyz"):
        print(f"usage: healthcheck.py [/healthz|/readyz], not {path}", file=sys.stderr)
        return 2
    request = urllib.request.Request(health_url(path), headers={"Host": allowed_host()})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
