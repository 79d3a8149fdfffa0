"""What the sandbox provider does: take a pretend card payment, refund it, sign its callbacks.

These functions write only the sandbox's own rows (``SandboxPayment``), as a
real provider writes only its own records; the system hears about the
outcome through the plugin's hooks and records it through its services.

No card number or security code is ever kept: a card number is looked at to
decide the outcome and then dropped, leaving its brand and last four digits.
"""

import datetime
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.money import format_pence
from plugins.models import Integration
from plugins.types import CallbackEvent, InvalidCallback, RefundResult, Settlement

from .models import CardPaymentState, SandboxPayment

logger = logging.getLogger(__name__)

# Real providers end a card session after about 90 minutes; so does the sandbox.
SESSION_LIFETIME = datetime.timedelta(minutes=90)


@dataclass(frozen=True)
class SandboxCard:
    number: str
    brand: str
    state: str  # what paying with it does: a ``CardPaymentState``

    @property
    def spaced(self) -> str:
        """The number in groups of four, as printed on a card."""
        return " ".join(self.number[start : start + 4] for start in range(0, len(self.number), 4))


SUCCEEDING_CARD = SandboxCard("4444333322221111", "Visa", CardPaymentState.SUCCESS)
DECLINED_CARD = SandboxCard("4000000000000002", "Visa", CardPaymentState.DECLINED)
TEST_CARDS = {card.number: card for card in (SUCCEEDING_CARD, DECLINED_CARD)}

NOT_A_TEST_CARD = (
    "This is a test page: use test card 4444 3333 2222 1111 for a payment that succeeds, "
    "or 4000 0000 0000 0002 for one that is declined. Never enter a real card number here."
)
DECLINED_MESSAGE = "Your card was declined"


def recognise_card(card_number: str) -> SandboxCard:
    """The test card a typed number is (spaces and hyphens allowed), or ``ValidationError``."""
    digits = card_number.replace(" ", "").replace("-", "")
    card = TEST_CARDS.get(digits)
    if card is None:
        raise ValidationError(NOT_A_TEST_CARD, code="not_a_test_card")
    return card


def card_page_url(sandbox_payment: SandboxPayment) -> str:
    """The absolute address of the payment's card page, where the payer is sent."""
    path = reverse("plugins:sandbox:card_page", args=[sandbox_payment.id])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def sandbox_payment_create(
    *,
    integration: Integration,
    amount_pence: int,
    description: str,
    return_url: str,
    is_moto: bool = False,
) -> SandboxPayment:
    """The provider is asked to take ``amount_pence``: a payment waiting for the payer's card.

    ``is_moto``: a member of staff will type the card details a caller reads
    out (mail order / telephone order), as a real provider's MOTO payment.
    """
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise ValidationError("The sandbox takes payments of more than £0.00.", code="amount")
    sandbox_payment = SandboxPayment(
        organisation_id=integration.organisation_id,
        integration=integration,
        amount_pence=amount_pence,
        description=description[:255],
        return_url=return_url,
        is_moto=is_moto,
    )
    sandbox_payment.full_clean()
    sandbox_payment.save()
    return sandbox_payment


def _locked(sandbox_payment: SandboxPayment) -> SandboxPayment:
    return SandboxPayment.objects.select_for_update().get(pk=sandbox_payment.pk)


def _finish(
    sandbox_payment: SandboxPayment, state: str, *, notify: bool = True, **fields
) -> SandboxPayment:
    sandbox_payment.state = state
    sandbox_payment.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(sandbox_payment, name, value)
    sandbox_payment.save()
    if notify:
        transaction.on_commit(lambda: send_callback_if_wanted(sandbox_payment))
    return sandbox_payment


@transaction.atomic
def sandbox_payment_expire_if_stale(
    sandbox_payment: SandboxPayment, *, now: datetime.datetime | None = None
) -> SandboxPayment:
    """Close a payment nobody finished within ``SESSION_LIFETIME`` as expired."""
    sandbox_payment = _locked(sandbox_payment)
    now = now or timezone.now()
    if sandbox_payment.is_open and sandbox_payment.created_at < now - SESSION_LIFETIME:
        # No callback: expiry is found by a status check, which records it itself.
        return _finish(sandbox_payment, CardPaymentState.EXPIRED, notify=False)
    return sandbox_payment


