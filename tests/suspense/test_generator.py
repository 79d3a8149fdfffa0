"""The demo council's suspense rules, and the generator of realistic suspense items: every item
it makes is in suspense, with the truth about it, and the rules allocate none wrongly."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from backoffice.funds.models import FundCode
from backoffice.suspense.models import SuspenseAllocation, SuspenseItem, SuspenseRule
from backoffice.suspense.services import suspense_run_rules
from fixtures.demo import load_demo_council
from fixtures.suspense import KINDS, demo_rules, generate_suspense, suspense_demo_rules

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo council, loaded once for the module (and rolled back after it)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield load_demo_council(password="demo")["organisation"]
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def generated(demo, django_db_blocker):
    """120 items; the module's transaction never commits, so the rules are run here as they
    would be on each payment's commit."""
    with django_db_blocker.unblock():
        made = generate_suspense(demo, items=120, seed=7, scale=0.02)
        suspense_run_rules(organisation=demo)
        return made


def test_the_demo_council_has_its_rules_switched_on_by_the_finance_administrator(demo):
    rules = list(SuspenseRule.objects.filter(organisation=demo).order_by("sort_order"))

    assert [rule.name for rule in rules] == [rule["name"] for rule in demo_rules()]
    assert all(rule.is_enabled for rule in rules)
    assert {rule.enabled_by.username for rule in rules} == {"finance.admin"}


def test_loading_the_demo_rules_again_changes_nothing(demo):
    before = list(SuspenseRule.objects.filter(organisation=demo).values())

    suspense_demo_rules(demo, switched_on_by=get_user_model().objects.get(username="cashier"))

    assert list(SuspenseRule.objects.filter(organisation=demo).values()) == before


def test_every_generated_item_is_in_suspense_with_its_truth(demo, generated):
    items = {
        item.payment_line.payment.idempotency_key: item
        for item in SuspenseItem.objects.filter(organisation=demo).select_related(
            "payment_line__payment", "intended_fund_code"
        )
    }
    funds = {fund.code: fund for fund in FundCode.objects.filter(organisation=demo)}
    known = {code: {a.reference for a in accounts} for code, accounts in generated.accounts.items()}

    assert len(generated.items) == 120
    assert set(Counter(item.kind for item in generated.items)) == set(KINDS)
    for truth in generated.items:
        item = items[truth.key]
        assert (item.reference, item.intended_fund_code.code) == (
            truth.reference,
            truth.intended_fund,
        )
        if truth.true_fund is None:
            continue
        assert funds[truth.true_fund].check_reference(truth.true_reference).is_valid
        if truth.true_fund in known:
            assert truth.true_reference in known[truth.true_fund]
        assert (truth.intended_fund, truth.reference) != (truth.true_fund, truth.true_reference)


def test_the_demo_rules_allocate_none_wrongly_and_most_of_them(demo, generated):
    answers = {
        allocation.item.payment_line.payment.idempotency_key: (
            allocation.fund_code.code,
            allocation.reference,
        )
        for allocation in SuspenseAllocation.objects.filter(
            organisation=demo, rule__isnull=False
        ).select_related("item__payment_line__payment", "fund_code")
    }
    moved = [truth for truth in generated.items if truth.key in answers]

    assert [
        truth for truth in moved if answers[truth.key] != (truth.true_fund, truth.true_reference)
    ] == []
    assert len(moved) >= 0.85 * len(generated.items)


def test_the_command_gives_a_council_more_suspense_items(demo):
    from io import StringIO

    before = SuspenseItem.objects.filter(organisation=demo).count()
    out = StringIO()

    call_command("generate_suspense", council="barchester", items=5, scale=0.01, stdout=out)

    assert SuspenseItem.objects.filter(organisation=demo).count() == before + 5
    assert "5 suspense items made for Barchester City Council" in out.getvalue()


def test_the_command_refuses_a_council_that_does_not_exist(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No council has the code 'nowhere'"):
        call_command("generate_suspense", council="nowhere")
