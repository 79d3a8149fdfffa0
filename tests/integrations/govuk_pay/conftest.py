"""GOV.UK Pay's published API on this machine: Prism serving its OpenAPI spec, and loopback servers.

Prism (``@stoplight/prism-cli``, installed from npm by ``make browser-deps``)
mocks GOV.UK Pay's public API from the spec in ``../shared/govuk-pay`` and
checks every request against it: a request the real API would refuse for its
shape is answered 422 and its violations are listed (in the ``sl-violations``
header, or in the body of Prism's own 422). The plugin talks to Prism through
a small recording proxy, so that each test can assert that Prism accepted
every request the plugin made, and read what was sent.

Prism is not run with ``--errors``: the spec's own example answers break the
spec in places (``metadata`` and ``_links.*.params`` examples are strings where
the schema says object), and ``--errors`` turns that into a 500 for every
valid request. Response violations are GOV.UK Pay's to fix; request
violations are ours, and those are what the tests check.
"""

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .support import (
    API_KEY,
    PRISM,
    PRISM_STARTUP_SECONDS,
    REPO,
    SIGNING_SECRET,
    SPEC,
    PrismRecorder,
    Scripted,
    free_port,
    tool_missing,
)


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + PRISM_STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Prism stopped while starting:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    pytest.fail(f"Prism did not listen within {PRISM_STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory):
    """The address of Prism mocking GOV.UK Pay's public API, for the whole test session."""
    if not SPEC.exists():
        pytest.skip("../shared/govuk-pay is not beside this checkout")
    if not PRISM.exists():
        tool_missing(f"Prism is not installed at {PRISM}: run `make browser-deps`")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    try:
        _wait_until_listening(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        # Prism (node) stops at once on an interrupt, but takes seconds over a SIGTERM.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def _prism_recorder(prism_url):
    recorder = PrismRecorder(prism_url)
    yield recorder
    recorder.stop()


@pytest.fixture
def govuk_pay_api(_prism_recorder):
    """GOV.UK Pay's API as Prism mocks it, with this test's exchanges only (``.exchanges``)."""
    _prism_recorder.exchanges.clear()
    return _prism_recorder


# A stand-in for GOV.UK Pay that answers as a test tells it to -------------------------


@pytest.fixture
def loopback_provider():
    """``loopback_provider(Scripted(...))``: a real HTTP server on 127.0.0.1 answering as told.

    For what Prism cannot be made to do: fail with a 500, answer too slowly,
    or report a payment as succeeded. ``.answer`` can be changed between calls;
    ``.requests`` lists (method, path) of what it was asked.
    """
    servers = []

    def start(script: Scripted):
        requests = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                current = server.answer
                if current.delay_seconds:
                    time.sleep(current.delay_seconds)
                content = current.raw
                if content is None:
                    content = json.dumps(current.body if current.body is not None else {}).encode()
                try:
                    self.send_response(current.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as the timeout tests intend

            do_GET = do_POST = _answer

            def log_message(self, format, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.answer = script
        server.requests = requests
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# A council that takes payments through GOV.UK Pay --------------------------------------


@pytest.fixture
def govuk_pay_integration(council):
    """``govuk_pay_integration(base_url)``: the council's enabled GOV.UK Pay integration."""
    from tests.factories import integration

    def make(base_url: str, **settings):
        return integration(
            council,
            plugin="govuk_pay",
            key="govuk-pay",
            title="GOV.UK Pay",
            settings={
                "base_url": base_url,
                "api_key": API_KEY,
                "webhook_signing_secret": SIGNING_SECRET,
                "language": "en",
                "description_template": "",
                **settings,
            },
        )

    return make


@pytest.fixture
def online_payment(council, parking):
    """``online_payment(amount_pence=1200)``: a created online card payment through GOV.UK Pay.

    £12.00 by default: the amount in the spec's example answers, which Prism returns.
    """
    from backoffice.funds.models import Channel
    from backoffice.payments.models import Method
    from backoffice.payments.services import LineInput, Payer, payment_create

    def make(amount_pence: int = 1200, payer: Payer | None = None):
        return payment_create(
            organisation=council,
            channel=Channel.ONLINE,
            method=Method.CARD,
            lines=[
                LineInput(fund_code=parking, amount_pence=amount_pence, account_reference="PCN123")
            ],
            payer=payer or Payer(name="Ada Lovelace", email="ada@example.org"),
            provider="govuk-pay",
        )

    return make
