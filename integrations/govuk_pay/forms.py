"""The settings a finance administrator enters for a council's GOV.UK Pay account."""

import ipaddress
import string
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from plugins.types import SecretField

from .client import DEFAULT_BASE_URL

# What a description template may say, and what each placeholder becomes.
DESCRIPTION_PLACEHOLDERS = {
    "items": "what is being paid for, e.g. 'Parking PCN123; Council Tax 12345678'",
    "council": "the council's name",
    "payment": "the payment's number in this system",
}
DEFAULT_DESCRIPTION_TEMPLATE = "{items}"
LANGUAGES = [("en", "English"), ("cy", "Welsh (Cymraeg)")]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def placeholders_in(template: str) -> list[str]:
    """The ``{names}`` a description template uses, in order."""
    try:
        return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]
    except ValueError as error:
        raise ValidationError(
            f"The description template is not valid: {error}. Write a brace as '{{{{' or '}}}}'.",
            code="bad_template",
        ) from None


class GovukPaySettingsForm(forms.Form):
    """One council's GOV.UK Pay account: where the API is, its API key, its webhook secret."""

    base_url = forms.URLField(
        label="API address",
        initial=DEFAULT_BASE_URL,
        assume_scheme="https",
        help_text=f"GOV.UK Pay's public API: {DEFAULT_BASE_URL}. Change it only to test "
        "against a copy of the API on this machine.",
    )
    api_key = SecretField(
        label="API key",
        help_text="Create it in the GOV.UK Pay admin tool under Settings > API keys. A test "
        "account's key starts api_test_, a live account's api_live_.",
    )
    webhook_signing_secret = SecretField(
        label="Webhook signing secret",
        help_text="From the GOV.UK Pay admin tool: Settings > Webhooks > View. Without it every "
        "webhook is refused, and payments are settled only when the payer comes back or by "
        "the periodic check.",
    )
    # Payments still settle without webhooks, so the integration can be enabled without it.
    webhook_signing_secret.needed_to_enable = False
    language = forms.ChoiceField(
        label="Language of the payment pages",
        choices=LANGUAGES,
        initial="en",
        required=False,
    )
    description_template = forms.CharField(
        label="Description shown to the payer",
        max_length=255,
        required=False,
        initial=DEFAULT_DESCRIPTION_TEMPLATE,
        help_text="Shown on GOV.UK Pay's pages and in its admin tool. Placeholders: "
        + "; ".join(f"{{{name}}}: {meaning}" for name, meaning in DESCRIPTION_PLACEHOLDERS.items())
        + ". Leave blank for {items}.",
    )

    moto_enabled = forms.BooleanField(
        label="Take cards over the phone (MOTO)",
        required=False,
        help_text="Tick only once GOV.UK Pay has switched on MOTO payments for this account: "
        "staff at the counter or contact centre then take card payments over the phone "
        "through it.",
    )

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        super().__init__(*args, **kwargs)

    def clean_base_url(self):
        url = self.cleaned_data["base_url"].rstrip("/")
        parts = urlsplit(url)
        # The API key travels in every request: only over TLS, except to a
        # test copy of the API on this machine.
        if parts.scheme != "https" and not _is_loopback(parts.hostname or ""):
            raise ValidationError(
                "Use an https:// address: the API key is sent with every request.",
                code="insecure_base_url",
            )
        if parts.query or parts.fragment:
            raise ValidationError("Give the API's address without ? or #.", code="bad_base_url")
        return url

    def clean_language(self):
        return self.cleaned_data["language"] or "en"

    def clean_description_template(self):
        template = self.cleaned_data["description_template"].strip()
        unknown = sorted(set(placeholders_in(template)) - set(DESCRIPTION_PLACEHOLDERS))
        if unknown:
            raise ValidationError(
                f"Unknown placeholder {', '.join('{' + name + '}' for name in unknown)}: use "
                f"{', '.join('{' + name + '}' for name in DESCRIPTION_PLACEHOLDERS)}.",
                code="unknown_placeholder",
            )
        try:
            template.format(**dict.fromkeys(DESCRIPTION_PLACEHOLDERS, "x"))
        except (ValueError, KeyError, IndexError, AttributeError) as error:
            raise ValidationError(
                f"The description template cannot be filled in: {error}.", code="bad_template"
            ) from None
        return template
