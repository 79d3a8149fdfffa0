"""Whatever happens to suspense, in whatever order, no money is made or lost.

Each example plays a random sequence of payments (some lines with a mistyped
reference the rules can put right, some with one nobody knows), runs of the
rules, people's allocations (to one fund or split, some above the approval
limit), approvals and rejections of those, refunds, and moves from the
payment's page. After every step:

- the suspense account holds exactly what the items still hold;
- an item's amount is what is still open, plus what waits for approval, plus
  the journals posted out of suspense, plus what was refunded: a fully
  allocated item's journals out of suspense add up to its amount;
- every allocation is its journal, to the penny, and never more than the item;
- the ledger balances.

Every example runs in a savepoint rolled back afterwards.
"""

from contextlib import contextmanager, suppress
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.funds.models import FundCode
from backoffice.ledger.models import Journal, JournalStatus
from backoffice.ledger.selectors import ledger_total_pence
from backoffice.ledger.services import journal_approve, journal_reject, journal_request
from backoffice.payments.models import Payment
from backoffice.payments.services import LineInput, Payer, payment_take, refund_request
from backoffice.suspense.models import SuspenseAllocation, SuspenseItem
from backoffice.suspense.selectors import item_amounts, suspense_balance_pence
from backoffice.suspense.services import Part, suspense_allocate, suspense_run_rules
from backoffice.tenancy.models import Organisation
from tests.factories import FundCodeFactory, UserFactory, suspense_rule

from .conftest import account, mistyped

pytestmark = pytest.mark.django_db

THRESHOLD_PENCE = 20_000
SEQUENCES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GOOD, TYPO, UNKNOWN = "good", "typo", "unknown"


@dataclass(frozen=True)
class Pay:
    references: tuple[str, ...]  # GOOD, TYPO or UNKNOWN, one per line
    gross_pence: int


@dataclass(frozen=True)
class RunRules:
    pass


@dataclass(frozen=True)
class Allocate:
    item: int
    parts: int  # how many funds it is split across


@dataclass(frozen=True)
class Decide:
    journal: int
    approve: bool


@dataclass(frozen=True)
class Refund:
    payment: int
    percent: int


@dataclass(frozen=True)
class MoveFromPaymentPage:
    item: int
    percent: int


index = st.integers(min_value=0, max_value=30)
operations = st.lists(
    st.one_of(
        st.builds(
            Pay,
            references=st.lists(
                st.sampled_from([GOOD, TYPO, TYPO, UNKNOWN]), min_size=1, max_size=3
            ).map(tuple),
            gross_pence=st.integers(min_value=1, max_value=60_000),
        ),
        st.just(RunRules()),
        st.builds(Allocate, item=index, parts=st.integers(min_value=1, max_value=3)),
        st.builds(Allocate, item=index, parts=st.integers(min_value=1, max_value=3)),
        st.builds(Decide, journal=index, approve=st.booleans()),
        st.builds(Refund, payment=index, percent=st.integers(min_value=1, max_value=100)),
        st.builds(MoveFromPaymentPage, item=index, percent=st.integers(min_value=1, max_value=100)),
    ),
    min_size=5,
    max_size=20,
)


def pick(items, position):
    return items[-1 - position % len(items)]


