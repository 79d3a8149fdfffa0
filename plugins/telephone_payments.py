"""Telephone payments (IVR): may this be paid, and recording what the IVR's card provider did.

An automated telephone payment system (IVR) asks whether a fund code,
reference and amount may be paid, takes the card with its own card provider,
then reports the outcome. Whatever format an IVR speaks, its plugin reads it
into a ``TelephoneCheck`` or ``TelephoneOutcome``; this module answers the
check and records the outcome through the payment services.

By the time an outcome arrives the caller's card has been charged, so a
succeeded payment is never turned away for something the check would have
refused (an unknown or closed fund, an amount over the limit): the money is
recorded against the council's suspense fund with the reason, for finance
staff to allocate, and is never lost. Only a report that cannot be a payment
at all (an amount of nothing) or a council with no suspense fund is refused.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextChoices

from backoffice.funds.models import Channel, FundCode
from backoffice.money import format_pence
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import Method, Payment, PaymentLine, PaymentStatus
from backoffice.payments.services import (
    LineInput,
    Payer,
    payment_close,
    payment_create,
    payment_start,
    payment_take,
)

from .departments import reference_verdict
from .models import Integration
from .types import TelephoneCheck, TelephoneOutcome


class Problem(TextChoices):
    """Why a check is not payable. The codes are a published contract: IVRs choose what
    to say to the caller from them, so they never change."""

    UNKNOWN_FUND = "unknown_fund", "The council has no fund with this code."
    FUND_INACTIVE = "fund_inactive", "The fund no longer takes payments."
    CHANNEL_NOT_ALLOWED = "channel_not_allowed", "The fund cannot be paid by telephone here."
    BAD_REFERENCE = "bad_reference", "The reference fails the fund's reference rule."
    AMOUNT_TOO_SMALL = "amount_too_small", "The amount is below the fund's minimum."
    AMOUNT_TOO_LARGE = "amount_too_large", "The amount is above the fund's maximum."
    BAD_AMOUNT = "bad_amount", "The amount is not a whole number of pence above zero."


# The problems that concern the fund and amount rather than the reference: a card
# payment taken despite one of these goes to suspense here (the payment services send
# a bad reference to suspense themselves, keeping the fund the caller meant).
_FUND_PROBLEMS = frozenset(
    {
        Problem.UNKNOWN_FUND,
        Problem.FUND_INACTIVE,
        Problem.CHANNEL_NOT_ALLOWED,
        Problem.AMOUNT_TOO_SMALL,
        Problem.AMOUNT_TOO_LARGE,
    }
)


class OutcomeRefused(ValidationError):
    """An outcome report that cannot be recorded; nothing was written. ``code`` says why."""


@dataclass(frozen=True)
class RecordedOutcome:
    """The payment an outcome report is recorded as, and whether it was recorded before."""

    payment: Payment
    replayed: bool


def _fund(organisation, code: str) -> FundCode | None:
    return (
        FundCode.objects.for_organisation(organisation)
        .select_related("reference_rule")
        .filter(code=code)
        .first()
    )


def _is_whole_pence(amount) -> bool:
    # bool is an int in Python; True is not one penny.
    return isinstance(amount, int) and not isinstance(amount, bool) and amount > 0


def _fund_codes_allowed(integration: Integration) -> list[str]:
    # A convention any telephone plugin may follow: a ``fund_codes`` setting limits
    # the integration to those funds (one IVR line for parking only, say).
    return list(integration.settings.get("fund_codes") or [])


def _fund_and_amount_problems(
    integration: Integration, fund: FundCode | None, fund_code: str, amount
) -> list[tuple[str, str]]:
    problems = []
    if not _is_whole_pence(amount):
        problems.append(
            (
                Problem.BAD_AMOUNT,
                f"The amount must be a whole number of pence above zero, not {amount!r}.",
            )
        )
    if fund is None:
        problems.append((Problem.UNKNOWN_FUND, f"There is no fund with the code '{fund_code}'."))
        return problems
    name = f"{fund.display_name} ({fund.code})"
    if not fund.is_active:
        problems.append((Problem.FUND_INACTIVE, f"{name} no longer takes payments."))
    allowed = _fund_codes_allowed(integration)
    if not fund.accepts_channel(Channel.TELEPHONE):
        problems.append((Problem.CHANNEL_NOT_ALLOWED, f"{name} does not take telephone payments."))
    elif allowed and fund.code not in allowed:
        problems.append(
            (Problem.CHANNEL_NOT_ALLOWED, f"{name} cannot be paid through {integration.title}.")
        )
    if not _is_whole_pence(amount):
        return problems
    minimum, maximum = fund.minimum_amount_pence, fund.maximum_amount_pence
    if minimum is not None and amount < minimum:
        problems.append(
            (
                Problem.AMOUNT_TOO_SMALL,
                f"{fund.display_name} takes at least {format_pence(minimum)}.",
            )
        )
    if maximum is not None and amount > maximum:
        problems.append(
            (
                Problem.AMOUNT_TOO_LARGE,
                f"{fund.display_name} takes at most {format_pence(maximum)}.",
            )
        )
    return problems


def telephone_check(*, integration: Integration, check: TelephoneCheck) -> list[tuple[str, str]]:
    """Every reason ``check`` cannot be paid, as ``(code, message)``; empty means payable.

    Reads only. The reference is checked against the fund's own rule, and the
    rule's message (a wrong check digit, say) is the problem's message; a
    reference that passes is then put to the council's departmental systems
    (``ims_reference_validate``), whose reason is given if one refuses it.
    """
    fund = _fund(integration.organisation, check.fund_code)
    problems = _fund_and_amount_problems(integration, fund, check.fund_code, check.amount_pence)
    if fund is not None:
        reference = fund.check_reference(check.reference)
        if not reference.is_valid:
            problems.append((Problem.BAD_REFERENCE, reference.problems[0].message))
        else:
            # The caller is still on the line: the moment to ask the department whether
            # the account exists, as the payment pages do before taking a card.
            verdict = reference_verdict(
                organisation=integration.organisation,
                fund_code=fund,
                reference=reference.reference,
            )
            if verdict is not None and not verdict.valid:
                problems.append(
                    (Problem.BAD_REFERENCE, verdict.reason or "The department does not know it.")
                )
    # Plain strings for plugins: the codes are what they pass on to the IVR.
    return [(str(code), message) for code, message in problems]


def idempotency_key(integration: Integration, transaction_id: str) -> str:
    """The payment's idempotency key: the IVR's transaction id, within this integration.

    Keys are unique per council, so two IVRs of one council cannot collide;
    the integration's key never changes once made.
    """
    return f"telephone:{integration.key}:{transaction_id}"


def _line(integration: Integration, outcome: TelephoneOutcome) -> LineInput:
    """The payment's one line: on the fund asked for, or on the suspense fund, saying why."""
    organisation = integration.organisation
    fund = _fund(organisation, outcome.fund_code)
    problems = [
        (code, message)
        for code, message in _fund_and_amount_problems(
            integration, fund, outcome.fund_code, outcome.amount_pence
        )
        if code in _FUND_PROBLEMS
    ]
    if not problems:
        return LineInput(fund, outcome.amount_pence, account_reference=outcome.reference)
    reason = " ".join(message for _code, message in problems)
    suspense = FundCode.objects.for_organisation(organisation).filter(is_suspense=True).first()
    if suspense is None:
        raise OutcomeRefused(
            f"{reason} The money cannot be held in suspense either: this council has no "
            "suspense fund. Mark one fund code as the suspense fund, then report the "
            "payment again.",
            code="no_suspense_fund",
        )
    return LineInput(
        suspense,
        outcome.amount_pence,
        account_reference=outcome.reference,
        narrative=f"Telephone payment for fund code {outcome.fund_code}: {reason}",
    )


