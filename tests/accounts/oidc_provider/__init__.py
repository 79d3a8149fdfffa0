"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests.

``provider.mjs`` beside this file runs npm's ``oidc-provider`` (installed by
``make browser-deps``) with one client, this system, and the accounts a test gives it.
Where Node or the package is missing the tests skip, and fail under CI=true.
"""

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
PACKAGE = REPO / "node_modules" / "oidc-provider"
STARTUP_SECONDS = 20
CLIENT_ID = "income-management"
CLIENT_SECRET = "test-only-client-secret-of-at-least-32-characters"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningProvider:
    issuer: str
    accounts_file: Path

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """The provider's accounts from now on: each account id (its ``sub``) and its claims."""
        self.accounts_file.write_text(json.dumps(accounts), encoding="utf-8")


def _wait_for_discovery(issuer: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oidc-provider stopped while starting:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"oidc-provider gave no discovery document in {STARTUP_SECONDS}s:\n"
        f"{log.read_text()[-3000:]}"
    )


@contextlib.contextmanager
def running_provider(folder: Path, *, relying_party_url: str):
    """Start the provider for the system at ``relying_party_url``; stop it afterwards."""
    from tests.markers import tool_missing  # skip locally, fail under CI=true

    node = shutil.which("node")
    if node is None:
        tool_missing("Node.js is not installed: it runs the OpenID Connect provider")
    if not PACKAGE.exists():
        tool_missing(f"oidc-provider is not installed at {PACKAGE}: run `make browser-deps`")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    provider = RunningProvider(issuer=issuer, accounts_file=folder / "accounts.json")
    provider.set_accounts({})
    config = folder / "provider.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "accounts_file": str(provider.accounts_file),
                "client": {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [f"{relying_party_url}/oidc/callback/"],
                    "post_logout_redirect_uris": [f"{relying_party_url}/admin/login/"],
                },
            }
        ),
        encoding="utf-8",
    )
    log = folder / "provider.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [node, str(SCRIPT), str(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    try:
        _wait_for_discovery(issuer, process, log)
        yield provider
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
