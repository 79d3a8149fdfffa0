"""Whatever the counter does, in whatever order, the ledger balances and cash in transit holds
exactly the cash and cheques not yet banked.

Each example plays a random sequence on two tills and a department: cash, cheque and card
payments (some references bad, so into suspense), tills closed short or over, sessions signed
off (or the cashier trying to sign off their own), returns saved, submitted, authorised
(sometimes by their submitter, which is refused) or voided, paying-in slips prepared, banked
or cancelled. Then everything left is closed, signed off, authorised and banked, and cash in
transit must be zero. Every example runs in a savepoint of the test's transaction that is
rolled back afterwards, so examples never see each other's rows.
"""

from contextlib import contextmanager, suppress
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.banking import services as banking
from backoffice.banking.models import PayingInSlip, SlipStatus
from backoffice.counter import services as counter
from backoffice.counter.models import (
    CashReturn,
    Office,
    OfficeKind,
    PaymentKind,
    ReturnStatus,
    SessionStatus,
    Till,
    TillSession,
)
from backoffice.counter.selectors import ready_for_banking
from backoffice.funds.models import Channel, FundCode
from backoffice.ledger.models import AccountKind, JournalEntry, Posting
from backoffice.ledger.selectors import account_balance_pence, fund_income_pence
from backoffice.ledger.services import system_account
from backoffice.payments.models import TAKEN_STATUSES
from backoffice.payments.services import LineInput
from backoffice.tenancy.models import Organisation
from tests.factories import (
    DepartmentFactory,
    FundCodeFactory,
    UserFactory,
    VatRateFactory,
    mod11_rule,
)

GOOD_REFERENCE, BAD_REFERENCE = "12345674", "12345675"
COUNTER_CHANNELS = [Channel.FACE_TO_FACE, Channel.CASH_RETURN]

SEQUENCES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The operations a sequence is made of ---------------------------------------------------


@dataclass(frozen=True)
class Take:
    till: int
    kind: str
    pence: int
    good_reference: bool


@dataclass(frozen=True)
class Close:
    """Count the till's cash off by ``difference`` (negative: short); a cheque may be lost."""

    till: int
    difference: int
    lose_a_cheque: bool


@dataclass(frozen=True)
class SignOff:
    session: int
    by_the_cashier: bool


@dataclass(frozen=True)
class Return:
    """A department's return of ``cash`` and one cheque of ``cheque`` pence, submitted."""

    cash: int
    cheque: int
    good_reference: bool


@dataclass(frozen=True)
class Decide:
    cash_return: int
    decision: str  # authorise, authorise_own, void, send_back


@dataclass(frozen=True)
class Slip:
    pass


@dataclass(frozen=True)
class Bank:
    slip: int
    cancel: bool


amounts = st.integers(min_value=1, max_value=50_000)
operations = st.lists(
    st.one_of(
        st.builds(
            Take,
            till=st.integers(0, 1),
            kind=st.sampled_from([PaymentKind.CASH, PaymentKind.CHEQUE, PaymentKind.CARD_TERMINAL]),
            pence=amounts,
            good_reference=st.booleans(),
        ),
        st.builds(
            Close,
            till=st.integers(0, 1),
            difference=st.integers(min_value=-2_000, max_value=2_000),
            lose_a_cheque=st.booleans(),
        ),
        st.builds(SignOff, session=st.integers(0, 5), by_the_cashier=st.booleans()),
        st.builds(
            Return,
            cash=st.integers(min_value=0, max_value=20_000),
            cheque=st.integers(min_value=0, max_value=20_000),
            good_reference=st.booleans(),
        ),
        st.builds(
            Decide,
            cash_return=st.integers(0, 5),
            decision=st.sampled_from(["authorise", "authorise_own", "void", "send_back"]),
        ),
        st.builds(Slip),
        st.builds(Bank, slip=st.integers(0, 3), cancel=st.booleans()),
    ),
    min_size=10,
    max_size=30,
)


@pytest.fixture
def world(council):
    rule = mod11_rule(council)
    standard = VatRateFactory(organisation=council, code="S")
    FundCodeFactory(
        organisation=council,
        code="RENT",
        default_vat_rate=standard,
        reference_rule=rule,
        allowed_channels=COUNTER_CHANNELS,
    )
    FundCodeFactory(organisation=council, code="SUSPENSE", is_suspense=True)
    over_and_short = FundCodeFactory(organisation=council, code="OVSH")
    office = Office.objects.create(
        organisation=council,
        code="hall",
        name="Hall",
        kind=OfficeKind.CASH_OFFICE,
        variance_fund_code=over_and_short,
    )
    for number in (1, 2):
        Till.objects.create(
            organisation=council, office=office, code=f"t{number}", name=f"Till {number}"
        )
    department = DepartmentFactory(organisation=council)
    # No passwords: these people never sign in, and hashing one is slow.
    people = [UserFactory(username=name, password=None) for name in ("cashier", "super", "dept")]
    return council, department, people


