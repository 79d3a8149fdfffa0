"""Till sessions through their services: open, take, close with a count, sign off."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backoffice.counter import services
from backoffice.counter.models import (
    PaymentKind,
    SessionDraft,
    SessionPayment,
    SessionStatus,
    TillSession,
)
from backoffice.ledger.models import AccountKind, JournalEntry
from backoffice.ledger.selectors import account_balance_pence, fund_income_pence
from backoffice.ledger.services import system_account
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import Method, Payment, PaymentStatus
from backoffice.payments.services import LineInput, Payer
from tests.counter.conftest import CASHIER_PERMISSIONS, person
from tests.factories import FundCodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(till, cashier):
    return services.till_session_open(till=till, opened_by=cashier)


def cash_in_transit(council):
    return account_balance_pence(system_account(council, AccountKind.CASH_IN_TRANSIT))


def take_cash(session, cashier, fund, pence, *, tendered=None, reference="PCN1", key=None):
    return services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(fund, pence, account_reference=reference)],
        tendered_pence=tendered,
        idempotency_key=key,
    )


def take_cheque(session, cashier, fund, pence, *, number="100001", reference="PCN2"):
    return services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CHEQUE,
        lines=[LineInput(fund, pence, account_reference=reference)],
        cheque=services.Cheque(number=number, sort_code="12 34 56", drawer="A. Payer"),
    )


def take_card(session, cashier, fund, pence, *, reference="PCN3"):
    return services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CARD_TERMINAL,
        lines=[LineInput(fund, pence, account_reference=reference)],
        terminal_reference="AUTH 123456",
    )


# Opening ------------------------------------------------------------------------------


def test_a_cashier_opens_a_session_on_a_till_and_the_opening_is_recorded(session, cashier):
    assert session.status == SessionStatus.OPEN
    assert session.opened_by == cashier
    (change,) = session.status_changes.all()
    assert (change.from_status, change.to_status, change.changed_by) == ("", "open", cashier)


def test_a_till_has_only_one_open_session(session, till, council):
    second = person(council, "cashier.two", CASHIER_PERMISSIONS)
    with pytest.raises(
        ValidationError, match="already has a session open, opened by Carol Cashier"
    ):
        services.till_session_open(till=till, opened_by=second)


def test_the_database_refuses_a_second_open_session_on_a_till(session, till, cashier):
    with pytest.raises(IntegrityError), transaction.atomic():
        TillSession.objects.create(organisation=till.organisation, till=till, opened_by=cashier)


def test_a_till_not_in_use_cannot_be_opened(till, cashier):
    till.is_active = False
    till.save()
    with pytest.raises(ValidationError, match="not in use"):
        services.till_session_open(till=till, opened_by=cashier)


# Taking payments ------------------------------------------------------------------------


def test_cash_is_taken_with_change_and_waits_in_cash_in_transit(session, cashier, parking, council):
    record = take_cash(session, cashier, parking, 1_250, tendered=2_000)

    payment = record.payment
    assert payment.status == PaymentStatus.SUCCESS
    assert (payment.channel, payment.method) == ("face_to_face", Method.CASH)
    assert payment.receipt_number
    assert (record.tendered_pence, record.change_pence, record.amount_pence) == (2_000, 750, 1_250)
    assert payment.created_by == cashier
    assert cash_in_transit(council) == 1_250
    # £12.50 with VAT at 20%: £10.42 to the fund, £2.08 VAT.
    assert fund_income_pence(parking) == 1_042


def test_cash_handed_over_must_cover_the_amount(session, cashier, parking):
    with pytest.raises(ValidationError, match=r"less than the £12\.50 being paid"):
        take_cash(session, cashier, parking, 1_250, tendered=1_000)
    assert not Payment.objects.exists()


def test_a_cheque_needs_its_number_sort_code_and_drawer(session, cashier, parking):
    record = take_cheque(session, cashier, parking, 5_000)
    assert (record.cheque_number, record.cheque_sort_code, record.cheque_drawer) == (
        "100001",
        "12-34-56",
        "A. Payer",
    )
    assert record.payment.method == Method.CHEQUE

    with pytest.raises(ValidationError, match="6 digits at the foot of the cheque"):
        services.till_session_take_payment(
            session=session,
            taken_by=cashier,
            kind=PaymentKind.CHEQUE,
            lines=[LineInput(parking, 100)],
            cheque=services.Cheque(number="12", sort_code="123456", drawer="B"),
        )


def test_a_card_on_the_terminal_records_the_terminal_reference_and_posts_to_its_clearing(
    session, cashier, parking, council
):
    record = take_card(session, cashier, parking, 3_000)
    assert record.terminal_reference == "AUTH 123456"
    terminal = system_account(council, AccountKind.PROVIDER_CLEARING, provider="card-terminal")
    assert account_balance_pence(terminal) == 3_000
    assert cash_in_transit(council) == 0


def test_a_card_payment_needs_the_terminal_reference(session, cashier, parking):
    with pytest.raises(ValidationError, match="terminal's reference"):
        services.till_session_take_payment(
            session=session,
            taken_by=cashier,
            kind=PaymentKind.CARD_TERMINAL,
            lines=[LineInput(parking, 100)],
        )


def test_a_bad_reference_goes_to_suspense_because_the_money_is_in_hand(
    session, cashier, ctax, suspense_fund
):
    record = take_cash(session, cashier, ctax, 10_000, reference="12345675")
    (line,) = record.payment.lines.all()
    assert line.fund_code == suspense_fund
    assert line.intended_fund_code == ctax
    assert fund_income_pence(suspense_fund) == 10_000


def test_a_retried_save_never_takes_the_payment_twice(session, cashier, parking, council):
    first = take_cash(session, cashier, parking, 1_250, tendered=2_000, key="abc")
    again = take_cash(session, cashier, parking, 1_250, tendered=2_000, key="abc")

    assert again.pk == first.pk
    assert Payment.objects.count() == SessionPayment.objects.count() == 1
    assert cash_in_transit(council) == 1_250


def test_a_key_sent_again_with_another_payment_is_refused(session, cashier, parking):
    take_cash(session, cashier, parking, 1_250, key="abc")
    with pytest.raises(IdempotencyConflict):
        take_cash(session, cashier, parking, 9_999, key="abc")
    assert Payment.objects.count() == 1


def test_a_payment_resent_after_the_session_closed_returns_the_one_taken(session, cashier, parking):
    first = take_cash(session, cashier, parking, 1_250, key="abc")
    services.till_session_close(
        session=session, closed_by=cashier, cash_counts={1000: 1, 200: 1, 50: 1}, cheques_in_till=[]
    )
    assert take_cash(session, cashier, parking, 1_250, key="abc").pk == first.pk
    with pytest.raises(ValidationError, match="no more payments can be taken"):
        take_cash(session, cashier, parking, 1_250, key="new")


def test_only_the_cashier_who_opened_the_session_takes_payments_in_it(session, supervisor, parking):
    with pytest.raises(PermissionDenied, match="Only Carol Cashier"):
        take_cash(session, supervisor, parking, 100)


def test_a_payment_the_fund_does_not_take_face_to_face_is_refused_and_nothing_is_written(
    session, cashier, council
):
    online_only = FundCodeFactory(organisation=council, code="WEB", allowed_channels=["online"])
    with pytest.raises(ValidationError, match="does not take face to face payments"):
        take_cash(session, cashier, online_only, 100)
    assert not SessionPayment.objects.exists()
    assert not JournalEntry.objects.exists()


# Drafts -----------------------------------------------------------------------------------


def test_what_the_cashier_types_is_kept_and_cleared_once_the_payment_is_taken(
    session, cashier, parking
):
    services.till_session_draft_save(
        session=session,
        saved_by=cashier,
        fields={"amount": "12.50", "account_reference": "PCN1", "idempotency_key": "k1", "x": "y"},
    )
    draft = SessionDraft.objects.get(session=session)
    assert draft.fields == {"amount": "12.50", "account_reference": "PCN1", "idempotency_key": "k1"}

    take_cash(session, cashier, parking, 1_250, key="k1")
    assert not SessionDraft.objects.filter(session=session).exists()


def test_a_late_draft_of_a_payment_already_taken_is_not_kept(session, cashier, parking):
    take_cash(session, cashier, parking, 1_250, key="k1")
    services.till_session_draft_save(
        session=session, saved_by=cashier, fields={"amount": "12.50", "idempotency_key": "k1"}
    )
    assert not SessionDraft.objects.filter(session=session).exists()


# Closing and signing off -----------------------------------------------------------------


def test_closing_records_expected_counted_and_no_variance_when_they_agree(
    session, cashier, parking
):
    take_cash(session, cashier, parking, 1_250, tendered=2_000)
    cheque = take_cheque(session, cashier, parking, 5_000)
    take_card(session, cashier, parking, 3_000)

    closed = services.till_session_close(
        session=session,
        closed_by=cashier,
        cash_counts={1000: 1, 200: 1, 50: 1},
        cheques_in_till=[cheque.pk],
    )

    assert closed.status == SessionStatus.CLOSED
    assert (closed.expected_cash_pence, closed.expected_cheques_pence) == (1_250, 5_000)
    assert (closed.counted_cash_pence, closed.counted_cheques_pence) == (1_250, 5_000)
    assert closed.variance_pence == 0
    assert sorted(closed.cash_counts.values_list("denomination_pence", "quantity")) == [
        (50, 1),
        (200, 1),
        (1000, 1),
    ]
    cheque.refresh_from_db()
    assert cheque.cheque_in_till is True


def test_a_variance_needs_a_reason(session, cashier, parking):
    take_cash(session, cashier, parking, 1_250)
    with pytest.raises(ValidationError, match=r"£1\.00 short of the £12\.50 taken: say why"):
        services.till_session_close(
            session=session, closed_by=cashier, cash_counts={1000: 1, 50: 3}, cheques_in_till=[]
        )
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    assert not session.cash_counts.exists()


def test_a_missing_cheque_is_part_of_the_variance(session, cashier, parking):
    take_cheque(session, cashier, parking, 5_000)
    closed = services.till_session_close(
        session=session,
        closed_by=cashier,
        cash_counts={},
        cheques_in_till=[],
        variance_reason="Cheque not found",
    )
    assert closed.variance_pence == -5_000


def test_counts_must_be_of_real_notes_and_coins(session, cashier):
    with pytest.raises(ValidationError, match="not a note or coin"):
        services.till_session_close(
            session=session, closed_by=cashier, cash_counts={300: 1}, cheques_in_till=[]
        )
    with pytest.raises(ValidationError, match="must be 0 or more"):
        services.till_session_close(
            session=session, closed_by=cashier, cash_counts={100: -1}, cheques_in_till=[]
        )


def test_sign_off_posts_a_shortage_against_the_offices_fund_for_cash_over_and_short(
    session, cashier, supervisor, parking, council, over_and_short
):
    take_cash(session, cashier, parking, 1_250)
    services.till_session_close(
        session=session,
        closed_by=cashier,
        cash_counts={1000: 1, 50: 3},
        cheques_in_till=[],
        variance_reason="Gave too much change",
    )
    assert cash_in_transit(council) == 1_250

    signed = services.till_session_sign_off(session=session, signed_off_by=supervisor, note="ok")

    assert signed.status == SessionStatus.SIGNED_OFF
    assert signed.signed_off_by == supervisor
    entry = signed.variance_entry
    assert entry.reason == "Gave too much change"
    assert sum(entry.postings.values_list("amount_pence", flat=True)) == 0
    # The shortage is a debit on the over-and-short fund; cash in transit holds what was counted.
    assert fund_income_pence(over_and_short) == -100
    assert cash_in_transit(council) == 1_150


def test_a_surplus_is_income_of_the_fund_for_cash_over_and_short_never_suspense(
    session, cashier, supervisor, parking, council, over_and_short, suspense_fund
):
    take_cash(session, cashier, parking, 1_250)
    services.till_session_close(
        session=session,
        closed_by=cashier,
        cash_counts={1000: 1, 200: 1, 50: 1, 10: 1},
        cheques_in_till=[],
        variance_reason="A 10p coin from the last shift",
    )
    services.till_session_sign_off(session=session, signed_off_by=supervisor)
    assert fund_income_pence(over_and_short) == 10
    assert fund_income_pence(suspense_fund) == 0
    assert cash_in_transit(council) == 1_260


def test_a_session_without_a_variance_posts_nothing_when_signed_off(
    session, cashier, supervisor, parking, council
):
    take_cash(session, cashier, parking, 1_250)
    services.till_session_close(
        session=session, closed_by=cashier, cash_counts={1000: 1, 200: 1, 50: 1}, cheques_in_till=[]
    )
    entries = JournalEntry.objects.filter(organisation=council).count()
    signed = services.till_session_sign_off(session=session, signed_off_by=supervisor)
    assert signed.variance_entry is None
    assert JournalEntry.objects.filter(organisation=council).count() == entries


def test_the_cashier_cannot_sign_off_their_own_session(session, cashier, parking):
    take_cash(session, cashier, parking, 1_250)
    services.till_session_close(
        session=session, closed_by=cashier, cash_counts={1000: 1, 200: 1, 50: 1}, cheques_in_till=[]
    )
    with pytest.raises(PermissionDenied, match="someone other than the cashier"):
        services.till_session_sign_off(session=session, signed_off_by=cashier)


def test_an_open_session_cannot_be_signed_off(session, supervisor):
    with pytest.raises(ValidationError, match="only a closed session"):
        services.till_session_sign_off(session=session, signed_off_by=supervisor)


def test_every_state_move_is_recorded_with_who_and_a_note(session, cashier, supervisor, parking):
    take_cash(session, cashier, parking, 1_250)
    services.till_session_close(
        session=session, closed_by=cashier, cash_counts={1000: 1, 200: 1, 50: 1}, cheques_in_till=[]
    )
    services.till_session_sign_off(session=session, signed_off_by=supervisor, note="Checked")

    moves = [
        (change.from_status, change.to_status, change.changed_by.username, change.note)
        for change in session.status_changes.all()
    ]
    assert moves == [
        ("", "open", "cashier", ""),
        ("open", "closed", "cashier", "Counted £12.50, expected £12.50."),
        ("closed", "signed_off", "supervisor", "Checked"),
    ]


def test_payments_of_another_council_fund_are_refused(session, cashier, other_council):
    foreign = FundCodeFactory(organisation=other_council, allowed_channels=["face_to_face"])
    with pytest.raises(ValidationError, match="belongs to another council"):
        take_cash(session, cashier, foreign, 100)


def test_payer_details_are_kept_on_the_payment(session, cashier, parking):
    record = services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(parking, 500)],
        payer=Payer(name="Ann Example", email="ann@example.com", postcode="BA1 1AA"),
    )
    assert (record.payment.payer_name, record.payment.payer_email) == (
        "Ann Example",
        "ann@example.com",
    )
