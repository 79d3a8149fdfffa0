"""Refunds give back all or part of a payment, reversing its entry share by share."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.ledger.models import AccountKind, EntryKind, JournalEntry
from backoffice.ledger.selectors import account_balance_pence, fund_income_pence
from backoffice.ledger.services import system_account
from backoffice.payments import providers
from backoffice.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from backoffice.payments.services import (
    LineInput,
    RefundOutcome,
    payment_close,
    payment_create,
    payment_take,
    refund_complete,
    refund_request,
)
from tests.factories import FundCodeFactory


def take(council, *lines, **kwargs):
    kwargs.setdefault("channel", "face_to_face")
    kwargs.setdefault("method", "cash")
    return payment_take(organisation=council, lines=list(lines), **kwargs)


def refund(payment, amount_pence, officer, reason="Paid twice", **kwargs):
    return refund_request(
        payment=payment, amount_pence=amount_pence, reason=reason, requested_by=officer, **kwargs
    )


def postings(entry):
    return sorted(entry.postings.values_list("account__code", "amount_pence"))


def rejected_by_the_provider(refund):
    return RefundOutcome(accepted=False, message="card expired")


@pytest.fixture
def parking_payment(council, parking):
    """£12.00 of parking: £10.00 net and £2.00 VAT."""
    return take(council, LineInput(parking, 1_200, account_reference="PCN123"))


@pytest.fixture
def provider_payment(council, parking):
    return take(
        council,
        LineInput(parking, 1_200, account_reference="PCN123"),
        channel="online",
        method="card",
        provider="govpay",
    )


def state(payment):
    """Everything a refused refund must leave as it was."""
    payment = Payment.objects.get(pk=payment.pk)
    return (
        payment.status,
        payment.refunded_pence,
        Refund.objects.count(),
        JournalEntry.objects.count(),
    )


# Full and partial -----------------------------------------------------------------------


def test_a_full_refund_marks_the_payment_refunded(parking_payment, officer):
    done = refund(parking_payment, 1_200, officer)

    parking_payment.refresh_from_db()
    assert done.status == RefundStatus.SUCCEEDED
    assert parking_payment.status == PaymentStatus.REFUNDED
    assert parking_payment.refunded_pence == 1_200


def test_a_full_refund_reverses_the_whole_payment(parking_payment, parking, officer):
    done = refund(parking_payment, 1_200, officer)

    assert done.entry.kind == EntryKind.REFUND
    assert done.entry.source == done
    assert postings(done.entry) == [
        ("CASH-IN-TRANSIT", -1_200),
        ("FUND-PARK", 1_000),
        ("VAT-OUTPUT", 200),
    ]
    assert fund_income_pence(parking) == 0


def test_a_partial_refund_debits_the_fund_its_net_share_and_vat_its_vat_share(
    parking_payment, officer
):
    done = refund(parking_payment, 600, officer)

    assert postings(done.entry) == [
        ("CASH-IN-TRANSIT", -600),
        ("FUND-PARK", 500),
        ("VAT-OUTPUT", 100),
    ]


def test_a_partial_refund_marks_the_payment_partially_refunded(parking_payment, officer):
    refund(parking_payment, 600, officer)

    parking_payment.refresh_from_db()
    assert parking_payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert parking_payment.refundable_pence == 600


def test_partial_refunds_that_reach_the_total_mark_the_payment_refunded(parking_payment, officer):
    for amount in (500, 400, 300):
        refund(parking_payment, amount, officer)

    parking_payment.refresh_from_db()
    assert parking_payment.status == PaymentStatus.REFUNDED
    assert list(parking_payment.status_changes.values_list("to_status", flat=True)) == [
        "created",
        "success",
        "partially_refunded",
        "refunded",
    ]


def test_a_refund_records_who_asked_and_why(parking_payment, officer):
    done = refund(parking_payment, 600, officer, reason="  Overpaid by £6  ")

    assert (done.requested_by, done.reason) == (officer, "Overpaid by £6")
    assert done.completed_at is not None
    assert done.entry.created_by == officer


def test_odd_partial_refunds_of_a_multi_line_payment_give_back_every_line_exactly(
    council, ctax, parking, vat20, valid_reference, officer
):
    trade_waste = FundCodeFactory(
        organisation=council, code="TRADE", default_vat_rate=vat20, allowed_channels=["telephone"]
    )
    # 1,203p holds 200.5p of VAT (201p) and 7p holds 1.17p (1p): shares of them rarely divide.
    payment = take(
        council,
        LineInput(ctax, 15_000, account_reference=valid_reference(ctax)),
        LineInput(parking, 1_203, account_reference="PCN123"),
        LineInput(trade_waste, 7, account_reference="TW1"),
        channel="telephone",
        method="card",
    )

    for amount in (1, 333, 4_999, 7, 1_001, 3):
        refund(payment, amount, officer)
    refund(payment, payment.total_pence - 6_344, officer)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert [
        (line.refunded_pence - line.gross_pence, line.refunded_vat_pence - line.vat_pence)
        for line in payment.lines.all()
    ] == [(0, 0), (0, 0), (0, 0)]
    assert fund_income_pence(ctax) == fund_income_pence(parking) == 0
    assert fund_income_pence(trade_waste) == 0
    assert account_balance_pence(system_account(council, AccountKind.VAT_OUTPUT)) == 0


# Refused --------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -100])
def test_a_refund_of_nothing_or_less_is_refused(parking_payment, officer, amount):
    before = state(parking_payment)

    with pytest.raises(ValidationError, match=r"A refund must be of more than £0\.00\."):
        refund(parking_payment, amount, officer)

    assert state(parking_payment) == before


def test_a_refund_of_more_than_remains_is_refused_saying_what_remains(parking_payment, officer):
    refund(parking_payment, 1_000, officer)
    before = state(parking_payment)

    with pytest.raises(
        ValidationError, match=r"Only £2\.00 of 00000001 can still be refunded, not £2\.01\."
    ):
        refund(parking_payment, 201, officer)

    assert state(parking_payment) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refund_needs_a_reason(parking_payment, officer, reason):
    before = state(parking_payment)

    with pytest.raises(ValidationError, match="Say why the money is being refunded"):
        refund(parking_payment, 600, officer, reason=reason)

    assert state(parking_payment) == before


def test_a_payment_not_yet_taken_cannot_be_refunded(council, parking, officer):
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 1_200, account_reference="PCN123")],
    )
    before = state(payment)

    with pytest.raises(ValidationError, match="is created: only money taken can be refunded"):
        refund(payment, 600, officer)

    assert state(payment) == before


def test_a_failed_payment_cannot_be_refunded(council, parking, officer):
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 1_200, account_reference="PCN123")],
    )
    payment = payment_close(payment=payment, status=PaymentStatus.FAILED)
    before = state(payment)

    with pytest.raises(ValidationError, match="is failed: only money taken can be refunded"):
        refund(payment, 600, officer)

    assert state(payment) == before


# The provider ---------------------------------------------------------------------------


def test_a_refund_the_provider_rejects_posts_nothing_and_records_why(provider_payment, officer):
    entries_before = JournalEntry.objects.count()

    done = refund(provider_payment, 1_200, officer, gateway=rejected_by_the_provider)

    provider_payment.refresh_from_db()
    assert (done.status, done.failure_reason) == (RefundStatus.REJECTED, "card expired")
    assert done.entry is None
    assert JournalEntry.objects.count() == entries_before
    assert provider_payment.status == PaymentStatus.SUCCESS


def test_a_rejected_refund_gives_back_the_amount_it_reserved(provider_payment, officer):
    refund(provider_payment, 1_200, officer, gateway=rejected_by_the_provider)

    done = refund(
        provider_payment,
        1_200,
        officer,
        gateway=lambda refund: RefundOutcome(accepted=True, provider_reference="rf_1"),
    )

    provider_payment.refresh_from_db()
    assert done.status == RefundStatus.SUCCEEDED
    assert done.provider_reference == "rf_1"
    assert provider_payment.status == PaymentStatus.REFUNDED


def test_a_refund_goes_to_the_gateway_registered_for_the_payments_provider(
    provider_payment, officer
):
    sent = []

    def govpay(refund):
        sent.append(refund.amount_pence)
        return RefundOutcome(accepted=True, provider_reference="govpay-rf")

    providers.register_refund_gateway("govpay", govpay)
    try:
        done = refund(provider_payment, 600, officer)
    finally:
        providers.unregister_refund_gateway("govpay")

    assert sent == [600]
    assert (done.status, done.provider_reference) == (RefundStatus.SUCCEEDED, "govpay-rf")


def test_a_refund_for_a_provider_with_no_gateway_is_rejected_naming_the_provider(
    council, parking, officer
):
    payment = take(
        council,
        LineInput(parking, 1_200, account_reference="PCN123"),
        method="card",
        provider="nonesuch-pay",
    )

    done = refund(payment, 1_200, officer)

    payment.refresh_from_db()
    assert done.status == RefundStatus.REJECTED
    assert "'nonesuch-pay'" in done.failure_reason
    assert (payment.status, payment.refunded_pence) == (PaymentStatus.SUCCESS, 0)


def test_a_refund_completed_again_changes_nothing(parking_payment, officer):
    done = refund(parking_payment, 600, officer)
    before = state(parking_payment)

    again = refund_complete(refund=done, outcome=RefundOutcome(accepted=True))

    assert (again.status, again.entry_id) == (RefundStatus.SUCCEEDED, done.entry_id)
    assert state(parking_payment) == before


def test_a_rejected_refund_accepted_later_changes_nothing(provider_payment, officer):
    done = refund(provider_payment, 600, officer, gateway=rejected_by_the_provider)
    before = state(provider_payment)

    again = refund_complete(refund=done, outcome=RefundOutcome(accepted=True))

    assert (again.status, again.entry) == (RefundStatus.REJECTED, None)
    assert state(provider_payment) == before
