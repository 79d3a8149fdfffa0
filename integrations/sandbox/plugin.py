"""The sandbox payment provider: a pretend card provider with its own hosted card page.

It behaves like a real provider's test mode, for demos and browser tests:
the payer is sent to a card page served by this system under
``/plugins/sandbox/``, enters a test card, and is sent back. No money moves
and no card number is kept. See docs/integrations/sandbox.md.
"""

from django import forms
from django.urls import path

from backoffice.payments.models import PaymentStatus
from plugins import hookimpl
from plugins.types import (
    InvalidCallback,
    PluginInfo,
    PluginKind,
    ProviderError,
    ProviderStart,
    ProviderStatus,
    RefundResult,
    SecretField,
)

from . import services, views
from .models import CardPaymentState, SandboxPayment

# The sandbox's states in the system's words. Open ones are still ``in_progress``.
STATUS_OF_STATE = {
    CardPaymentState.CREATED: PaymentStatus.IN_PROGRESS,
    CardPaymentState.STARTED: PaymentStatus.IN_PROGRESS,
    CardPaymentState.SUCCESS: PaymentStatus.SUCCESS,
    CardPaymentState.DECLINED: PaymentStatus.FAILED,
    CardPaymentState.CANCELLED: PaymentStatus.CANCELLED,
    CardPaymentState.EXPIRED: PaymentStatus.EXPIRED,
}


class OptionalSecretField(SecretField):
    # The sandbox works without callbacks, so it can be enabled without this secret.
    needed_to_enable = False


class SandboxSettingsForm(forms.Form):
    """A council's settings for the sandbox: what the card page calls the council, callbacks."""

    display_name = forms.CharField(
        label="Name shown on the card page",
        max_length=100,
        required=False,
        help_text="Who the payer is paying, e.g. 'Barchester City Council'. "
        "Blank shows the council's name.",
    )
    send_callbacks = forms.BooleanField(
        label="Send callbacks",
        required=False,
        help_text="Send a signed callback to this system when the payer finishes, "
        "as a real provider does. Needs a signing secret.",
    )
    signing_secret = OptionalSecretField(
        label="Callback signing secret",
        help_text="Any long random text. Callbacks are signed with it (HMAC-SHA256) and "
        "checked against it.",
    )

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        super().__init__(*args, **kwargs)


def _sandbox_payment(integration, payment) -> SandboxPayment:
    """The sandbox's record of ``payment``; ``ProviderError`` if it has none (a 404)."""
    try:
        return SandboxPayment.objects.get(
            organisation_id=integration.organisation_id,
            integration=integration,
            pk=payment.provider_reference,
        )
    except SandboxPayment.DoesNotExist:
        raise ProviderError(f"The sandbox has no payment '{payment.provider_reference}'.") from None


@hookimpl
def ims_plugin_info():
    """The sandbox is a payment provider with a small settings form and an optional secret."""
    return PluginInfo(
        name="sandbox",
        title="Sandbox card payments",
        kinds=(PluginKind.PAYMENT_PROVIDER,),
        description="A pretend card provider for demos and tests: its own card page, "
        "test cards only, no real money.",
        settings_form=SandboxSettingsForm,
    )


@hookimpl
def ims_urlpatterns():
    """The hosted card page, at /plugins/sandbox/pay/<sandbox payment id>/."""
    return [path("pay/<str:sandbox_payment_id>/", views.card_page, name="card_page")]


@hookimpl
def ims_provider_start(integration, payment, return_url, moto):
    """Record the payment at the sandbox and send the payer (or, for a card over the phone,
    the member of staff: ``moto``) to its card page."""
    # What the payer sees they are paying for: the service, or the fund's public name.
    lines = payment.lines.select_related("fund_code", "service").order_by("pk")
    description = ", ".join(
        line.service.name if line.service else line.fund_code.display_name for line in lines
    )
    sandbox_payment = services.sandbox_payment_create(
        integration=integration,
        amount_pence=payment.total_pence,
        description=description,
        return_url=return_url,
        is_moto=bool(moto),
    )
    return ProviderStart(
        next_url=services.card_page_url(sandbox_payment),
        provider_reference=sandbox_payment.id,
    )


@hookimpl
def ims_provider_status(integration, payment):
    """The sandbox payment's state, in the system's words; an abandoned one expires."""
    sandbox_payment = services.sandbox_payment_expire_if_stale(
        _sandbox_payment(integration, payment)
    )
    return ProviderStatus(
        status=STATUS_OF_STATE[sandbox_payment.state],
        provider_reference=sandbox_payment.id,
        provider_status=sandbox_payment.state,
        message=services.DECLINED_MESSAGE
        if sandbox_payment.state == CardPaymentState.DECLINED
        else "",
        amount_pence=sandbox_payment.amount_pence,
    )


@hookimpl
def ims_provider_refund(integration, refund, amount_available_pence):
    """Refund within what the sandbox payment has left; refused with the reason otherwise."""
    try:
        sandbox_payment = _sandbox_payment(integration, refund.payment)
    except ProviderError as error:
        return RefundResult(accepted=False, message=str(error))
    return services.sandbox_refund(
        sandbox_payment=sandbox_payment, amount_pence=refund.amount_pence
    )


@hookimpl
def ims_provider_callback(integration, body, headers):
    """Verify a sandbox callback's HMAC-SHA256 signature and read its one event.

    The signature is keyed by the integration's signing secret; without one,
    every callback is refused (the payer's return and the periodic check
    still settle payments).
    """
    fields = services.callback_read(
        body=body, headers=headers, secret=integration.config.get("signing_secret", "")
    )
    known = SandboxPayment.objects.filter(
        organisation_id=integration.organisation_id, integration=integration
    )
    if not known.filter(pk=fields["payment_id"]).exists():
        raise InvalidCallback(f"The sandbox has no payment '{fields['payment_id']}'.")
    return [services.callback_event(fields, STATUS_OF_STATE[fields["state"]])]


@hookimpl
def ims_provider_settlements(integration, date_from, date_to):
    """The sandbox's payouts: every paid payment in full, the next day, no fee."""
    return services.sandbox_settlements(
        integration=integration, date_from=date_from, date_to=date_to
    )