def telephone_outcome_record(
    *, integration: Integration, outcome: TelephoneOutcome
) -> RecordedOutcome:
    """Record what the IVR's card provider did, once per transaction id.

    A succeeded card payment is taken (receipt number, ledger entry) on the
    telephone channel, its money in the integration's clearing account
    until the IVR's provider pays it out. A failed one is recorded as a
    failed payment, for the audit trail; nothing is posted. The same
    transaction id reported again returns the first payment and writes
    nothing; with different content it raises ``IdempotencyConflict``.
    Raises ``OutcomeRefused`` (nothing written) for a report that cannot be
    a payment.
    """
    organisation = integration.organisation
    if not _is_whole_pence(outcome.amount_pence):
        raise OutcomeRefused(
            f"The amount must be a whole number of pence above zero, not {outcome.amount_pence!r}.",
            code=Problem.BAD_AMOUNT,
        )
    _check_lengths(outcome)
    key = idempotency_key(integration, outcome.transaction_id)
    # The payment services answer a repeat with the first payment without saying so.
    replayed = Payment.objects.filter(organisation=organisation, idempotency_key=key).exists()
    payer = Payer(name=outcome.payer_name, email=outcome.payer_email, postcode=outcome.postcode)
    provider_reference = outcome.provider_reference or outcome.transaction_id
    line = _line(integration, outcome)
    if outcome.succeeded:
        payment = payment_take(
            organisation=organisation,
            channel=Channel.TELEPHONE,
            method=Method.CARD,
            lines=[line],
            payer=payer,
            provider=integration.key,
            provider_reference=provider_reference,
            idempotency_key=key,
            reason=_reason(integration, outcome, "card payment taken"),
        )
    else:
        payment = _record_failed(integration, outcome, line, payer, provider_reference, key)
    return RecordedOutcome(payment=payment, replayed=replayed)


