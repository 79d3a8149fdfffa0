"""Online payments through a provider plugin: start, come back, callbacks, lost callbacks.

The provider plugin speaks to its provider; this module turns its answers
into payment services calls, so every move is recorded with why, and a
repeat (the payer reloading the return page, a webhook sent twice, the
periodic check racing a callback) changes nothing the second time.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.funds.models import Channel
from backoffice.payments import services as payment_services
from backoffice.payments.models import Payment, PaymentStatus

from . import manager
from .models import Integration, ProviderEvent
from .types import PluginKind, ProviderError, ProviderStart, ProviderStatus

logger = logging.getLogger(__name__)

SETTLEABLE = (PaymentStatus.CREATED, PaymentStatus.IN_PROGRESS)


class NoProvider(ValidationError):
    """The council has no enabled integration of that name that takes payments."""


def provider_integration(organisation, key: str) -> Integration:
    integration = (
        Integration.objects.for_organisation(organisation).enabled().filter(key=key).first()
    )
    if integration is None:
        raise NoProvider(
            f"{organisation} has no enabled payment provider integration '{key}'.",
            code="no_provider",
        )
    try:
        info = manager.plugin_info(integration.plugin)
    except manager.PluginNotInstalled:
        raise NoProvider(
            f"The plugin '{integration.plugin}' of integration '{key}' is not installed.",
            code="no_provider",
        ) from None
    # A telephone system's provider takes cards too: its payments are refunded through it.
    if not {PluginKind.PAYMENT_PROVIDER, PluginKind.TELEPHONE} & set(info.kinds):
        raise NoProvider(f"Integration '{key}' does not take payments.", code="no_provider")
    return integration


def _ask(integration: Integration, hook: str, **kwargs):
    answer = manager.call(integration.plugin, hook, integration=integration, **kwargs)
    if answer is None:
        raise ProviderError(f"Plugin '{integration.plugin}' does not implement {hook}.")
    return answer


def supports_moto(plugin_name: str) -> bool:
    """Whether the plugin can take a card over the phone (MOTO): its ``ims_provider_start``
    takes the ``moto`` argument (see the hook's documentation)."""
    hook = manager.plugin_manager().hook.ims_provider_start
    return any(
        "moto" in (*impl.argnames, *impl.kwargnames)
        for impl in hook.get_hookimpls()
        if impl.plugin_name == plugin_name
    )


def moto_integrations(organisation) -> list[Integration]:
    """The council's enabled payment providers that can take a card over the phone."""
    found = []
    for integration in Integration.objects.for_organisation(organisation).enabled():
        try:
            kinds = manager.plugin_info(integration.plugin).kinds
        except manager.PluginNotInstalled:
            continue
        if PluginKind.PAYMENT_PROVIDER in kinds and supports_moto(integration.plugin):
            found.append(integration)
    return found


def payment_begin(*, payment: Payment, return_url: str, moto: bool = False) -> str:
    """Hand a created online payment to its provider; the URL to send the payer to.

    With ``moto`` the payment is a card over the phone, taken by staff through
    the provider's MOTO flow; only a provider that supports it is asked.

    Raises ``ProviderError`` if the provider cannot start it; the payment
    stays created and the periodic check closes it if nobody tries again.
    """
    integration = provider_integration(payment.organisation, payment.provider)
    if moto and not supports_moto(integration.plugin):
        raise ProviderError(f"{integration.title} cannot take card payments over the phone (MOTO).")
    start: ProviderStart = _ask(
        integration, "ims_provider_start", payment=payment, return_url=return_url, moto=moto
    )
    payment_services.payment_start(
        payment=payment,
        provider_reference=start.provider_reference,
        actor=integration.key,
        reason="Sent to the provider to take a card over the phone (MOTO)"
        if moto
        else "Payer sent to the payment provider",
    )
    return start.next_url


def _apply(payment: Payment, status: str, *, actor: str, reason: str, provider_reference=""):
    if status == PaymentStatus.SUCCESS:
        return payment_services.payment_succeed(
            payment=payment,
            actor=actor,
            reason=reason,
            provider_reference=provider_reference or None,
        )
    if status in payment_services.UNSUCCESSFUL:
        return payment_services.payment_close(
            payment=payment, status=status, actor=actor, reason=reason
        )
    return payment


def payment_refresh(payment: Payment) -> Payment:
    """Ask the provider what became of a payment and record it, if it is settled.

    Raises ``ProviderError`` when the provider cannot say (timeout, 500):
    the payment is left as it was.
    """
    if payment.status not in SETTLEABLE:
        return payment
    integration = provider_integration(payment.organisation, payment.provider)
    answer: ProviderStatus = _ask(integration, "ims_provider_status", payment=payment)
    if not answer.finished:
        return payment
    reason = f"{integration.title}: {answer.provider_status or answer.status}"
    if answer.message:
        reason += f" ({answer.message})"
    try:
        return _apply(
            payment,
            answer.status,
            actor=integration.key,
            reason=reason,
            provider_reference=answer.provider_reference,
        )
    except payment_services.InvalidTransition:
        # A callback settled it between our question and the answer.
        payment.refresh_from_db()
        return payment


@dataclass
class CallbackResult:
    applied: int = 0
    repeated: int = 0
    unmatched: list[str] = field(default_factory=list)


def callback_receive(*, integration: Integration, body: bytes, headers) -> CallbackResult:
    """Verify a provider's callback and apply each of its events once.

    Raises ``InvalidCallback`` (from the plugin) when verification fails;
    nothing is written then.
    """
    events = _ask(integration, "ims_provider_callback", body=body, headers=headers)
    result = CallbackResult()
    for event in events:
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(
                    organisation_id=integration.organisation_id,
                    integration=integration,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    provider_reference=event.provider_reference,
                )
                if not event.status:
                    result.applied += 1
                    continue
                payment = (
                    Payment.objects.for_organisation(integration.organisation)
                    .filter(provider=integration.key, provider_reference=event.provider_reference)
                    .first()
                )
                if payment is None:
                    # Recorded as seen; the payment may belong to another system
                    # sharing the provider account.
                    result.unmatched.append(event.provider_reference)
                    continue
                if (
                    event.status == PaymentStatus.SUCCESS
                    and event.amount_pence is not None
                    and event.amount_pence != payment.total_pence
                ):
                    # Never record money we did not ask for; a person looks into it.
                    logger.error(
                        "Callback %s reports %sp taken for payment %s of %sp; not applied.",
                        event.event_id,
                        event.amount_pence,
                        payment.pk,
                        payment.total_pence,
                    )
                    result.unmatched.append(event.provider_reference)
                    continue
                if payment.status in SETTLEABLE:
                    _apply(
                        payment,
                        event.status,
                        actor=integration.key,
                        reason=f"{integration.title} callback: "
                        f"{event.event_type or event.provider_status}",
                        provider_reference=event.provider_reference,
                    )
                result.applied += 1
        except IntegrityError:
            result.repeated += 1
    return result


@dataclass
class SettleReport:
    checked: int = 0
    settled: int = 0
    still_open: int = 0
    unreachable: int = 0
    expired: int = 0


# A payment the payer never reached the provider with is closed as expired
# after this long: providers expire their own sessions after 90 minutes.
NEVER_STARTED_EXPIRY = datetime.timedelta(hours=3)


def settle_lost_payments(*, older_than: datetime.timedelta, now=None) -> SettleReport:
    """The periodic check: settle every online or phone (MOTO) payment still open after
    ``older_than``.

    Each payment is asked about in its own transaction, so one provider
    being down leaves the others to be settled.
    """
    now = now or timezone.now()
    report = SettleReport()
    open_payments = (
        Payment.objects.filter(
            status__in=SETTLEABLE,
            created_at__lt=now - older_than,
            # Telephone: cards taken by staff over the phone through the provider (MOTO).
            channel__in=(Channel.ONLINE, Channel.TELEPHONE),
        )
        .exclude(provider="")
        .select_related("organisation")
        .order_by("created_at")
    )
    for payment in open_payments.iterator(chunk_size=200):
        report.checked += 1
        if payment.status == PaymentStatus.CREATED and not payment.provider_reference:
            if payment.created_at < now - NEVER_STARTED_EXPIRY:
                payment_services.payment_close(
                    payment=payment,
                    status=PaymentStatus.EXPIRED,
                    actor="periodic-check",
                    reason="The payer never reached the payment provider.",
                )
                report.expired += 1
            else:
                report.still_open += 1
            continue
        try:
            settled = payment_refresh(payment)
        except (ProviderError, NoProvider) as error:
            logger.warning("Payment %s could not be checked: %s", payment.pk, error)
            report.unreachable += 1
            continue
        if settled.status in SETTLEABLE:
            report.still_open += 1
        else:
            report.settled += 1
    return report


def refund_send(*, integration: Integration, refund):
    """Ask the provider to pay a refund back; the answer as the payments services take it."""
    from backoffice.payments.services import RefundOutcome

    payment = refund.payment
    # What could be refunded before this refund was reserved.
    available = payment.total_pence - payment.refunded_pence + refund.amount_pence
    try:
        answer = _ask(
            integration,
            "ims_provider_refund",
            refund=refund,
            amount_available_pence=available,
        )
    except ProviderError as error:
        return RefundOutcome(
            accepted=False,
            message=f"{integration.title} could not be reached; nothing was refunded: {error}",
        )
    return RefundOutcome(
        accepted=answer.accepted,
        provider_reference=answer.provider_reference,
        message=answer.message,
    )


_RETURN_SALT = "ims.payment-return"


def return_token(payment: Payment) -> str:
    """An unguessable token for the payer's return address: it names one payment."""
    from django.core import signing

    return signing.dumps(payment.pk, salt=_RETURN_SALT)


def payment_for_return_token(token: str, *, max_age=datetime.timedelta(days=7)) -> Payment | None:
    from django.core import signing

    try:
        pk = signing.loads(token, salt=_RETURN_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return Payment.objects.select_related("organisation").filter(pk=pk).first()


def return_url(payment: Payment) -> str:
    from django.conf import settings
    from django.urls import reverse

    path = reverse("plugins:payment_return", args=[return_token(payment)])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
