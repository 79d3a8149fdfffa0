"""GOV.UK Pay as a payment provider: the plugin's hook implementations.

The payer pays on GOV.UK Pay's own pages (no card number touches this
system). This plugin creates the payment there, asks what became of it,
reads GOV.UK Pay's signed webhooks, sends refunds and lists settlements;
the system records every answer through its payment services.
See docs/integrations/govuk_pay.md.
"""

import datetime
import logging

from backoffice.payments.models import PaymentStatus
from plugins import hookimpl
from plugins.types import (
    PluginInfo,
    PluginKind,
    ProviderError,
    ProviderStart,
    ProviderStatus,
    RefundResult,
    Settlement,
)

from . import webhooks
from .client import Refusal, client_for
from .forms import DEFAULT_DESCRIPTION_TEMPLATE, GovukPaySettingsForm
from .mapping import payment_status, provider_status

logger = logging.getLogger(__name__)

# GOV.UK Pay's limits on what a payment may carry.
MAX_TEXT = 255
MAX_METADATA_VALUE = 100
# Results per page of a payment search: GOV.UK Pay's maximum.
SEARCH_PAGE_SIZE = 500


@hookimpl
def ims_plugin_info():
    """GOV.UK Pay: a payment provider, set up per council with an API key and webhook secret."""
    return PluginInfo(
        name="govuk_pay",
        title="GOV.UK Pay",
        kinds=(PluginKind.PAYMENT_PROVIDER,),
        description="Card, Apple Pay and Google Pay payments on GOV.UK Pay's hosted pages, "
        "refunds, and settlement reports, through GOV.UK Pay's public API.",
        settings_form=GovukPaySettingsForm,
    )


# Starting a payment ------------------------------------------------------------------


def payment_reference(payment) -> str:
    """The reference GOV.UK Pay shows for a payment: this system's payment number.

    Known before any receipt number (that is issued only once the money is
    taken), and what staff search for in GOV.UK Pay's admin tool.
    """
    return f"IMS-{payment.pk}"


def _items(payment) -> str:
    lines = payment.lines.select_related("fund_code", "service").order_by("pk")
    return "; ".join(
        " ".join(
            part
            for part in (
                line.service.name if line.service else line.fund_code.name,
                line.account_reference,
            )
            if part
        )
        for line in lines
    )


