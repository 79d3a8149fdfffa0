"""The hot path writes rows with plain SQL: what it writes must be what the ORM would write.

``payment_take`` on PostgreSQL writes the payment, its lines, its status
history, its entry and the entry's postings in one statement, with the
receipt number issued in it; elsewhere the same rows go in one by one. Either
way the rows read back through the ORM exactly as a payment taken the long
way (``payment_create`` then ``payment_succeed``) would.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.ledger.models import EntryKind, JournalEntry
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import (
    Payment,
    PaymentLine,
    PaymentStatus,
    ReceiptSequence,
    Refund,
    StatusChange,
)
from backoffice.payments.services import (
    LineInput,
    Payer,
    payment_create,
    payment_succeed,
    payment_take,
    refund_request,
)
from tests.markers import postgresql_only


def take(council, *lines, **kwargs):
    return payment_take(
        organisation=council, channel="face_to_face", method="cash", lines=list(lines), **kwargs
    )


def the_long_way(council, *lines, **kwargs):
    payment = payment_create(
        organisation=council, channel="face_to_face", method="cash", lines=list(lines), **kwargs
    )
    return payment_succeed(payment=payment, reason="Money received")


def rows_of(payment):
    """Everything written for a payment, as the ORM reads it, without keys and times."""
    payment = Payment.objects.get(pk=payment.pk)
    entry = JournalEntry.objects.get(kind=EntryKind.PAYMENT, source_id=payment.pk)
    return {
        "payment": (
            payment.status,
            payment.channel,
            payment.method,
            payment.total_pence,
            payment.refunded_pence,
            payment.payer_name,
            payment.tax_point,
            payment.created_by_id,
            payment.completed_at is not None,
            payment.created_at <= payment.updated_at,
        ),
        "lines": list(
            payment.lines.values_list(
                "organisation", "fund_code", "vat_rate", "net_pence", "vat_pence", "gross_pence"
            )
        ),
        "history": list(
            payment.status_changes.values_list("organisation", "from_status", "to_status")
        ),
        "entry": (entry.organisation_id, entry.description == f"Payment {payment.pk}"),
        "postings": sorted(entry.postings.values_list("account__code", "amount_pence")),
    }


def test_a_payment_taken_is_written_as_the_long_way_writes_it(council, parking, officer):
    line = LineInput(parking, 1_200, account_reference="PCN123")
    payer = Payer(name="A. Payer")

    taken = take(council, line, payer=payer, created_by=officer)
    long_way = the_long_way(council, line, payer=payer, created_by=officer)

    assert rows_of(taken) == rows_of(long_way)


def test_the_payment_returned_is_the_one_written(council, parking):
    before = timezone.now()

    payment = take(council, LineInput(parking, 1_200, account_reference="PCN123"))

    stored = Payment.objects.get(pk=payment.pk)
    assert payment.status == stored.status == PaymentStatus.SUCCESS
    assert payment.receipt_number == stored.receipt_number
    assert before <= stored.created_at <= stored.completed_at
    assert not payment._state.adding
    assert [line.gross_pence for line in payment.lines.all()] == [1_200]


def test_the_first_receipt_of_a_council_starts_its_sequence(council, parking):
    council.receipt_prefix = "BAR"
    council.save()
    assert not ReceiptSequence.objects.filter(organisation=council).exists()

    first = take(council, LineInput(parking, 100, account_reference="PCN1"))
    second = take(council, LineInput(parking, 100, account_reference="PCN2"))

    assert (first.receipt_number, second.receipt_number) == ("BAR-00000001", "BAR-00000002")
    assert ReceiptSequence.objects.get(organisation=council).last_number == 2


def test_receipt_numbers_past_eight_digits_keep_every_digit(council, parking):
    ReceiptSequence.objects.create(organisation=council, last_number=99_999_999)

    payment = take(council, LineInput(parking, 100, account_reference="PCN1"))

    assert payment.receipt_number == "100000000"


def test_a_payment_line_in_suspense_keeps_what_the_payer_meant(
    council, ctax, suspense_fund, officer
):
    payment = take(council, LineInput(ctax, 5_000, account_reference="12345678"))

    (line,) = PaymentLine.objects.filter(payment=payment)
    assert (line.fund_code, line.intended_fund_code) == (suspense_fund, ctax)
    assert line.suspense_reason


@postgresql_only("one-statement write of a taken payment (data-modifying CTEs)")
def test_on_postgresql_a_payment_is_taken_in_two_statements(council, parking):
    take(council, LineInput(parking, 100, account_reference="PCN0"))  # the accounts exist

    with CaptureQueriesContext(connection) as queries:
        take(council, LineInput(parking, 100, account_reference="PCN1"), idempotency_key="k")

    # The accounts, then one statement for everything else (the savepoint is
    # for the test's own transaction around the service's).
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2, statements
    assert statements[-1].startswith("WITH issued AS (INSERT INTO")


# The key on the row ---------------------------------------------------------------------


def test_a_payment_keeps_its_idempotency_key_on_its_own_row(council, parking):
    payment = take(council, LineInput(parking, 100, account_reference="PCN1"), idempotency_key="k1")

    stored = Payment.objects.get(pk=payment.pk)
    assert stored.idempotency_key == "k1"
    assert len(stored.idempotency_fingerprint) == 64


def test_a_retry_gets_its_payment_even_when_its_fund_has_closed_since(council, parking):
    line = LineInput(parking, 100, account_reference="PCN1")
    first = take(council, line, idempotency_key="till-1")
    parking.is_active = False
    parking.save()

    again = take(council, line, idempotency_key="till-1")

    assert again.pk == first.pk


def test_a_key_used_to_create_a_payment_cannot_take_another(council, parking):
    line = LineInput(parking, 100, account_reference="PCN1")
    payment_create(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[line],
        idempotency_key="k",
    )

    with pytest.raises(IdempotencyConflict):
        take(council, line, idempotency_key="k")

    assert Payment.objects.count() == 1


def test_a_retried_refund_returns_the_first_though_nothing_is_left_to_refund(
    council, parking, officer
):
    payment = take(council, LineInput(parking, 1_000, account_reference="PCN1"))

    def refund():
        return refund_request(
            payment=payment,
            amount_pence=1_000,
            reason="Overpaid",
            requested_by=officer,
            idempotency_key="refund-1",
        )

    first = refund()
    again = refund()

    assert again.pk == first.pk
    assert Refund.objects.count() == 1
    assert Refund.objects.get().idempotency_key == "refund-1"
    assert StatusChange.objects.filter(to_status=PaymentStatus.REFUNDED).count() == 1