class CounterUnderTest:
    def __init__(self, world):
        council, self.department, (self.cashier, self.supervisor, self.clerk) = world
        self.organisation = Organisation.objects.get(pk=council.pk)
        self.rent = FundCode.objects.get(organisation=self.organisation, code="RENT")
        self.tills = list(Till.objects.filter(organisation=self.organisation).order_by("code"))
        self.slips: list[int] = []

    def apply(self, operation):
        # Refused operations are part of the story: the properties hold all the same.
        with suppress(ValidationError, PermissionDenied):
            self._apply(operation)

    def open_session(self, till):
        session = TillSession.objects.filter(till=till, status=SessionStatus.OPEN).first()
        return session or counter.till_session_open(till=till, opened_by=self.cashier)

    def reference(self, good):
        return GOOD_REFERENCE if good else BAD_REFERENCE

    def _apply(self, operation):
        match operation:
            case Take():
                session = self.open_session(self.tills[operation.till])
                counter.till_session_take_payment(
                    session=session,
                    taken_by=self.cashier,
                    kind=operation.kind,
                    lines=[
                        LineInput(
                            self.rent,
                            operation.pence,
                            account_reference=self.reference(operation.good_reference),
                        )
                    ],
                    tendered_pence=operation.pence + 5,
                    cheque=counter.Cheque("123456", "12-34-56", "Payer"),
                    terminal_reference="T1",
                )
            case Close():
                session = TillSession.objects.filter(
                    till=self.tills[operation.till], status=SessionStatus.OPEN
                ).first()
                if session is not None:
                    self.close(session, operation.difference, operation.lose_a_cheque)
            case SignOff():
                closed = list(
                    TillSession.objects.filter(status=SessionStatus.CLOSED).order_by("pk")
                )
                if closed:
                    counter.till_session_sign_off(
                        session=pick(closed, operation.session),
                        signed_off_by=self.cashier if operation.by_the_cashier else self.supervisor,
                    )
            case Return():
                cash_return = counter.cash_return_create(
                    organisation=self.organisation,
                    department=self.department,
                    created_by=self.clerk,
                )
                counter.cash_return_save(
                    cash_return=cash_return,
                    saved_by=self.clerk,
                    lines=[
                        counter.ReturnLineInput(
                            self.rent,
                            operation.cash + operation.cheque,
                            self.reference(operation.good_reference),
                        )
                    ],
                    cash_counts={1: operation.cash},
                    cheques=[counter.Cheque("654321", "65-43-21", "Drawer", operation.cheque)]
                    if operation.cheque
                    else [],
                )
                counter.cash_return_submit(cash_return=cash_return, submitted_by=self.clerk)
            case Decide():
                returns = list(CashReturn.objects.order_by("pk"))
                if returns:
                    self.decide(pick(returns, operation.cash_return), operation.decision)
            case Slip():
                sessions, returns = ready_for_banking(self.organisation)
                slip = banking.paying_in_slip_create(
                    organisation=self.organisation,
                    prepared_by=self.supervisor,
                    sessions=sessions,
                    cash_returns=returns,
                )
                self.slips.append(slip.pk)
            case Bank() if self.slips:
                slip = PayingInSlip.objects.get(pk=pick(self.slips, operation.slip))
                if operation.cancel:
                    banking.paying_in_slip_cancel(
                        slip=slip, cancelled_by=self.supervisor, reason="x"
                    )
                else:
                    banking.paying_in_slip_mark_banked(
                        slip=slip, banked_on=slip.prepared_at.date(), actor="reconciliation"
                    )

    def close(self, session, difference, lose_a_cheque=False):
        cash, _cheques = counter.expected_takings(session)
        counted = max(cash + difference, 0)
        cheque_ids = list(
            session.payments.filter(kind=PaymentKind.CHEQUE).values_list("pk", flat=True)
        )
        if lose_a_cheque:
            cheque_ids = cheque_ids[1:]
        counter.till_session_close(
            session=session,
            closed_by=self.cashier,
            cash_counts={1: counted},
            cheques_in_till=cheque_ids,
            variance_reason="Miscounted",
        )

    def decide(self, cash_return, decision):
        if decision == "authorise":
            counter.cash_return_authorise(cash_return=cash_return, authorised_by=self.supervisor)
        elif decision == "authorise_own":
            counter.cash_return_authorise(cash_return=cash_return, authorised_by=self.clerk)
        elif decision == "void":
            counter.cash_return_void(cash_return=cash_return, voided_by=self.supervisor, note="x")
        else:
            counter.cash_return_send_back(
                cash_return=cash_return, sent_back_by=self.supervisor, note="x"
            )

    def bank_everything(self):
        """The end of the day: every session closed and signed off, every return decided, and
        all of it banked."""
        for session in TillSession.objects.filter(status=SessionStatus.OPEN):
            self.close(session, 0)
        for session in TillSession.objects.filter(status=SessionStatus.CLOSED):
            counter.till_session_sign_off(session=session, signed_off_by=self.supervisor)
        for cash_return in CashReturn.objects.filter(status=ReturnStatus.IN_PROGRESS):
            counter.cash_return_void(cash_return=cash_return, voided_by=self.supervisor, note="x")
        for cash_return in CashReturn.objects.filter(status=ReturnStatus.SUBMITTED):
            counter.cash_return_authorise(cash_return=cash_return, authorised_by=self.supervisor)
        sessions, returns = ready_for_banking(self.organisation)
        if sessions or returns:
            banking.paying_in_slip_create(
                organisation=self.organisation,
                prepared_by=self.supervisor,
                sessions=sessions,
                cash_returns=returns,
            )
        for slip in PayingInSlip.objects.filter(status=SlipStatus.PREPARED):
            banking.paying_in_slip_mark_banked(
                slip=slip, banked_on=slip.prepared_at.date(), marked_by=self.supervisor
            )


