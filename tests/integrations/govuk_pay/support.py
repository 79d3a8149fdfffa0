"""GOV.UK Pay's API on this machine, for the tests: where Prism and the spec are, a recording
proxy in front of Prism, and what a scripted stand-in server answers. The fixtures that start
them are in conftest.py."""

import dataclasses
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.markers import tool_missing  # noqa: F401 - used here and by importers

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO.parent / "shared" / "govuk-pay" / "publicapi_spec.json"
PRISM = REPO / "node_modules" / ".bin" / "prism"
PRISM_STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Exchange:
    """One request the plugin made to Prism, and Prism's verdict on it."""

    method: str
    path: str
    headers: httpx.Headers
    body: bytes
    status: int
    answer: bytes
    violations: list

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300 and not self.violations


def _request_violations(status: int, headers, answer: bytes) -> list:
    """What Prism found wrong with the request (never with its own example answer)."""
    found = json.loads(headers.get("sl-violations") or "[]")
    found = [v for v in found if (v.get("location") or [""])[0] == "request"]
    if status == 422 and "problem+json" in headers.get("content-type", ""):
        # Prism's own 422, for an operation whose spec has no 422 answer.
        found += json.loads(answer).get("validation", [])
    return found


class PrismRecorder:
    """A loopback proxy in front of Prism that keeps every exchange, for tests to assert on."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in {"host", "content-length", "connection"}
                }
                answer = httpx.request(
                    self.command, upstream + self.path, headers=headers, content=body, timeout=30
                )
                recorder.exchanges.append(
                    Exchange(
                        method=self.command,
                        path=self.path,
                        headers=httpx.Headers(list(self.headers.items())),
                        body=body,
                        status=answer.status_code,
                        answer=answer.content,
                        violations=_request_violations(
                            answer.status_code, answer.headers, answer.content
                        ),
                    )
                )
                self.send_response(answer.status_code)
                for name in ("content-type", "sl-violations"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def only(self, method: str, path_start: str) -> Exchange:
        """The one exchange of ``method`` to a path starting ``path_start``."""
        matching = [
            e for e in self.exchanges if e.method == method and e.path.startswith(path_start)
        ]
        assert len(matching) == 1, [(e.method, e.path) for e in self.exchanges]
        return matching[0]

    def assert_all_accepted(self):
        assert self.exchanges, "the plugin made no request to GOV.UK Pay"
        refused = [
            (e.method, e.path, e.status, e.violations) for e in self.exchanges if not e.accepted
        ]
        assert not refused, f"Prism refused requests as invalid for the spec: {refused}"


@dataclasses.dataclass
class Scripted:
    """What a ``loopback_provider`` answers every request with."""

    status: int = 200
    body: dict | list | None = None
    delay_seconds: float = 0.0
    raw: bytes | None = None  # sent as it is instead of ``body`` as JSON


API_KEY = "api_test_not-a-real-key-0123456789"
SIGNING_SECRET = "webhook_test_signing-secret"