# What each field of a report is stored in: a vendor's plugin may not know the limits.
_STORED_IN = {
    "transaction_id": (Payment, "provider_reference"),
    "provider_reference": (Payment, "provider_reference"),
    "reference": (PaymentLine, "account_reference"),
    "payer_name": (Payment, "payer_name"),
    "payer_email": (Payment, "payer_email"),
    "postcode": (Payment, "postcode"),
}


def _check_lengths(outcome: TelephoneOutcome) -> None:
    too_long = {}
    for name, (model, field_name) in _STORED_IN.items():
        limit = model._meta.get_field(field_name).max_length
        if len(getattr(outcome, name)) > limit:
            too_long[name] = f"At most {limit} characters."
    if too_long:
        raise OutcomeRefused(too_long)
    if not outcome.transaction_id.strip():
        raise OutcomeRefused({"transaction_id": "The IVR's transaction id is needed."})


def _reason(integration: Integration, outcome: TelephoneOutcome, what: str) -> str:
    reason = f"{integration.title}: {what} (transaction {outcome.transaction_id})"
    return f"{reason}: {outcome.message}" if outcome.message else reason


@transaction.atomic
def _record_failed(integration, outcome, line, payer, provider_reference, key) -> Payment:
    """Created, handed to the IVR's provider, failed: the three moves, in one transaction."""
    payment = payment_create(
        organisation=integration.organisation,
        channel=Channel.TELEPHONE,
        method=Method.CARD,
        lines=[line],
        payer=payer,
        provider=integration.key,
        idempotency_key=key,
    )
    if payment.provider_reference and payment.provider_reference != provider_reference:
        # payment_create's own comparison does not see the provider's reference.
        raise IdempotencyConflict(
            f"The transaction id '{outcome.transaction_id}' was already reported with the "
            f"provider reference '{payment.provider_reference}'; use a new transaction id "
            "for a new payment.",
            code="idempotency_conflict",
        )
    if payment.status == PaymentStatus.CREATED:
        payment = payment_start(
            payment=payment,
            provider_reference=provider_reference,
            actor=integration.key,
            reason=_reason(integration, outcome, "card payment attempted"),
        )
    if payment.status == PaymentStatus.IN_PROGRESS:
        payment = payment_close(
            payment=payment,
            status=PaymentStatus.FAILED,
            actor=integration.key,
            reason=_reason(integration, outcome, "card payment failed"),
        )
    return payment
