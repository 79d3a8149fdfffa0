"""A request retried with its idempotency key returns the first result and writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.ledger.models import EntryKind, JournalEntry
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import (
    IdempotencyRecord,
    Payment,
    PaymentLine,
    Refund,
    StatusChange,
)
from backoffice.payments.services import (
    LineInput,
    Payer,
    payment_create,
    payment_take,
    refund_request,
)
from tests.factories import FundCodeFactory


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Payment, PaymentLine, StatusChange, IdempotencyRecord, Refund, JournalEntry)
    }


PAYER = Payer(name="A. Payer")


def create(council, fund, amount_pence=1_200, *, key, payer=PAYER):
    return payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(fund, amount_pence, account_reference="PCN123")],
        payer=payer,
        idempotency_key=key,
    )


def take(council, fund, *, key):
    return payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(fund, 1_200, account_reference="PCN123")],
        idempotency_key=key,
    )


# Creating a payment ---------------------------------------------------------------------


def test_a_repeated_payment_returns_the_first_and_writes_nothing(council, parking):
    first = create(council, parking, key="basket-1")
    before = row_counts()

    again = create(council, parking, key="basket-1")

    assert again.pk == first.pk
    assert row_counts() == before


def test_the_same_key_with_a_different_amount_is_a_conflict(council, parking):
    create(council, parking, 1_200, key="basket-1")
    before = row_counts()

    with pytest.raises(IdempotencyConflict) as excinfo:
        create(council, parking, 1_500, key="basket-1")

    assert excinfo.value.messages == [
        "The idempotency key 'basket-1' was already used for a different payment create "
        "request; use a new key for a new request."
    ]
    assert row_counts() == before


def test_the_same_key_with_a_different_payer_is_a_conflict(council, parking):
    create(council, parking, key="basket-1")
    before = row_counts()

    with pytest.raises(IdempotencyConflict):
        create(council, parking, key="basket-1", payer=Payer(name="Someone Else"))

    assert row_counts() == before


def test_each_council_has_its_own_keys(council, parking, other_council):
    theirs = FundCodeFactory(organisation=other_council)

    ours = create(council, parking, key="basket-1")
    their_payment = create(other_council, theirs, key="basket-1")

    assert ours.pk != their_payment.pk
    assert their_payment.organisation == other_council


def test_a_refused_request_does_not_use_up_its_key(council, parking):
    # Nothing was written the first time, so the corrected request is a new one.
    with pytest.raises(ValidationError, match=r"more than £0\.00"):
        create(council, parking, 0, key="basket-1")

    payment = create(council, parking, 1_200, key="basket-1")

    assert payment.total_pence == 1_200


def test_payments_without_a_key_are_never_taken_for_repeats(council, parking):
    first = create(council, parking, key=None)

    second = create(council, parking, key=None)

    assert first.pk != second.pk
    assert IdempotencyRecord.objects.count() == 0


# Taking a payment -----------------------------------------------------------------------


def test_a_retried_take_returns_the_same_receipt_and_posts_once(council, parking):
    first = take(council, parking, key="till-7-0001")

    again = take(council, parking, key="till-7-0001")

    assert again.pk == first.pk
    assert again.receipt_number == first.receipt_number
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert Payment.objects.count() == 1


# Refunds --------------------------------------------------------------------------------


@pytest.fixture
def payment(council, parking):
    return take(council, parking, key="till-7-0001")


def refund(payment, officer, amount_pence=600, *, key):
    return refund_request(
        payment=payment,
        amount_pence=amount_pence,
        reason="Overpaid",
        requested_by=officer,
        idempotency_key=key,
    )


def test_a_repeated_refund_returns_the_first_and_posts_nothing(payment, officer):
    first = refund(payment, officer, key="refund-1")
    before = row_counts()

    again = refund(payment, officer, key="refund-1")

    payment.refresh_from_db()
    assert again.pk == first.pk
    assert row_counts() == before
    assert payment.refunded_pence == 600


def test_the_same_refund_key_for_a_different_amount_is_a_conflict(payment, officer):
    refund(payment, officer, 600, key="refund-1")
    before = row_counts()

    with pytest.raises(IdempotencyConflict, match="different refund request"):
        refund(payment, officer, 500, key="refund-1")

    assert row_counts() == before


def test_a_payment_key_and_a_refund_key_of_the_same_text_are_different_keys(payment, officer):
    done = refund(payment, officer, key="till-7-0001")

    assert done.amount_pence == 600
    assert Refund.objects.count() == 1
