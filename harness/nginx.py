"""Nginx on loopback with the production template (deploy/nginx/templates), rendered as the
official nginx image renders it: for the tests, and by hand.

    nginx = start_nginx([one.address, two.address], directory=tmp)   # one upstream block
    nginx.directory / "nginx-access.log"     # upstream=127.0.0.1:PORT on every line
    nginx.https("/play/?contest=C0001")      # TLS under the portal's name, no DNS
    nginx.http("/nginx-health", host="127.0.0.1")

Without `certificate`, a throwaway self-signed one for `server_name` is made with openssl;
`nginx.cafile` is what a client trusts. Every path Nginx writes is under `directory`.
"""

import http.client
import os
import re
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.servers import LOOPBACK, ROOT, Response, Server, exchange, free_port, start

TEMPLATES = ROOT / "deploy" / "nginx" / "templates"
# The image's envsubst step substitutes only variables whose names match this filter
# (NGINX_ENVSUBST_FILTER in docker-compose.prod.yml).
NAME_FILTER = re.compile(r"^NGINX_")
# envsubst's syntax: $NAME or ${NAME}, NAME being the longest run of name characters.
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
SERVER_NAME = "portal.test"


def render(text: str, environment: Mapping[str, str]) -> str:
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


def render_templates(directory: Path, variables: Mapping[str, str]) -> Path:
    """As the image does: templates/X.conf.template becomes conf.d/X.conf; return conf.d."""
    conf_d = directory / "conf.d"
    conf_d.mkdir(exist_ok=True)
    for template in TEMPLATES.glob("*.template"):
        rendered = render(template.read_text(), variables)
        (conf_d / template.name.removesuffix(".template")).write_text(rendered)
    return conf_d


def main_config(directory: Path) -> Path:
    """What the image's own nginx.conf provides around conf.d/, with every path in it."""
    temp = directory / "nginx-temp"
    temp.mkdir(exist_ok=True)
    # The template's access_log is /dev/stdout: the container's log, here a file.
    config = f"""
        {"user root;" if os.geteuid() == 0 else ""}
        daemon off;
        worker_processes 1;
        pid {directory}/nginx.pid;
        error_log {directory}/nginx-error.log notice;
        events {{ worker_connections 256; }}
        http {{
            include /etc/nginx/mime.types;
            default_type application/octet-stream;
            sendfile on;
            keepalive_timeout 65;
            client_body_temp_path {temp}/body;
            proxy_temp_path {temp}/proxy;
            fastcgi_temp_path {temp}/fastcgi;
            uwsgi_temp_path {temp}/uwsgi;
            scgi_temp_path {temp}/scgi;
            include {directory}/conf.d/*.conf;
        }}
    """
    path = directory / "nginx.conf"
    path.write_text(config)
    return path