def pick(items, position):
    """Counting back from the latest, which is what most operations act on."""
    return items[-1 - position % len(items)]


@contextmanager
def counter_in_a_savepoint(world):
    with transaction.atomic():
        yield CounterUnderTest(world)
        transaction.set_rollback(True)


# What the records say the ledger should hold -------------------------------------------------


def cash_in_transit(organisation) -> int:
    return account_balance_pence(system_account(organisation, AccountKind.CASH_IN_TRANSIT))


def not_yet_banked(organisation) -> int:
    """The cash and cheques the records say are somewhere between the counter and the bank."""
    total = 0
    for session in TillSession.objects.filter(organisation=organisation).exclude(
        status=SessionStatus.BANKED
    ):
        if session.status == SessionStatus.SIGNED_OFF:
            total += session.counted_pence
        else:
            cash, cheques = counter.expected_takings(session)
            total += cash + cheques
    total += sum(
        cash_return.total_pence
        for cash_return in CashReturn.objects.filter(
            organisation=organisation, status=ReturnStatus.AUTHORISED
        )
    )
    return total


def assert_every_entry_balances(organisation):
    unbalanced = (
        Posting.objects.filter(organisation=organisation)
        .values("entry")
        .annotate(total=Sum("amount_pence"))
        .exclude(total=0)
    )
    assert not unbalanced.exists()
    assert (
        Posting.objects.filter(organisation=organisation).aggregate(total=Sum("amount_pence"))[
            "total"
        ]
        or 0
    ) == 0


@pytest.mark.django_db
@SEQUENCES
@given(operations=operations)
def test_every_entry_balances_and_cash_in_transit_is_what_is_not_yet_banked(world, operations):
    with counter_in_a_savepoint(world) as world_now:
        council = world_now.organisation
        for operation in operations:
            world_now.apply(operation)
            assert_every_entry_balances(council)
            assert cash_in_transit(council) == not_yet_banked(council)


@pytest.mark.django_db
@SEQUENCES
@given(operations=operations)
def test_cash_in_transit_clears_to_zero_once_everything_is_banked(world, operations):
    with counter_in_a_savepoint(world) as world_now:
        council = world_now.organisation
        for operation in operations:
            world_now.apply(operation)
        world_now.bank_everything()

        assert_every_entry_balances(council)
        assert cash_in_transit(council) == 0
        counted = sum(
            session.counted_pence for session in TillSession.objects.filter(organisation=council)
        )
        returned = sum(
            cash_return.total_pence
            for cash_return in CashReturn.objects.filter(
                organisation=council, status=ReturnStatus.BANKED
            )
        )
        assert (
            account_balance_pence(system_account(council, AccountKind.BANK)) == counted + returned
        )


@pytest.mark.django_db
@SEQUENCES
@given(operations=operations)
def test_variances_post_only_when_signed_off_and_voided_returns_never_post(world, operations):
    with counter_in_a_savepoint(world) as world_now:
        council = world_now.organisation
        for operation in operations:
            world_now.apply(operation)

        signed_off = TillSession.objects.filter(
            organisation=council, status__in=[SessionStatus.SIGNED_OFF, SessionStatus.BANKED]
        )
        over_and_short = FundCode.objects.get(organisation=council, code="OVSH")
        assert fund_income_pence(over_and_short) == sum(s.variance_pence for s in signed_off)
        # Nobody signed off their own session, nor authorised their own return.
        assert not signed_off.filter(signed_off_by=world_now.cashier).exists()
        authorised = CashReturn.objects.filter(organisation=council, payment__isnull=False)
        assert all(r.authorised_by_id != r.submitted_by_id for r in authorised)
        for cash_return in CashReturn.objects.filter(
            organisation=council, status=ReturnStatus.VOIDED
        ):
            assert cash_return.payment_id is None
        # Every payment taken came from a session or an authorised return, once.
        taken = JournalEntry.objects.filter(organisation=council, kind="payment").count()
        records = (
            sum(
                1
                for session in TillSession.objects.filter(organisation=council)
                for record in session.payments.select_related("payment")
                if record.payment.status in TAKEN_STATUSES
            )
            + authorised.count()
        )
        assert taken == records
