"""Through Nginx, as deployed: the collected static files, served by Nginx itself with the
right caching, and the pages that link to them (tests/topology.py starts it all)."""

from tests.topology import hashed


def test_nginx_serves_hashed_static_files_with_year_long_immutable_caching(topology):
    path = f"/static/{hashed(topology, 'admin/css/base.css')}"
    answer = topology.https(path, headers={"X-Request-ID": "static-probe"})
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/css"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert b".module" in answer.body
    # Not Django: it would have set X-Request-ID, and gunicorn would have logged it.
    assert "X-Request-ID" not in answer.headers
    marker = "after-static-probe"
    topology.https("/healthz", headers={"X-Request-ID": marker})
    log = topology.logged_by_gunicorn(f"rid={marker}")
    assert "/static/" not in log
    assert "rid=static-probe " not in log


def test_nginx_sends_the_precompressed_file_whitenoise_wrote(topology):
    name = hashed(topology, "admin/css/base.css")
    answer = topology.https(f"/static/{name}", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    # Byte for byte the .gz from collectstatic, not a compression made on the fly.
    assert answer.body == (topology.published / f"{name}.gz").read_bytes()
    assert answer.headers["Content-Length"] == str(len(answer.body))


def test_unhashed_static_names_are_revalidated(topology):
    answer = topology.https("/static/admin/css/base.css")
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-cache"


def test_the_release_lock_is_not_served(topology):
    assert (topology.published / ".release.lock").exists()
    assert topology.https("/static/.release.lock").status == 404


def test_the_admin_login_page_renders_with_its_css(topology):
    answer = topology.https("/admin/login/")
    assert answer.status == 200
    css = f"/static/{hashed(topology, 'admin/css/base.css')}"
    assert f'href="{css}"'.encode() in answer.body
    assert topology.https(css).status == 200
    # Production cookies only travel over HTTPS.
    assert "Secure" in answer.headers["Set-Cookie"]
    # Django's security headers, each once: Nginx adds its own only where Django did not.
    assert answer.headers.get_all("X-Frame-Options") == ["DENY"]
    assert len(answer.headers.get_all("Strict-Transport-Security")) == 1
