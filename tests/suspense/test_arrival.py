"""Suspense items arrive with their payments: written in the same transaction, and the rules
run on them once the payment has committed."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.payments.services import (
    LineInput,
    Payer,
    payment_create,
    payment_succeed,
    payment_take,
)
from backoffice.suspense.models import SuspenseItem
from backoffice.suspense.tasks import allocate_arrivals_task
from tests.factories import suspense_rule
from tests.markers import postgresql_only

from .conftest import account, mistyped

pytestmark = pytest.mark.django_db


def test_a_line_sent_to_suspense_becomes_an_item_with_everything_it_arrived_with(
    council, ctax, parking, suspense_fund
):
    before = timezone.now()
    payment = payment_take(
        organisation=council,
        channel="bank",
        method="bank_transfer",
        lines=[
            LineInput(parking, 1_200, account_reference="PCN1"),
            LineInput(ctax, 6_000, account_reference="1234567X", narrative="BGC J BOLD CTAX"),
        ],
        payer=Payer(name="John Bold"),
    )

    (item,) = SuspenseItem.objects.all()
    line = payment.lines.get(intended_fund_code=ctax)
    assert item.payment_line == line
    assert item.organisation == council
    assert (item.reference, item.narrative, item.payer_name) == (
        "1234567X",
        "BGC J BOLD CTAX",
        "John Bold",
    )
    assert (item.channel, item.source) == ("bank", "bank_transfer")
    assert item.intended_fund_code == ctax
    assert item.reason == line.suspense_reason
    assert (item.amount_pence, item.paid_pence) == (line.net_pence, 6_000)
    assert before <= item.received_at <= timezone.now()


def test_a_payment_without_suspense_lines_makes_no_item(council, ctax, suspense_fund):
    payment_take(
        organisation=council,
        channel="telephone",
        method="card",
        lines=[LineInput(ctax, 1_000, account_reference=account(ctax, "1234567"))],
    )

    assert not SuspenseItem.objects.exists()


def test_a_provider_payment_makes_its_items_when_it_succeeds(council, ctax, suspense_fund):
    payment = payment_create(
        organisation=council,
        channel="telephone",
        method="card",
        provider="sandbox",
        lines=[LineInput(ctax, 1_000, account_reference="12345675")],
    )
    assert not SuspenseItem.objects.exists()

    payment_succeed(payment=payment, actor="sandbox callback")
    payment_succeed(payment=payment, actor="sandbox callback, again")

    (item,) = SuspenseItem.objects.all()
    assert item.source == "sandbox"
    assert item.payment_line.payment == payment


def test_a_payment_that_rolls_back_leaves_no_item(council, ctax, suspense_fund):
    with pytest.raises(RuntimeError), transaction.atomic():
        payment_take(
            organisation=council,
            channel="telephone",
            method="card",
            lines=[LineInput(ctax, 1_000, account_reference="12345675")],
        )
        raise RuntimeError("the till fails before it commits")

    assert not SuspenseItem.objects.exists()


def test_a_repeated_payment_makes_its_item_once(council, ctax, suspense_fund):
    line = LineInput(ctax, 1_000, account_reference="12345675")
    for _ in range(2):
        payment_take(
            organisation=council,
            channel="telephone",
            method="card",
            lines=[line],
            idempotency_key="till-1",
        )

    assert SuspenseItem.objects.count() == 1


def test_the_rules_run_on_an_item_once_its_payment_commits(
    council, ctax, suspense_fund, finance_admin, department, django_capture_on_commit_callbacks
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    suspense_rule(
        council,
        name="Typo",
        actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}],
        switched_on_by=finance_admin,
    )

    with django_capture_on_commit_callbacks() as callbacks:
        payment_take(
            organisation=council,
            channel="telephone",
            method="card",
            lines=[LineInput(ctax, 1_000, account_reference=mistyped(true))],
        )
        item = SuspenseItem.objects.get()
        assert not item.allocations.exists()  # nothing before the payment commits
    for callback in callbacks:
        callback()

    (allocation,) = item.allocations.all()
    assert (allocation.fund_code, allocation.reference) == (ctax, true)


def test_the_arrivals_task_reports_what_it_did(council, ctax, suspense_fund, finance_admin):
    suspense_rule(council, name="Anything", switched_on_by=finance_admin)
    payment = payment_take(
        organisation=council,
        channel="telephone",
        method="card",
        lines=[LineInput(ctax, 1_000, account_reference="12345675")],
    )

    result = allocate_arrivals_task.call(payment.pk)

    assert result == {"tried": 1, "allocated": 0, "allocated_pence": 0, "failed": 0}
    assert "found nothing" in SuspenseItem.objects.get().last_run_outcome


def test_a_failing_rule_never_fails_the_payment(
    council, ctax, suspense_fund, finance_admin, monkeypatch, django_capture_on_commit_callbacks
):
    from backoffice.suspense import services

    def broken(**kwargs):
        raise RuntimeError("a department's system is down")

    monkeypatch.setattr(services, "allocate_suspense", broken)
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_take(
            organisation=council,
            channel="telephone",
            method="card",
            lines=[LineInput(ctax, 1_000, account_reference="12345675")],
        )

    assert payment.receipt_number
    assert SuspenseItem.objects.get().last_run_at is None


@postgresql_only("one-statement write of a taken payment (data-modifying CTEs)")
def test_on_postgresql_a_payment_in_suspense_takes_one_statement_more(council, ctax, suspense_fund):
    def take(reference, key):
        return payment_take(
            organisation=council,
            channel="telephone",
            method="card",
            lines=[LineInput(ctax, 100, account_reference=reference)],
            idempotency_key=key,
        )

    take("12345675", "warm-up")  # the accounts exist

    with CaptureQueriesContext(connection) as queries:
        take("12345676", "k")

    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    # As for any payment with a line in suspense, the council's suspense fund and the
    # accounts are read and the payment is written in one statement; then its items.
    assert len(statements) == 4, statements
    assert '"funds_fundcode"' in statements[0]
    assert statements[2].startswith("WITH issued AS (INSERT INTO")
    assert statements[3].startswith('INSERT INTO "suspense_suspenseitem"')