def self_signed_certificate(
    directory: Path, host: str = SERVER_NAME, openssl: str = "openssl"
) -> tuple[Path, Path]:
    """A two-day certificate for `host` and its key, made with openssl: (cert, key)."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", f"/CN={host}"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class _NamedHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 under a host name (SNI and Host), without any DNS."""

    def connect(self):
        sock = socket.create_connection((LOOPBACK, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Nginx(Server):
    """Nginx in front of the upstreams: `port` is HTTPS, `http_port` plain HTTP."""

    server_name: str = SERVER_NAME
    http_port: int
    cafile: Path
    directory: Path

    @property
    def https_port(self) -> int:
        return self.port

    def https_connection(
        self, *, host: str | None = None, source: str = LOOPBACK, timeout: float = 10
    ) -> http.client.HTTPSConnection:
        """A connection (not yet open) that trusts `cafile`, from the address `source`."""
        context = ssl.create_default_context(cafile=self.cafile)
        return _NamedHTTPS(
            host or self.server_name,
            self.port,
            context=context,
            timeout=timeout,
            source_address=(source, 0),
        )

    def https(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        source: str = LOOPBACK,
        host: str | None = None,
    ) -> Response:
        """One request over TLS, from `source` (any 127.x address) under `host`."""
        connection = self.https_connection(host=host, source=source)
        return exchange(connection, method, path, headers, body)

    def http(
        self, path: str, *, headers: Mapping[str, str] | None = None, host: str | None = None
    ) -> Response:
        """One plain HTTP GET, with `host` (the portal's name by default) as Host."""
        connection = http.client.HTTPConnection(LOOPBACK, self.http_port, timeout=10)
        headers = {"Host": host or self.server_name, **(headers or {})}
        return exchange(connection, "GET", path, headers)


SIGN_IN_ADMIN_AND_PLANS_LIMITS = {
    "NGINX_SIGNIN_RATE": "10r/m",
    "NGINX_SIGNIN_BURST": "10",
    "NGINX_ADMIN_PATH": "/admin/",
    "NGINX_ADMIN_RATE": "5r/s",
    "NGINX_ADMIN_BURST": "50",
    "NGINX_PLANS_RATE": "2r/s",
    "NGINX_PLANS_BURST": "10",
}


def start_nginx(
    upstreams: Sequence[str],
    *,
    directory: Path | None = None,
    server_name: str = SERVER_NAME,
    certificate: tuple[Path, Path] | None = None,
    static_root: Path | None = None,
    play_rate: str = "20r/s",
    play_burst: int = 40,
    limits: Mapping[str, str] | None = None,
    nginx: str = "nginx",
    openssl: str = "openssl",
    timeout: float = 20,
) -> Nginx:
    """Start Nginx with the production template, balancing over `upstreams` ("host:port").

    The play rate and burst default to .env.prod.example's. `directory` (a new temporary
    one by default; pytest's tmp_path in tests) gets the rendered configuration, the
    certificate, the logs (nginx-access.log, where the template's access_log goes, and
    nginx-error.log) and Nginx's temporary files. Nginx passes each /play/ to one upstream
    only (proxy_next_upstream off): the first play sent to a stopped one gets the 502.
    """
    if not upstreams:
        raise ValueError("start_nginx needs at least one upstream")
    directory = Path(directory or tempfile.mkdtemp(prefix="harness-nginx-"))
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = certificate or self_signed_certificate(directory, server_name, openssl)
    http_port, https_port = free_port(), free_port()
    variables = {
        "NGINX_SERVER_NAME": server_name,
        "NGINX_HTTP_LISTEN": f"{LOOPBACK}:{http_port}",
        "NGINX_HTTPS_LISTEN": f"{LOOPBACK}:{https_port}",
        "NGINX_SSL_CERTIFICATE": str(cert),
        "NGINX_SSL_CERTIFICATE_KEY": str(key),
        # The template has one `server ${NGINX_UPSTREAM_SERVER};` line in its upstream
        # block: several servers are that line's value joined by "; server ".
        "NGINX_UPSTREAM_SERVER": ";\n    server ".join(upstreams),
        "NGINX_STATIC_ROOT": str(static_root or directory / "static"),
        "NGINX_PLAY_RATE": play_rate,
        "NGINX_PLAY_BURST": str(play_burst),
        # The other limits, .env.prod.example's unless `limits` says otherwise.
        **SIGN_IN_ADMIN_AND_PLANS_LIMITS,
        **(limits or {}),
    }
    render_templates(directory, variables)
    config = main_config(directory)
    error_log = directory / "nginx-error.log"
    started = start(
        [nginx, "-p", str(directory), "-c", str(config), "-e", str(error_log)],
        log=directory / "nginx-access.log",
    )
    server = Nginx("nginx", started.process, port=https_port, log=error_log)
    server.server_name, server.http_port, server.cafile = server_name, http_port, cert
    server.directory = directory
    try:
        server.wait_for_port(seconds=timeout)
    except BaseException:
        server.stop()
        raise
    return server
