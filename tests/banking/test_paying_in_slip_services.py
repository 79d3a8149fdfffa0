"""Paying-in slips through their services: gathering, numbering, banking and cancelling."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from backoffice.banking import services
from backoffice.banking.models import PayingInSlip, SlipStatus
from backoffice.counter import services as counter
from backoffice.counter.models import ReturnStatus, SessionStatus
from backoffice.ledger.models import AccountKind, JournalEntry
from backoffice.ledger.selectors import account_balance_pence, ledger_total_pence
from backoffice.ledger.services import system_account

pytestmark = pytest.mark.django_db

BANKED_ON = datetime.date(2025, 3, 7)


def balance(council, kind):
    return account_balance_pence(system_account(council, kind))


@pytest.fixture
def slip(council, supervisor, signed_off_session, authorised_return):
    return services.paying_in_slip_create(
        organisation=council,
        prepared_by=supervisor,
        sessions=[signed_off_session],
        cash_returns=[authorised_return],
    )


def test_a_slip_gathers_sessions_and_returns_with_what_each_counted(slip):
    assert slip.number == "PI-000001"
    assert slip.status == SlipStatus.PREPARED
    # The session's £12.40 counted and £50.00 cheque; the return's £25.00 and £10.00 cheque.
    assert (slip.cash_pence, slip.cheques_pence, slip.total_pence) == (3_740, 6_000, 9_740)
    assert slip.items.count() == 2


def test_slip_numbers_are_sequential_per_council(slip, council, other_council, supervisor):
    assert services._next_number(council) == "PI-000002"
    assert services._next_number(other_council) == "PI-000001"


def test_a_session_or_return_goes_on_one_slip_only(slip, council, supervisor, signed_off_session):
    with pytest.raises(ValidationError, match="already on Paying-in slip PI-000001"):
        services.paying_in_slip_create(
            organisation=council, prepared_by=supervisor, sessions=[signed_off_session]
        )
    assert PayingInSlip.objects.count() == 1


def test_only_signed_off_sessions_and_authorised_returns_can_be_banked(
    council, supervisor, till, cashier
):
    session = counter.till_session_open(till=till, opened_by=cashier)
    with pytest.raises(ValidationError, match="only signed-off sessions can be banked"):
        services.paying_in_slip_create(
            organisation=council, prepared_by=supervisor, sessions=[session]
        )
    with pytest.raises(ValidationError, match="at least one"):
        services.paying_in_slip_create(organisation=council, prepared_by=supervisor)


def test_marking_banked_moves_the_money_from_cash_in_transit_to_the_bank(
    slip, council, supervisor, signed_off_session, authorised_return
):
    assert balance(council, AccountKind.CASH_IN_TRANSIT) == 9_740
    assert balance(council, AccountKind.BANK) == 0

    banked = services.paying_in_slip_mark_banked(
        slip=slip, banked_on=BANKED_ON, marked_by=supervisor, bank_reference="GIRO 7731"
    )

    assert banked.status == SlipStatus.BANKED
    assert (banked.banked_on, banked.bank_reference) == (BANKED_ON, "GIRO 7731")
    assert balance(council, AccountKind.CASH_IN_TRANSIT) == 0
    assert balance(council, AccountKind.BANK) == 9_740
    assert ledger_total_pence(council) == 0
    signed_off_session.refresh_from_db()
    authorised_return.refresh_from_db()
    assert signed_off_session.status == SessionStatus.BANKED
    assert authorised_return.status == ReturnStatus.BANKED
    assert signed_off_session.status_changes.last().note == "Banked on Paying-in slip PI-000001."


def test_the_reconciliation_marks_banked_as_itself_and_a_repeat_changes_nothing(slip, council):
    first = services.paying_in_slip_mark_banked(
        slip=slip, banked_on=BANKED_ON, actor="bank reconciliation"
    )
    entries = JournalEntry.objects.filter(organisation=council).count()
    again = services.paying_in_slip_mark_banked(
        slip=slip, banked_on=BANKED_ON, actor="bank reconciliation"
    )
    assert again.banked_at == first.banked_at
    assert again.banked_actor == "bank reconciliation"
    assert JournalEntry.objects.filter(organisation=council).count() == entries
    assert balance(council, AccountKind.BANK) == 9_740


def test_a_cancelled_slip_frees_its_sessions_and_returns_and_cannot_be_banked(
    slip, council, supervisor, signed_off_session, authorised_return
):
    with pytest.raises(ValidationError, match="Say why"):
        services.paying_in_slip_cancel(slip=slip, cancelled_by=supervisor, reason="")
    cancelled = services.paying_in_slip_cancel(
        slip=slip, cancelled_by=supervisor, reason="Wrong bag"
    )
    assert cancelled.status == SlipStatus.CANCELLED
    with pytest.raises(ValidationError, match="cancelled: it cannot be banked"):
        services.paying_in_slip_mark_banked(slip=slip, banked_on=BANKED_ON, marked_by=supervisor)

    again = services.paying_in_slip_create(
        organisation=council,
        prepared_by=supervisor,
        sessions=[signed_off_session],
        cash_returns=[authorised_return],
    )
    assert again.number == "PI-000002"
    assert balance(council, AccountKind.CASH_IN_TRANSIT) == 9_740


def test_a_banked_slip_cannot_be_cancelled(slip, supervisor):
    services.paying_in_slip_mark_banked(slip=slip, banked_on=BANKED_ON, marked_by=supervisor)
    with pytest.raises(ValidationError, match="only a slip waiting for the bank"):
        services.paying_in_slip_cancel(slip=slip, cancelled_by=supervisor, reason="Oops")


def test_another_councils_session_cannot_go_on_a_slip(
    other_council, supervisor, signed_off_session
):
    with pytest.raises(ValidationError, match="belongs to another council"):
        services.paying_in_slip_create(
            organisation=other_council, prepared_by=supervisor, sessions=[signed_off_session]
        )
