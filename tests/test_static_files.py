"""Pages link the collected, hashed static files, and WhiteNoise serves them forever-cached."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

HASHED = re.compile(
    r'/static/(css/portal\.[0-9a-f]{12}\.css|vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css)"'
)


def test_pages_link_hashed_names(client):
    html = client.get("/accounts/login/").content.decode()
    names = HASHED.findall(html)
    assert len(names) == 2, "the page should link both stylesheets by hashed name"


def test_whitenoise_serves_a_hashed_name_with_a_forever_cache(client):
    html = client.get("/accounts/login/").content.decode()
    portal_css = next(name for name in HASHED.findall(html) if name.startswith("css/portal"))
    response = client.get(f"/static/{portal_css}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body == (Path(settings.BASE_DIR) / "static/css/portal.css").read_bytes()


def test_whitenoise_serves_the_compressed_copy_to_clients_that_accept_it(client):
    html = client.get("/accounts/login/").content.decode()
    bootstrap = next(name for name in HASHED.findall(html) if "bootstrap" in name)
    response = client.get(f"/static/{bootstrap}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


def test_bootstrap_comes_from_our_own_static_files_not_a_cdn(client, staff_client):
    html = staff_client.get("/").content.decode()
    assert "cdn" not in html.lower()
    assert re.search(
        r'<script src="/static/vendor/bootstrap/js/bootstrap\.bundle\.min\.[0-9a-f]{12}\.js">', html
    )
    assert (Path(settings.BASE_DIR) / "static/vendor/bootstrap/LICENSE").is_file()
