"""An example payment provider plugin, shipped as its own pip package.

It speaks a small JSON API, like a real card provider's: ``POST /payments``
starts a payment and answers where to send the payer; ``GET /payments/<id>``
says what became of it. Every request carries the council's API key as a
bearer token. The address of the API is a setting, so that the tests can
point it at a server on 127.0.0.1.
"""

import json
import urllib.error
import urllib.request

from django import forms

from plugins import hookimpl
from plugins.types import (
    PluginInfo,
    PluginKind,
    ProviderError,
    ProviderStart,
    ProviderStatus,
    SecretField,
)

NAME = "example_provider"

# The provider's words for a payment's state, in the system's words.
STATUSES = {
    "open": "in_progress",
    "paid": "success",
    "declined": "failed",
    "abandoned": "cancelled",
    "timed_out": "expired",
}


class ExampleProviderSettings(forms.Form):
    """A council's account with the example provider."""

    api_url = forms.URLField(
        label="API address",
        assume_scheme="https",
        help_text="The provider's API, e.g. https://api.provider.example/v1",
    )
    account_name = forms.CharField(label="Account name", max_length=50)
    api_key = SecretField(label="API key")

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        super().__init__(*args, **kwargs)

    def clean_account_name(self):
        name = self.cleaned_data["account_name"]
        if not name.startswith("council-"):
            raise forms.ValidationError("The account name starts with 'council-'.")
        return name


def _request(integration, method, path, body=None):
    config = integration.config
    # The address is the council's setting, validated as http(s) by the settings form.
    request = urllib.request.Request(  # noqa: S310
        config["api_url"].rstrip("/") + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {config['api_key']}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ProviderError(f"The example provider did not answer: {error}") from error


@hookimpl
def ims_plugin_info():
    """Who this plugin is, and its per-council settings."""
    return PluginInfo(
        name=NAME,
        title="Example card provider",
        kinds=(PluginKind.PAYMENT_PROVIDER,),
        description="Card payments through the example provider's hosted page.",
        settings_form=ExampleProviderSettings,
        version="0.3.1",
    )


@hookimpl
def ims_provider_start(integration, payment, return_url):
    """Create the payment with the provider; the payer is sent to its hosted page."""
    answer = _request(
        integration,
        "POST",
        "/payments",
        {
            "account": integration.config["account_name"],
            "amount": payment.total_pence,
            "currency": "GBP",
            "return_url": return_url,
        },
    )
    return ProviderStart(next_url=answer["next_url"], provider_reference=answer["id"])


@hookimpl
def ims_provider_status(integration, payment):
    """Ask the provider what became of the payment."""
    answer = _request(integration, "GET", f"/payments/{payment.provider_reference}")
    state = answer["state"]
    if state not in STATUSES:
        raise ProviderError(f"The example provider answered an unknown state '{state}'.")
    return ProviderStatus(
        status=STATUSES[state],
        provider_reference=answer["id"],
        provider_status=state,
        amount_pence=answer.get("amount"),
    )