@transaction.atomic
def sandbox_payment_open(sandbox_payment: SandboxPayment) -> SandboxPayment:
    """The payer opened the card page (or expired, if they took too long to come)."""
    sandbox_payment = sandbox_payment_expire_if_stale(sandbox_payment)
    if sandbox_payment.state == CardPaymentState.CREATED:
        sandbox_payment.state = CardPaymentState.STARTED
        sandbox_payment.save(update_fields=["state", "updated_at"])
    return sandbox_payment


def _refuse_unless_open(sandbox_payment: SandboxPayment) -> None:
    if not sandbox_payment.is_open:
        raise ValidationError(
            f"This payment is already {sandbox_payment.get_state_display().lower()}.",
            code="finished",
        )


@transaction.atomic
def sandbox_payment_pay(*, sandbox_payment: SandboxPayment, card_number: str) -> SandboxPayment:
    """The payer entered a card: the succeeding test card pays, the declined one is declined.

    Any other number raises ``ValidationError`` and changes nothing. Only the
    card's brand and last four digits are kept.
    """
    card = recognise_card(card_number)
    sandbox_payment = sandbox_payment_expire_if_stale(sandbox_payment)
    _refuse_unless_open(sandbox_payment)
    return _finish(
        sandbox_payment, card.state, card_brand=card.brand, card_last_four=card.number[-4:]
    )


@transaction.atomic
def sandbox_payment_cancel(sandbox_payment: SandboxPayment) -> SandboxPayment:
    """The payer pressed "Cancel payment"."""
    sandbox_payment = sandbox_payment_expire_if_stale(sandbox_payment)
    _refuse_unless_open(sandbox_payment)
    return _finish(sandbox_payment, CardPaymentState.CANCELLED)


@transaction.atomic
def sandbox_refund(*, sandbox_payment: SandboxPayment, amount_pence: int) -> RefundResult:
    """Refund part or all of a paid payment; refused, with the reason, otherwise.

    The sandbox checks against its own record of what is left, as a real
    provider does, so a caller with a stale view cannot refund twice.
    """
    sandbox_payment = _locked(sandbox_payment)
    if sandbox_payment.state != CardPaymentState.SUCCESS:
        return RefundResult(
            accepted=False,
            message=f"The sandbox cannot refund a payment that is "
            f"{sandbox_payment.get_state_display().lower()}: only paid ones.",
        )
    left = sandbox_payment.amount_pence - sandbox_payment.refunded_pence
    if amount_pence <= 0 or amount_pence > left:
        return RefundResult(
            accepted=False,
            message=f"The sandbox can refund at most {format_pence(left)} of this payment, "
            f"not {format_pence(amount_pence)}.",
        )
    sandbox_payment.refunded_pence += amount_pence
    sandbox_payment.save(update_fields=["refunded_pence", "updated_at"])
    return RefundResult(
        accepted=True,
        provider_reference=f"{sandbox_payment.id}-refund-{sandbox_payment.refunded_pence}",
        message=f"Refunded {format_pence(amount_pence)} (sandbox: no real money moved).",
    )


# The sandbox pays out each day's successful payments in full the next day: no fee.
SANDBOX_FEE_PENCE = 0


def sandbox_settlements(
    *, integration: Integration, date_from: datetime.date, date_to: datetime.date
) -> list[Settlement]:
    """One ``Settlement`` per payment paid between the two dates (inclusive).

    The made-up rule: the whole amount is paid out the day after the payment,
    with no fee, in one payout per day named ``sandbox-payout-YYYY-MM-DD``.
    Refunds are not netted off: the sandbox treats them as a separate matter.
    """
    paid = SandboxPayment.objects.filter(
        organisation_id=integration.organisation_id,
        integration=integration,
        state=CardPaymentState.SUCCESS,
        finished_at__date__gte=date_from,
        finished_at__date__lte=date_to,
    ).order_by("finished_at", "id")
    settlements = []
    for sandbox_payment in paid:
        payout_day = timezone.localdate(sandbox_payment.finished_at) + datetime.timedelta(days=1)
        settlements.append(
            Settlement(
                provider_reference=sandbox_payment.id,
                amount_pence=sandbox_payment.amount_pence - SANDBOX_FEE_PENCE,
                fee_pence=SANDBOX_FEE_PENCE,
                settled_on=payout_day,
                payout_reference=f"sandbox-payout-{payout_day:%Y-%m-%d}",
            )
        )
    return settlements


