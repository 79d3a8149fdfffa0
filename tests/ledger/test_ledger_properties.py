"""Whatever happens, in whatever order, the ledger balances and agrees with the records.

Each example plays a random sequence of payments (some with a bad reference, so
part goes to suspense), completions, refunds the provider accepts, rejects or
does not yet answer, journals between funds (some needing a second person) and
reversals of journal entries. Every example runs in a savepoint of the test's
transaction that is rolled back afterwards, so examples never see each other's
rows.
"""

from contextlib import contextmanager, suppress
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.funds.models import Channel, FundCode
from backoffice.ledger.models import (
    Account,
    AccountKind,
    EntryKind,
    Journal,
    JournalEntry,
    JournalStatus,
    Posting,
)
from backoffice.ledger.selectors import fund_income_pence, ledger_total_pence
from backoffice.ledger.services import (
    entry_reverse,
    journal_approve,
    journal_reject,
    journal_request,
)
from backoffice.payments.models import (
    TAKEN_STATUSES,
    Method,
    Payment,
    PaymentLine,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from backoffice.payments.services import (
    LineInput,
    RefundOutcome,
    _allocate,
    payment_close,
    payment_create,
    payment_succeed,
    payment_take,
    refund_complete,
    refund_request,
)
from backoffice.tenancy.models import Organisation
from tests.factories import FundCodeFactory, UserFactory, VatRateFactory, mod11_rule

# Journals of more than £1,000 wait for a second person.
THRESHOLD_PENCE = 100_000
# For the modulus 11 rule: the right check digit, and a wrong one.
GOOD_REFERENCE, BAD_REFERENCE = "12345674", "12345675"

SEQUENCES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The operations a sequence is made of ---------------------------------------------------


@dataclass(frozen=True)
class Line:
    fund: str
    gross_pence: int
    good_reference: bool


@dataclass(frozen=True)
class Pay:
    """Money in hand is taken at once; otherwise the payment waits for the provider's answer."""

    lines: tuple[Line, ...]
    method: str
    outcome: str


@dataclass(frozen=True)
class Complete:
    """The provider's late (or repeated) answer about whether a payment went through."""

    payment: int
    outcome: str


@dataclass(frozen=True)
class RefundPart:
    """Refund ``percent`` of the payment's total, or all that is left when ``None``."""

    payment: int
    percent: int | None
    provider_answer: str


@dataclass(frozen=True)
class ProviderAnswersRefund:
    """The provider's late answer about a refund (a repeat, if it answered already)."""

    refund: int
    accepted: bool


@dataclass(frozen=True)
class MoveMoney:
    from_fund: str
    to_fund: str
    amount_pence: int


@dataclass(frozen=True)
class Decide:
    journal: int
    decision: str


@dataclass(frozen=True)
class Reverse:
    """Reverse a journal's entry, or a reversal of one."""

    entry: int


IN_HAND, SUCCEEDS, FAILS, LEFT_OPEN = "in hand", "succeeds", "fails", "left open"
ACCEPTED, REJECTED, NO_ANSWER = "accepted", "rejected", "no answer"
APPROVE, APPROVE_OWN, REJECT = "approve", "approve own", "reject"
FUNDS = ("RENT", "PARKING", "LICENCE", "SUSPENSE")
PAYABLE_FUNDS = FUNDS[:3]

paid_line = st.builds(
    Line,
    fund=st.sampled_from(PAYABLE_FUNDS),
    gross_pence=st.integers(min_value=1, max_value=200_000),
    good_reference=st.booleans(),
)
# Which payment, refund, journal or entry an operation acts on: see pick().
index = st.integers(min_value=0, max_value=50)
pay = st.builds(
    Pay,
    lines=st.lists(paid_line, min_size=1, max_size=3).map(tuple),
    method=st.sampled_from([Method.CARD, Method.CASH]),
    outcome=st.sampled_from([IN_HAND, SUCCEEDS, SUCCEEDS, FAILS, LEFT_OPEN]),
)
complete = st.builds(Complete, payment=index, outcome=st.sampled_from([SUCCEEDS, SUCCEEDS, FAILS]))
refund_part = st.builds(
    RefundPart,
    payment=index,
    percent=st.none() | st.integers(min_value=1, max_value=110),
    provider_answer=st.sampled_from([ACCEPTED, ACCEPTED, REJECTED, NO_ANSWER]),
)
provider_answers = st.builds(ProviderAnswersRefund, refund=index, accepted=st.booleans())
move_money = st.builds(
    lambda funds, amount: MoveMoney(*funds[:2], amount),
    st.permutations(FUNDS),
    st.integers(min_value=1, max_value=THRESHOLD_PENCE)
    | st.integers(min_value=THRESHOLD_PENCE + 1, max_value=3 * THRESHOLD_PENCE),
)
decide = st.builds(Decide, journal=index, decision=st.sampled_from([APPROVE, APPROVE_OWN, REJECT]))
reverse = st.builds(Reverse, entry=index)
# Payments and refunds twice as often as the rest: most of what can go wrong needs money taken.
operations = st.lists(
    st.one_of(
        pay, pay, refund_part, refund_part, complete, provider_answers, move_money, decide, reverse
    ),
    min_size=10,
    max_size=30,
)


# A council to play them against -------------------------------------------------------------


class ProviderTimedOut(Exception):
    pass


def provider_answering(answer: str):
    def gateway(refund):
        if answer == NO_ANSWER:
            raise ProviderTimedOut("The provider did not answer; the refund stays pending.")
        return RefundOutcome(
            accepted=answer == ACCEPTED,
            provider_reference=f"REF-{refund.pk}",
            message="" if answer == ACCEPTED else "Card account closed",
        )

    return gateway


@pytest.fixture
def world(council):
    council.journal_approval_threshold_pence = THRESHOLD_PENCE
    council.save()
    standard = VatRateFactory(organisation=council, code="S")
    rule = mod11_rule(council)
    FundCodeFactory(
        organisation=council, code="RENT", default_vat_rate=standard, reference_rule=rule
    )
    FundCodeFactory(organisation=council, code="PARKING", reference_rule=rule)
    FundCodeFactory(organisation=council, code="LICENCE")
    FundCodeFactory(organisation=council, code="SUSPENSE", is_suspense=True)
    assert rule.check_reference(GOOD_REFERENCE).is_valid
    assert not rule.check_reference(BAD_REFERENCE).is_valid
    # No passwords: these people never sign in, and hashing one is slow.
    requester = UserFactory(username="requester", password=None)
    approver = UserFactory(username="approver", password=None)
    return council, requester, approver


class CouncilUnderTest:
    def __init__(self, world):
        council, self.requester, self.approver = world
        # Fresh instances every example, so that nothing a service caches on one (an
        # account created in a rolled-back example, say) outlives its example.
        self.organisation = Organisation.objects.get(pk=council.pk)
        self.funds = {
            fund.code: fund for fund in FundCode.objects.filter(organisation=self.organisation)
        }
        self.payments: list[int] = []
        self.journals: list[int] = []

    def apply(self, operation):
        # Refused, or left pending: the properties must hold all the same.
        with suppress(ValidationError, PermissionDenied, ProviderTimedOut):
            self._apply(operation)

    def _apply(self, operation):
        match operation:
            case Pay():
                take = payment_take if operation.outcome == IN_HAND else payment_create
                payment = take(
                    organisation=self.organisation,
                    channel=Channel.TELEPHONE,
                    method=operation.method,
                    lines=[
                        LineInput(
                            fund_code=self.funds[line.fund],
                            amount_pence=line.gross_pence,
                            account_reference=GOOD_REFERENCE
                            if line.good_reference
                            else BAD_REFERENCE,
                        )
                        for line in operation.lines
                    ],
                    created_by=self.requester,
                )
                self.payments.append(payment.pk)
                self._complete(payment.pk, operation.outcome)
            case Complete(payment=position) if self.payments:
                self._complete(pick(self.payments, position), operation.outcome)
            case RefundPart(payment=position) if self.payments:
                payment = Payment.objects.get(pk=pick(self.payments, position))
                if operation.percent is None:
                    amount = payment.refundable_pence
                else:
                    amount = max(1, payment.total_pence * operation.percent // 100)
                refund_request(
                    payment=payment,
                    amount_pence=amount,
                    reason="Paid twice",
                    requested_by=self.requester,
                    gateway=provider_answering(operation.provider_answer),
                )
            case ProviderAnswersRefund(refund=position):
                refunds = Refund.objects.filter(organisation=self.organisation).order_by("pk")
                if refunds:
                    refund = pick(list(refunds), position)
                    answer = provider_answering(ACCEPTED if operation.accepted else REJECTED)
                    refund_complete(refund=refund, outcome=answer(refund))
            case MoveMoney():
                journal = journal_request(
                    organisation=self.organisation,
                    from_fund_code=self.funds[operation.from_fund],
                    to_fund_code=self.funds[operation.to_fund],
                    amount_pence=operation.amount_pence,
                    reason="Paid to the wrong fund",
                    requested_by=self.requester,
                )
                self.journals.append(journal.pk)
            case Decide(journal=position) if self.journals:
                journal = Journal.objects.get(pk=pick(self.journals, position))
                if operation.decision == APPROVE:
                    journal_approve(journal=journal, approved_by=self.approver)
                elif operation.decision == APPROVE_OWN:
                    journal_approve(journal=journal, approved_by=self.requester)
                else:
                    journal_reject(journal=journal, rejected_by=self.approver, note="No evidence")
            case Reverse(entry=position):
                entries = JournalEntry.objects.filter(
                    organisation=self.organisation,
                    kind__in=[EntryKind.JOURNAL, EntryKind.REVERSAL],
                ).order_by("pk")
                if entries:
                    entry = pick(list(entries), position)
                    entry_reverse(entry=entry, created_by=self.approver, reason="Posted in error")

    def _complete(self, pk, outcome):
        payment = Payment.objects.get(pk=pk)
        if outcome == SUCCEEDS:
            payment_succeed(payment=payment, actor="provider", reason="Card authorised")
        elif outcome == FAILS:
            payment_close(
                payment=payment, status=PaymentStatus.FAILED, actor="provider", reason="Declined"
            )


def pick(items, position):
    """Counting back from the latest, which is what most operations act on."""
    return items[-1 - position % len(items)]


@contextmanager
def council_in_a_savepoint(world):
    with transaction.atomic():
        yield CouncilUnderTest(world)
        transaction.set_rollback(True)


# What the records say the ledger should hold -------------------------------------------------


def taken_lines(organisation):
    return PaymentLine.objects.filter(organisation=organisation, payment__status__in=TAKEN_STATUSES)


def income_from_records(organisation) -> dict[str, int]:
    """Each fund's income as its payment lines, journals and reversals say it should be."""
    income = dict.fromkeys(FUNDS, 0)
    for line in taken_lines(organisation).select_related("fund_code"):
        kept = line.net_pence - (line.refunded_pence - line.refunded_vat_pence)
        income[line.fund_code.code] += kept
    journals = Journal.objects.filter(organisation=organisation, status=JournalStatus.POSTED)
    for journal in journals.select_related("from_fund_code", "to_fund_code"):
        move(income, journal, 1)
    reversals = JournalEntry.objects.filter(organisation=organisation, kind=EntryKind.REVERSAL)
    for reversal in reversals:
        # A reversal of a reversal puts the journal back.
        original, depth = reversal.reverses, 1
        while original.kind == EntryKind.REVERSAL:
            original, depth = original.reverses, depth + 1
        move(income, original.journal, -1 if depth % 2 else 1)
    return income


def move(income, journal, sign):
    income[journal.from_fund_code.code] -= sign * journal.amount_pence
    income[journal.to_fund_code.code] += sign * journal.amount_pence


def vat_output_credit(organisation) -> int:
    account = Account.objects.filter(organisation=organisation, kind=AccountKind.VAT_OUTPUT).first()
    if account is None:
        return 0
    return -(account.postings.aggregate(total=Sum("amount_pence"))["total"] or 0)


def refunds_of(payment, *statuses) -> int:
    return sum(refund.amount_pence for refund in payment.refunds.filter(status__in=statuses))


# Properties ---------------------------------------------------------------------------------


@SEQUENCES
@given(operations=operations)
def test_every_entry_and_so_the_whole_ledger_balances_after_every_step(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            unbalanced = (
                Posting.objects.filter(organisation=council.organisation)
                .values("entry")
                .annotate(total=Sum("amount_pence"))
                .exclude(total=0)
            )
            assert list(unbalanced) == []
            assert ledger_total_pence(council.organisation) == 0


@SEQUENCES
@given(operations=operations)
def test_each_funds_income_is_what_it_kept_of_its_takings_plus_journals_in_less_out(
    world, operations
):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            in_the_ledger = {code: fund_income_pence(fund) for code, fund in council.funds.items()}
            assert in_the_ledger == income_from_records(council.organisation)


@SEQUENCES
@given(operations=operations)
def test_vat_output_is_the_vat_taken_less_the_vat_refunded(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            kept = sum(
                line.vat_pence - line.refunded_vat_pence
                for line in taken_lines(council.organisation)
            )
            assert vat_output_credit(council.organisation) == kept


@SEQUENCES
@given(operations=operations)
def test_a_payment_reserves_exactly_its_succeeded_and_pending_refunds_and_never_more_than_it_took(
    world, operations
):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            for payment in Payment.objects.filter(organisation=council.organisation):
                assert payment.refunded_pence <= payment.total_pence
                assert payment.refunded_pence == refunds_of(
                    payment, RefundStatus.SUCCEEDED, RefundStatus.PENDING
                )


@SEQUENCES
@given(operations=operations)
def test_a_payments_lines_give_back_exactly_its_succeeded_refunds(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            for payment in Payment.objects.filter(organisation=council.organisation):
                lines_refunded = sum(line.refunded_pence for line in payment.lines.all())
                assert lines_refunded == refunds_of(payment, RefundStatus.SUCCEEDED)


@SEQUENCES
@given(operations=operations)
def test_a_line_refunded_in_full_gives_back_all_its_vat(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            for line in taken_lines(council.organisation):
                if line.refunded_pence == line.gross_pence:
                    assert line.refunded_vat_pence == line.vat_pence


@SEQUENCES
@given(operations=operations)
def test_a_taken_payments_status_says_whether_it_is_partly_or_fully_refunded(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            for payment in Payment.objects.filter(organisation=council.organisation).taken():
                succeeded = refunds_of(payment, RefundStatus.SUCCEEDED)
                if succeeded == 0:
                    expected = PaymentStatus.SUCCESS
                elif succeeded < payment.total_pence:
                    expected = PaymentStatus.PARTIALLY_REFUNDED
                else:
                    expected = PaymentStatus.REFUNDED
                assert payment.status == expected


@SEQUENCES
@given(operations=operations)
def test_receipt_numbers_run_from_one_without_gaps_or_repeats(world, operations):
    with council_in_a_savepoint(world) as council:
        for operation in operations:
            council.apply(operation)

            payments = Payment.objects.filter(organisation=council.organisation)
            numbers = sorted(
                payments.exclude(receipt_number=None).values_list("receipt_number", flat=True)
            )
            assert numbers == [f"{n:08d}" for n in range(1, payments.taken().count() + 1)]


# Sharing a refund across a payment's lines --------------------------------------------------


@st.composite
def refund_across_lines(draw):
    """A refund of no more than is left, and the lines it is shared across."""
    grosses = draw(st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=5))
    lines = [
        PaymentLine(
            gross_pence=gross, refunded_pence=draw(st.integers(min_value=0, max_value=gross))
        )
        for gross in grosses
    ]
    left = sum(line.gross_pence - line.refunded_pence for line in lines)
    if left == 0:
        # Nobody asks to refund a payment with nothing left: leave it a penny.
        lines[0].refunded_pence -= 1
        left = 1
    return draw(st.integers(min_value=1, max_value=left)), lines


@given(refund_across_lines())
def test_refund_shares_add_up_to_the_amount(refund):
    amount, lines = refund

    assert sum(_allocate(amount, lines)) == amount


@given(refund_across_lines())
def test_no_line_gives_back_less_than_nothing_or_more_than_it_has_left(refund):
    amount, lines = refund

    for share, line in zip(_allocate(amount, lines), lines, strict=True):
        assert 0 <= share <= line.gross_pence - line.refunded_pence
