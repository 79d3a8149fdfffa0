"""A plugin shipped as its own pip package works with no change to the project.

``tests/plugins/third_party/ims-example-provider`` is installed for real, with
pip, into a temporary directory put on ``sys.path``, as a council's
developer would ``pip install`` a vendor's package. The system finds it
through its ``ims.plugins`` entry point, offers it in the admin, validates
its settings with its own form, and takes a payment through it. The
provider it speaks to is a real HTTP server on 127.0.0.1.
"""

import json
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.urls import reverse

from backoffice.payments.models import PaymentStatus
from backoffice.payments.services import LineInput, Payer, payment_create
from plugins import manager, online
from plugins.models import Integration

PACKAGE = Path(__file__).parent / "third_party" / "ims-example-provider"
API_KEY = "exk_live_3f9a1c7e"


@pytest.fixture(scope="session")
def pip_target(tmp_path_factory):
    """The example package, installed by pip (offline, once per test session)."""
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def example_provider_installed(pip_target, monkeypatch):
    """The installed package on ``sys.path`` and the manager rebuilt; all undone afterwards."""
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(pip_target))
        manager.reload()
        yield
    sys.modules.pop("ims_example_provider", None)
    manager.reload()


class ProviderAPI(BaseHTTPRequestHandler):
    """The example provider's API: create a payment, say what became of it, take the card."""

    payments: dict
    base_url: str

    def _answer(self, status, body=None):
        content = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _authorised(self):
        return self.headers.get("Authorization") == f"Bearer {API_KEY}"

    def do_POST(self):
        if self.path.startswith("/pay/"):
            # The payer completing the hosted card page.
            self.payments[self.path.removeprefix("/pay/")]["state"] = "paid"
            return self._answer(200)
        if not self._authorised():
            return self._answer(401, {"error": "bad key"})
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        payment_id = f"ex_{len(self.payments) + 1}"
        self.payments[payment_id] = {"id": payment_id, "state": "open", **body}
        self._answer(201, {"id": payment_id, "next_url": f"{self.base_url}/pay/{payment_id}"})

    def do_GET(self):
        if not self._authorised():
            return self._answer(401, {"error": "bad key"})
        payment = self.payments.get(self.path.removeprefix("/payments/"))
        if payment is None:
            return self._answer(404, {"error": "no such payment"})
        self._answer(200, payment)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def provider_api():
    """The provider, served on 127.0.0.1: its base URL and the payments it holds."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProviderAPI)
    base_url = f"http://127.0.0.1:{server.server_port}"
    payments = {}
    server.RequestHandlerClass = type(
        "Handler", (ProviderAPI,), {"payments": payments, "base_url": base_url}
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, payments
    server.shutdown()
    server.server_close()


def settings_post(base_url, **changes):
    return {
        "key": "example-parking",
        "title": "Example provider (parking)",
        "is_enabled": "on",
        "settings-api_url": base_url,
        "settings-account_name": "council-barsetshire",
        "settings-api_key": API_KEY,
        **changes,
    }


def test_it_is_found_with_its_distribution_and_version_as_source(example_provider_installed):
    plugins = {plugin.name: plugin for plugin in manager.installed_plugins()}

    example = plugins["example_provider"]
    assert example.source == "ims-example-provider 0.3.1"
    assert example.info.title == "Example card provider"
    assert example.info.secret_field_names() == ["api_key"]


def test_it_is_there_while_its_package_is_installed_and_only_then(pip_target, monkeypatch):
    def names():
        return {plugin.name for plugin in manager.installed_plugins()}

    assert "example_provider" not in names()
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(pip_target))
        manager.reload()
        assert "example_provider" in names()
    sys.modules.pop("ims_example_provider", None)
    manager.reload()
    assert "example_provider" not in names()


def test_the_admin_lists_it_and_its_own_form_validates_its_settings(
    example_provider_installed, admin_client, council, provider_api
):
    base_url, _ = provider_api

    listing = admin_client.get(reverse("plugins_integrations:index"))
    refused = admin_client.post(
        reverse("plugins_integrations:add", args=["example_provider"]),
        settings_post(base_url, **{"settings-account_name": "barsetshire"}),
    )

    assert b"Example card provider" in listing.content
    assert b"ims-example-provider 0.3.1" in listing.content
    assert refused.status_code == 200
    assert refused.context["plugin_form"].errors == {
        "account_name": ["The account name starts with 'council-'."]
    }
    assert API_KEY.encode() not in refused.content
    assert not Integration.objects.exists()


def test_a_payment_begins_and_settles_through_it(
    example_provider_installed, admin_client, council, parking, provider_api
):
    base_url, provider_payments = provider_api
    response = admin_client.post(
        reverse("plugins_integrations:add", args=["example_provider"]), settings_post(base_url)
    )
    assert response.status_code == 302
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 3_500, account_reference="PCN42")],
        payer=Payer(name="Pat Payer"),
        provider="example-parking",
    )

    next_url = online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert next_url == f"{base_url}/pay/{payment.provider_reference}"
    assert provider_payments[payment.provider_reference]["amount"] == 3_500

    # The payer pays on the provider's page, then comes back.
    urllib.request.urlopen(urllib.request.Request(next_url, method="POST"), timeout=5).close()  # noqa: S310
    settled = online.payment_refresh(payment)

    assert settled.status == PaymentStatus.SUCCESS
    assert settled.receipt_number
    assert settled.status_changes.filter(
        to_status=PaymentStatus.SUCCESS, actor="example-parking"
    ).exists()