# Callbacks ------------------------------------------------------------------------------

SIGNATURE_HEADER = "Sandbox-Signature"
EVENT_TYPES = {
    CardPaymentState.SUCCESS: "payment.succeeded",
    CardPaymentState.DECLINED: "payment.declined",
    CardPaymentState.CANCELLED: "payment.cancelled",
    CardPaymentState.EXPIRED: "payment.expired",
}


def sign(body: bytes, secret: str) -> str:
    """The signature the sandbox sends with a callback: HMAC-SHA256 of the raw body, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def callback_message(sandbox_payment: SandboxPayment, secret: str) -> tuple[bytes, dict]:
    """The body and headers of the callback the sandbox sends when a payment finishes.

    The event id is the payment's id and its state, so a callback sent again
    is the same event, and the system applies it once.
    """
    body = json.dumps(
        {
            "event_id": f"{sandbox_payment.id}.{sandbox_payment.state}",
            "event_type": EVENT_TYPES[sandbox_payment.state],
            "payment_id": sandbox_payment.id,
            "state": sandbox_payment.state,
            "amount_pence": sandbox_payment.amount_pence,
        },
        sort_keys=True,
    ).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}


def callback_read(*, body: bytes, headers, secret: str) -> dict:
    """Verify a callback's signature (in constant time) and read it; ``InvalidCallback`` if not."""
    if not secret:
        raise InvalidCallback(
            "This sandbox integration has no callback signing secret, so it accepts no callbacks."
        )
    signature = headers.get(SIGNATURE_HEADER, "")
    if not signature or not hmac.compare_digest(signature, sign(body, secret)):
        raise InvalidCallback("The callback's Sandbox-Signature does not match its body.")
    try:
        message = json.loads(body)
        fields = {name: str(message[name]) for name in ("event_id", "payment_id", "state")}
        fields["event_type"] = str(message.get("event_type", ""))
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidCallback(f"The callback is not a sandbox event: {error}") from error
    if fields["state"] not in CardPaymentState.values:
        raise InvalidCallback(f"The callback's state '{fields['state']}' is not a sandbox state.")
    return fields


def callback_event(fields: dict, status: str) -> CallbackEvent:
    return CallbackEvent(
        event_id=fields["event_id"],
        provider_reference=fields["payment_id"],
        status=status,
        provider_status=fields["state"],
        event_type=fields["event_type"],
    )


def callback_address(integration: Integration) -> str:
    """Where the system listens for this integration's callbacks."""
    path = reverse("plugins:provider_callback", args=[integration.public_id])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def send_callback_if_wanted(sandbox_payment: SandboxPayment) -> bool:
    """Send the signed callback of a finished payment, if the integration asks for callbacks.

    Like a real provider's, a callback that cannot be delivered is not
    retried here: the payer's return and the periodic check settle the
    payment anyway. Returns whether the system accepted it.
    """
    integration = sandbox_payment.integration
    config = integration.config
    if not (config.get("send_callbacks") and config.get("signing_secret")):
        return False
    body, headers = callback_message(sandbox_payment, config["signing_secret"])
    try:
        response = httpx.post(
            callback_address(integration),
            content=body,
            headers=headers,
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        logger.warning("Sandbox callback for %s not delivered: %s", sandbox_payment.id, error)
        return False
    if response.status_code != 200:
        logger.warning(
            "Sandbox callback for %s refused: %s %s",
            sandbox_payment.id,
            response.status_code,
            response.text[:200],
        )
        return False
    return True