def payment_description(payment, template: str = "") -> str:
    """What the payer reads on GOV.UK Pay's pages, from the council's template."""
    values = {"items": _items(payment), "council": payment.organisation.name, "payment": payment.pk}
    try:
        text = (template or DEFAULT_DESCRIPTION_TEMPLATE).format(**values)
    except (ValueError, KeyError, IndexError, AttributeError):
        # The settings form refuses such templates; one stored before that
        # check must not stop the council taking payments.
        logger.warning("GOV.UK Pay description template not usable; the default is used.")
        text = DEFAULT_DESCRIPTION_TEMPLATE.format(**values)
    return _clip(text.strip() or f"Payment {payment.pk}", MAX_TEXT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prefilled_cardholder_details(payment) -> dict | None:
    address = {
        "line1": payment.address_line_1,
        "line2": payment.address_line_2,
        "city": payment.town,
        "postcode": payment.postcode,
    }
    address = {name: value for name, value in address.items() if value}
    details = {}
    if payment.payer_name:
        details["cardholder_name"] = _clip(payment.payer_name, MAX_TEXT)
    if address:
        # Payers on a UK council's pages; they can change it on GOV.UK Pay's page.
        details["billing_address"] = {**address, "country": "GB"}
    return details or None


def create_payment_request(payment, return_url: str, config: dict, *, moto: bool = False) -> dict:
    """The body of POST /v1/payments for ``payment``; ``moto`` for a card over the phone."""
    fund_codes = sorted({line.fund_code.code for line in payment.lines.select_related("fund_code")})
    body = {
        "amount": payment.total_pence,
        "reference": payment_reference(payment),
        "description": payment_description(payment, config.get("description_template", "")),
        "return_url": return_url,
        "language": config.get("language") or "en",
        # Found again in GOV.UK Pay's admin tool and reports.
        "metadata": {
            "ims_payment": str(payment.pk),
            "ims_council": payment.organisation.code[:MAX_METADATA_VALUE],
            "ims_fund_codes": _clip(",".join(fund_codes), MAX_METADATA_VALUE),
        },
    }
    if moto:
        # Staff type the card details a caller reads out: no 3-D Secure for the cardholder.
        body["moto"] = True
    if payment.payer_email:
        body["email"] = payment.payer_email
    prefilled = _prefilled_cardholder_details(payment)
    if prefilled:
        body["prefilled_cardholder_details"] = prefilled
    return body


def idempotency_key(integration, payment) -> str:
    """The same payment started again (the payer retrying) gets the same GOV.UK Pay payment."""
    return f"ims-{integration.public_id}-payment-{payment.pk}"


@hookimpl
def ims_provider_start(integration, payment, return_url, moto):
    """Create the payment on GOV.UK Pay; the payer (or, with ``moto``, the member of staff
    taking a card over the phone) is sent to its ``next_url``."""
    if moto and not integration.config.get("moto_enabled"):
        raise ProviderError(
            f"MOTO payments are not switched on for {integration.title}: ask GOV.UK Pay to "
            "switch them on, then tick 'Take cards over the phone (MOTO)' in its settings."
        )
    client = client_for(integration)
    answer = client.create_payment(
        create_payment_request(payment, return_url, integration.config, moto=bool(moto)),
        idempotency_key=idempotency_key(integration, payment),
    )
    next_url = ((answer.get("_links") or {}).get("next_url") or {}).get("href")
    payment_id = answer.get("payment_id")
    if not next_url or not payment_id:
        raise ProviderError(
            "GOV.UK Pay created the payment but its answer had no _links.next_url or payment_id."
        )
    return ProviderStart(next_url=next_url, provider_reference=payment_id)


# Asking about a payment --------------------------------------------------------------


@hookimpl
def ims_provider_status(integration, payment):
    """What GOV.UK Pay says became of a payment, in the system's statuses."""
    if not payment.provider_reference:
        raise ProviderError(f"{payment} was never sent to GOV.UK Pay: it has no payment id.")
    answer = client_for(integration).get_payment(payment.provider_reference)
    state = answer.get("state") if isinstance(answer.get("state"), dict) else {}
    status = payment_status(state.get("status", ""), state.get("code", ""))
    amount = answer.get("amount")
    if status == PaymentStatus.SUCCESS and amount != payment.total_pence:
        # Never record money that does not match: a person must look at it.
        raise ProviderError(
            f"GOV.UK Pay says payment {payment.provider_reference} took {amount}p, "
            f"but {payment} is for {payment.total_pence}p; it is left open for a person to check."
        )
    return ProviderStatus(
        status=status,
        provider_reference=answer.get("payment_id") or payment.provider_reference,
        provider_status=provider_status(state),
        message=str(state.get("message") or "") if status != PaymentStatus.SUCCESS else "",
        amount_pence=amount if isinstance(amount, int) else None,
    )


# Webhooks ----------------------------------------------------------------------------


@hookimpl
def ims_provider_callback(integration, body, headers):
    """Verify a GOV.UK Pay webhook's ``Pay-Signature`` and read the event it reports."""
    webhooks.verify(body, headers, integration.config.get("webhook_signing_secret", ""))
    return [webhooks.read_message(body)]


# Refunds -----------------------------------------------------------------------------


@hookimpl
def ims_provider_refund(integration, refund, amount_available_pence):
    """Ask GOV.UK Pay to refund; ``refund_amount_available`` stops a stale second refund."""
    payment_id = refund.payment.provider_reference
    if not payment_id:
        return RefundResult(
            accepted=False, message=f"{refund.payment} has no GOV.UK Pay payment id to refund."
        )
    answer = client_for(integration).refund_payment(
        payment_id, amount=refund.amount_pence, refund_amount_available=amount_available_pence
    )
    if isinstance(answer, Refusal):
        return RefundResult(accepted=False, message=_refund_refusal(answer, amount_available_pence))
    if answer.get("status") == "error":
        return RefundResult(
            accepted=False,
            provider_reference=str(answer.get("refund_id") or ""),
            message="GOV.UK Pay's payment service provider could not make the refund.",
        )
    return RefundResult(
        accepted=True,
        provider_reference=str(answer.get("refund_id") or ""),
        message=f"GOV.UK Pay refund {answer.get('status') or 'submitted'}.",
    )


def _refund_refusal(refusal: Refusal, amount_available_pence: int) -> str:
    if refusal.status_code == 412:
        return (
            f"GOV.UK Pay says the amount left to refund is not {amount_available_pence}p: "
            "the payment was refunded elsewhere (the GOV.UK Pay admin tool?) or by an earlier "
            "request. Check the payment in GOV.UK Pay before trying again."
        )
    if refusal.status_code == 401:
        return "GOV.UK Pay did not accept the integration's API key."
    return str(refusal)


# Settlements -------------------------------------------------------------------------


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def settlement_from(result: dict) -> Settlement | None:
    """One search result as a ``Settlement``, or ``None`` if it is not a payment we can read.

    ``amount_pence`` is what the payer paid (``total_amount`` when GOV.UK Pay
    added a corporate card surcharge, otherwise ``amount``); GOV.UK Pay pays
    the council that less ``fee_pence``.
    """
    payment_id = result.get("payment_id")
    amount = result.get("total_amount") or result.get("amount")
    if not payment_id or not isinstance(amount, int):
        return None
    fee = result.get("fee")
    summary = result.get("settlement_summary") or {}
    return Settlement(
        provider_reference=payment_id,
        amount_pence=amount,
        fee_pence=fee if isinstance(fee, int) else 0,
        settled_on=_date(summary.get("settled_date")),
    )


@hookimpl
def ims_provider_settlements(integration, date_from, date_to):
    """Payments GOV.UK Pay settled from ``date_from`` to ``date_to``, both days included.

    GOV.UK Pay can search by settled date only for accounts whose payment
    service provider is Stripe; for others it refuses, and so does this.
    """
    client = client_for(integration)
    settlements = []
    page = 1
    while True:
        answer = client.search_payments(
            {
                "from_settled_date": date_from.isoformat(),
                # GOV.UK Pay's to_settled_date is exclusive.
                "to_settled_date": (date_to + datetime.timedelta(days=1)).isoformat(),
                "page": str(page),
                "display_size": str(SEARCH_PAGE_SIZE),
            }
        )
        results = answer.get("results") or []
        for result in results:
            settlement = settlement_from(result) if isinstance(result, dict) else None
            if settlement is None:
                logger.warning("GOV.UK Pay search result without a payment id or amount skipped.")
                continue
            settlements.append(settlement)
        total = answer.get("total") if isinstance(answer.get("total"), int) else 0
        if not results or page * SEARCH_PAGE_SIZE >= total:
            return settlements
        page += 1
