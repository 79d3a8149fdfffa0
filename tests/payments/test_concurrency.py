"""Twenty requests at once about the same money: the row locks keep the books right.

Real threads, each on its own database connection, released together by a
barrier. SQLite serialises every write, so only PostgreSQL can show a race.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from backoffice.funds.models import Channel, FundCode
from backoffice.ledger.models import EntryKind, JournalEntry, Posting
from backoffice.payments.models import (
    IdempotencyRecord,
    Method,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StatusChange,
)
from backoffice.payments.services import (
    LineInput,
    RefundOutcome,
    payment_create,
    payment_succeed,
    payment_take,
    refund_request,
)
from tests.markers import postgresql_only

pytestmark = [
    postgresql_only("row locks and concurrent writers (SQLite serialises every writer)"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def at_once(work, count=THREADS):
    """``work(i)`` in ``count`` threads started together; what each returned or raised."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        try:
            # Connected before the barrier, so that connecting does not stagger the start.
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def unbalanced_entries():
    return list(
        Posting.objects.values("entry").annotate(total=Sum("amount_pence")).exclude(total=0)
    )


def accepted(refund):
    return RefundOutcome(accepted=True, provider_reference=f"RF-{refund.pk}")


# Refunds racing for one payment ---------------------------------------------------------------

# £10.00 to £25.00 each, £350.00 in all: far more than the £100.00 taken.
ASKED = [1_000, 1_500, 2_000, 2_500] * 5


@pytest.fixture
def hundred_pounds(parking, officer):
    return payment_take(
        organisation=parking.organisation,
        channel=Channel.TELEPHONE,
        method=Method.CARD,
        lines=[LineInput(fund_code=parking, amount_pence=10_000, account_reference="PCN1")],
        created_by=officer,
    )


@pytest.fixture
def refund_race(hundred_pounds, officer):
    """Twenty refunds of the same payment at once: each thread's Refund or error."""

    def refund(i):
        return refund_request(
            payment=Payment.objects.get(pk=hundred_pounds.pk),
            amount_pence=ASKED[i],
            reason=f"Refund request {i}",
            requested_by=officer,
            gateway=accepted,
        )

    return at_once(refund)


def test_refunds_racing_for_one_payment_never_give_back_more_than_it_took(
    hundred_pounds, refund_race
):
    refunded = Refund.objects.filter(payment=hundred_pounds, status=RefundStatus.SUCCEEDED)

    assert refunded.aggregate(total=Sum("amount_pence"))["total"] <= 10_000


def test_the_payment_records_exactly_the_refunds_that_won_the_race(hundred_pounds, refund_race):
    payment = Payment.objects.get(pk=hundred_pounds.pk)
    refunds = [outcome for outcome in refund_race if isinstance(outcome, Refund)]

    assert all(refund.status == RefundStatus.SUCCEEDED for refund in refunds)
    assert payment.refunded_pence == sum(refund.amount_pence for refund in refunds)
    assert Refund.objects.filter(payment=payment).count() == len(refunds)
    assert sum(line.refunded_pence for line in payment.lines.all()) == payment.refunded_pence


def test_a_refund_that_loses_the_race_is_told_how_much_can_still_be_refunded(
    hundred_pounds, refund_race
):
    left = 10_000 - Payment.objects.get(pk=hundred_pounds.pk).refunded_pence
    refused = [
        (ASKED[i], outcome)
        for i, outcome in enumerate(refund_race)
        if not isinstance(outcome, Refund)
    ]

    assert refused
    for asked, error in refused:
        assert isinstance(error, ValidationError), repr(error)
        assert "can still be refunded" in error.messages[0]
        # Refused only for want of money: what is left now is less than was asked.
        assert asked > left


def test_the_ledger_balances_after_refunds_race(refund_race):
    assert unbalanced_entries() == []
    assert Posting.objects.aggregate(total=Sum("amount_pence"))["total"] == 0


# Completing payments at once -----------------------------------------------------------------


def open_payment(fund, officer, amount_pence=2_500, **kwargs):
    return payment_create(
        organisation=fund.organisation,
        channel=Channel.ONLINE,
        method=Method.CARD,
        lines=[LineInput(fund_code=fund, amount_pence=amount_pence, account_reference="PCN1")],
        created_by=officer,
        **kwargs,
    )


def test_twenty_payments_completed_at_once_get_receipt_numbers_one_to_twenty(parking, officer):
    payments = [open_payment(parking, officer, amount_pence=100 + i) for i in range(THREADS)]

    outcomes = at_once(lambda i: payment_succeed(payment=payments[i], actor="provider"))

    assert all(isinstance(outcome, Payment) for outcome in outcomes), outcomes
    numbers = sorted(
        int(number) for number in Payment.objects.values_list("receipt_number", flat=True)
    )
    assert numbers == list(range(1, THREADS + 1))


def test_twenty_callbacks_for_one_payment_issue_one_receipt_and_post_one_entry(parking, officer):
    payment = open_payment(parking, officer)

    outcomes = at_once(lambda i: payment_succeed(payment=payment, actor="provider"))

    assert all(isinstance(outcome, Payment) for outcome in outcomes), outcomes
    assert {outcome.receipt_number for outcome in outcomes} == {"00000001"}
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert StatusChange.objects.filter(to_status=PaymentStatus.SUCCESS).count() == 1


def test_twenty_requests_with_one_idempotency_key_create_one_payment(parking, officer):
    def create(i):
        # Each request arrives with its own copy of the fund, as a web request would.
        fund = FundCode.objects.get(pk=parking.pk)
        return open_payment(fund, officer, idempotency_key="basket-42")

    outcomes = at_once(create)

    assert all(isinstance(outcome, Payment) for outcome in outcomes), outcomes
    assert Payment.objects.count() == 1
    assert {outcome.pk for outcome in outcomes} == {Payment.objects.get().pk}
    # The key is kept on the payment itself, not in a separate record.
    assert Payment.objects.get().idempotency_key == "basket-42"
    assert IdempotencyRecord.objects.count() == 0
