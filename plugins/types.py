"""What plugins and the system pass each other: plain values, no models to write through.

A plugin answers a hook with one of these; the system (never the plugin)
turns the answer into domain writes through the services.
"""

import datetime
from dataclasses import dataclass, field

from django import forms
from django.db import models


class PluginKind(models.TextChoices):
    PAYMENT_PROVIDER = "payment_provider", "Payment provider"
    TELEPHONE = "telephone", "Telephone payments (IVR)"
    DEPARTMENTAL = "departmental", "Departmental system"


class SecretField(forms.CharField):
    """A setting that is a secret (API key, signing secret).

    Stored encrypted; its value is never sent back to a browser. Left blank
    when editing, the stored value is kept.
    """

    widget = forms.PasswordInput(render_value=False)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)


@dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is and what it needs, answered by ``ims_plugin_info``.

    ``settings_form`` is a Django form class: its fields are the settings a
    finance administrator edits per council, and its validation is the
    plugin's schema. Fields that are ``SecretField``s are stored encrypted.
    The form is built with ``organisation=`` as a keyword argument, so that
    it can offer that council's fund codes.
    """

    name: str
    title: str
    kinds: tuple[str, ...]
    description: str = ""
    settings_form: type[forms.Form] | None = None
    uses_api_key: bool = False
    version: str = ""

    def secret_field_names(self) -> list[str]:
        if self.settings_form is None:
            return []
        return [
            name
            for name, field_ in self.settings_form.base_fields.items()
            if isinstance(field_, SecretField)
        ]


class ProviderError(Exception):
    """The provider could not be reached or answered with an error.

    Raised by provider hooks; the payment is left as it was so that a later
    status check can settle it.
    """


class InvalidCallback(Exception):
    """A callback or webhook failed verification (bad signature, unknown shape).

    Nothing is changed; the sender gets a 4xx answer.
    """


@dataclass(frozen=True)
class ProviderStart:
    """Where to send the payer to pay, and the provider's own id for the payment."""

    next_url: str
    provider_reference: str


@dataclass(frozen=True)
class ProviderStatus:
    """A provider's view of one payment, mapped to the system's payment statuses.

    ``status`` is one of ``in_progress``, ``success``, ``failed``,
    ``cancelled``, ``expired``, ``error``. ``provider_status`` is the
    provider's own word for it, kept for the record.
    """

    status: str
    provider_reference: str
    provider_status: str = ""
    message: str = ""
    amount_pence: int | None = None

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"


@dataclass(frozen=True)
class CallbackEvent:
    """One event a provider told us about in a callback or webhook.

    ``event_id`` is the provider's id of the event (for idempotency);
    ``status`` is the payment's status as the event reports it, or empty for
    events that do not change the payment (a refund, a settlement).
    ``amount_pence``, where the provider says it, is checked against the
    payment's total before a success is recorded.
    """

    event_id: str
    provider_reference: str
    status: str = ""
    provider_status: str = ""
    event_type: str = ""
    amount_pence: int | None = None


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer to a refund request."""

    accepted: bool
    provider_reference: str = ""
    message: str = ""


@dataclass(frozen=True)
class Settlement:
    """Money a provider paid (or will pay) the council for one payment, net of its fee."""

    provider_reference: str
    amount_pence: int
    fee_pence: int = 0
    settled_on: datetime.date | None = None
    payout_reference: str = ""


@dataclass(frozen=True)
class ReferenceVerdict:
    """A departmental system's answer to "is this reference one of yours?"."""

    valid: bool
    reason: str = ""


@dataclass(frozen=True)
class ExportFile:
    """A file an export writer produced: its name and bytes, written atomically by the system."""

    filename: str
    content: bytes
    rows: int = 0
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TelephoneCheck:
    """An IVR asks: may this caller pay this amount against this fund and reference?"""

    fund_code: str
    reference: str
    amount_pence: int


@dataclass(frozen=True)
class TelephoneOutcome:
    """An IVR reports a card payment its own provider took (or failed to take).

    ``transaction_id`` is the IVR's id for the call's payment and makes the
    report idempotent: the same id reported twice records one payment.
    """

    transaction_id: str
    fund_code: str
    reference: str
    amount_pence: int
    succeeded: bool
    provider_reference: str = ""
    payer_name: str = ""
    payer_email: str = ""
    postcode: str = ""
    message: str = ""