def shares(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` positive parts (fewer if it is too small) that add up to it."""
    parts = max(1, min(parts, total))
    base = [total // parts] * parts
    base[0] += total - sum(base)
    return base


@pytest.fixture
def world(council, ctax, suspense_fund, department, finance_admin):
    council.journal_approval_threshold_pence = THRESHOLD_PENCE
    council.save()
    parking = FundCodeFactory(organisation=council, code="PARK")
    known = account(ctax, "1234567")
    department(CTAX=[known])
    suspense_rule(
        council,
        name="One typing error",
        actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}],
        switched_on_by=finance_admin,
    )
    officer = UserFactory(username="allocator", password=None)
    approver = UserFactory(username="second.person", password=None)
    return council, {"CTAX": ctax, "PARK": parking}, known, officer, approver


class CouncilUnderTest:
    def __init__(self, world):
        council, funds, self.known, self.officer, self.approver = world
        self.organisation = Organisation.objects.get(pk=council.pk)
        self.funds = {code: FundCode.objects.get(pk=fund.pk) for code, fund in funds.items()}
        self.payments: list[int] = []

    @property
    def items(self):
        return list(SuspenseItem.objects.filter(organisation=self.organisation).order_by("pk"))

    def apply(self, operation):
        # Refused (nothing left, too much, already decided): the properties hold all the same.
        with suppress(ValidationError, PermissionDenied):
            self._apply(operation)

    def _reference(self, kind):
        return {GOOD: self.known, TYPO: mistyped(self.known), UNKNOWN: "99999999"}[kind]

    def _apply(self, operation):
        match operation:
            case Pay():
                payment = payment_take(
                    organisation=self.organisation,
                    channel="bank",
                    method="bank_transfer",
                    lines=[
                        LineInput(self.funds["CTAX"], operation.gross_pence, self._reference(kind))
                        for kind in operation.references
                    ],
                    payer=Payer(name="A Payer"),
                )
                self.payments.append(payment.pk)
            case RunRules():
                suspense_run_rules(organisation=self.organisation)
            case Allocate(item=position) if self.items:
                item = pick(self.items, position)
                open_pence = item_amounts(item).open_pence
                funds = [self.funds["CTAX"], self.funds["PARK"]]
                parts = [
                    Part(funds[number % 2], self.known if number % 2 == 0 else "P1", amount)
                    for number, amount in enumerate(shares(max(open_pence, 1), operation.parts))
                ]
                suspense_allocate(
                    item=item, parts=parts, note="Found it", allocated_by=self.officer
                )
            case Decide(journal=position):
                waiting = list(
                    Journal.objects.filter(
                        organisation=self.organisation, status=JournalStatus.PENDING_APPROVAL
                    ).order_by("pk")
                )
                if waiting:
                    journal = pick(waiting, position)
                    if operation.approve:
                        journal_approve(journal=journal, approved_by=self.approver)
                    else:
                        journal_reject(journal=journal, rejected_by=self.approver, note="No")
            case Refund(payment=position) if self.payments:
                payment = Payment.objects.get(pk=pick(self.payments, position))
                refund_request(
                    payment=payment,
                    amount_pence=max(1, payment.refundable_pence * operation.percent // 100),
                    reason="Paid twice",
                    requested_by=self.officer,
                )
            case MoveFromPaymentPage(item=position) if self.items:
                item = pick(self.items, position)
                journal_request(
                    organisation=self.organisation,
                    from_fund_code=item.payment_line.fund_code,
                    to_fund_code=self.funds["PARK"],
                    amount_pence=max(1, item.amount_pence * operation.percent // 100),
                    reason="Moved from the payment's page",
                    requested_by=self.officer,
                    payment_line=item.payment_line,
                )


@contextmanager
def council_in_a_savepoint(world):
    with transaction.atomic():
        yield CouncilUnderTest(world)
        transaction.set_rollback(True)


def journalled(item, status) -> int:
    return (
        Journal.objects.filter(payment_line=item.payment_line_id, status=status).aggregate(
            total=Sum("amount_pence")
        )["total"]
        or 0
    )


def check(council):
    organisation = council.organisation
    items = list(
        SuspenseItem.objects.filter(organisation=organisation)
        .with_amounts()
        .select_related("payment_line")
    )
    assert suspense_balance_pence(organisation) == sum(item.held_pence for item in items)
    for item in items:
        line = item.payment_line
        refunded = line.refunded_pence - line.refunded_vat_pence
        posted = journalled(item, JournalStatus.POSTED)
        pending = journalled(item, JournalStatus.PENDING_APPROVAL)
        assert item.amount_pence == item.open_pence + pending + posted + refunded
        if item.open_pence == 0 and pending == 0 and refunded == 0:
            assert posted == item.amount_pence
        allocations = SuspenseAllocation.objects.filter(item=item).select_related("journal")
        for allocation in allocations:
            assert allocation.amount_pence == allocation.journal.amount_pence
            assert allocation.fund_code_id == allocation.journal.to_fund_code_id
        allocated = sum(
            allocation.amount_pence
            for allocation in allocations
            if allocation.journal.status != JournalStatus.REJECTED
        )
        assert allocated <= item.amount_pence
    assert ledger_total_pence(organisation) == 0


@SEQUENCES
@given(operations=operations)
def test_suspense_never_makes_or_loses_a_penny(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)
            check(council)


@SEQUENCES
@given(
    gross=st.lists(st.integers(min_value=1, max_value=60_000), min_size=1, max_size=5),
    parts=st.integers(min_value=1, max_value=4),
)
def test_an_item_allocated_in_full_has_journals_out_of_suspense_adding_up_to_its_amount(
    world, gross, parts
):
    with council_in_a_savepoint(world) as council:
        for amount in gross:
            council.apply(Pay((TYPO, UNKNOWN), amount))
        council.apply(RunRules())
        for position in range(len(council.items)):
            council.apply(Allocate(position, parts))

        for item in council.items:
            assert (
                journalled(item, JournalStatus.POSTED)
                + journalled(item, JournalStatus.PENDING_APPROVAL)
                == item.amount_pence
            )
        check(council)
