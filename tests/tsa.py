"""A real RFC 3161 time-stamping authority on loopback, for tests: `openssl ts -reply`
behind a small threaded HTTP server, signing with a TSA certificate (extended key usage
critical timeStamping) issued by a CA that openssl makes for the test."""

import contextlib
import datetime as dt
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ tsa_cert ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
"""


def _openssl(*args: str, cwd: Path, at: str | None = None) -> None:
    # faketime: a TSA whose clock starts at `at` ("2020-02-09 12:00:00"), for contests of
    # the past; its certificates are made on the same clock, so they are valid then.
    command = ["faketime", at, "openssl"] if at else ["openssl"]
    subprocess.run([*command, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_authority(directory: Path, name: str = "Test TSA", at: str | None = None) -> Path:
    """A CA and a TSA certificate it issued, in `directory`; return the CA's PEM file.
    With `at`, issued a day before it, so that they are valid at every time stamped."""
    if at:
        at = str(dt.datetime.fromisoformat(at) - dt.timedelta(days=1))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tsa.cnf").write_text(CONFIG.format(dir=directory))
    (directory / "serial").write_text("01\n")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
        "-subj", f"/CN={name} CA", "-addext", "basicConstraints=critical,CA:true",
        "-addext", "keyUsage=critical,keyCertSign", cwd=directory, at=at,
    )  # fmt: skip
    _openssl(
        "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}",
        cwd=directory, at=at,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.pem", "-days", "3650",
        "-extfile", "tsa.cnf", "-extensions", "tsa_cert", cwd=directory, at=at,
    )  # fmt: skip
    return directory / "ca.pem"


@dataclass
class LocalTsa:
    url: str
    ca_certificate: Path
    directory: Path
    at: str | None = None
    # Answer this many requests with 503 first (a TSA that is down for a while).
    refuse_next: int = 0
    answered: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, query: bytes) -> bytes | None:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return None
            number = self.answered
            self.answered += 1
            (self.directory / f"q{number}.tsq").write_bytes(query)
            _openssl(
                "ts", "-reply", "-config", "tsa.cnf", "-section", "tsa_config",
                "-queryfile", f"q{number}.tsq", "-out", f"r{number}.tsr", cwd=self.directory,
                at=self.at,
            )  # fmt: skip
            return (self.directory / f"r{number}.tsr").read_bytes()


@contextlib.contextmanager
def local_tsa(directory: Path, name: str = "Test TSA", at: str | None = None):
    """Run a TSA on 127.0.0.1 until the block ends; yield its LocalTsa. With `at`, its
    clock starts then (faketime)."""
    ca = make_authority(directory, name, at)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                answer = tsa.reply(query)
            except subprocess.CalledProcessError:
                answer = None
                self.send_response(400)
            else:
                self.send_response(503 if answer is None else 200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer or b"")))
            self.end_headers()
            self.wfile.write(answer or b"")

        def log_message(self, format, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tsa = LocalTsa(f"http://127.0.0.1:{server.server_port}/tsa", ca, directory, at)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
