"""A real HTTP receiver of webhooks on 127.0.0.1, for the tests: it records every request and
answers as the test tells it (a status, or a wait longer than the sender's timeout)."""

import contextlib
import http.server
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next of `answers` (then `default`); records them all.

    An answer is an HTTP status, or ("hang", seconds): answer 200 only after that long,
    longer than the sender waits.
    """

    answers: list = field(default_factory=list)
    default: object = 200
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def next_answer(self):
        return self.answers.pop(0) if self.answers else self.default


def _handler(receiver: Receiver):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = receiver.next_answer()
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.received.append(Received(headers, body))
            receiver.arrived.set()
            if isinstance(answer, tuple):
                receiver.release.wait(answer[1])
                answer = 200
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    return Handler


@contextlib.contextmanager
def receiving(receiver: Receiver | None = None, port: int = 0):
    """Serve `receiver` on 127.0.0.1 (on `port`, or a free one) until the block ends."""
    receiver = receiver or Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
