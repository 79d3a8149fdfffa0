"""Journals move money between fund codes; above the council's limit a second person approves."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backoffice.accounts.roles import APPROVER, INCOME_OFFICER
from backoffice.ledger.models import AccountKind, EntryKind, Journal, JournalEntry, JournalStatus
from backoffice.ledger.selectors import fund_income_pence
from backoffice.ledger.services import (
    Leg,
    entry_post,
    fund_account,
    journal_approve,
    journal_reject,
    journal_request,
    system_account,
)
from tests.factories import FundCodeFactory, staff

THRESHOLD = 10_000


@pytest.fixture
def council(council):
    council.journal_approval_threshold_pence = THRESHOLD
    council.save()
    return council


@pytest.fixture
def ctax(council):
    """Council tax, holding £500.00 of income to move."""
    fund = FundCodeFactory(organisation=council, code="CTAX", name="Council Tax")
    entry_post(
        organisation=council,
        kind=EntryKind.PAYMENT,
        description="Council tax received",
        legs=[
            Leg(system_account(council, AccountKind.BANK), 50_000),
            Leg(fund_account(fund), -50_000),
        ],
    )
    return fund


@pytest.fixture
def nndr(council):
    return FundCodeFactory(organisation=council, code="NNDR", name="Business Rates")


@pytest.fixture
def officer(council):
    return staff(council, roles=(INCOME_OFFICER,), username="income.officer")


@pytest.fixture
def approver(council):
    return staff(council, roles=(APPROVER,), username="journal.approver")


def request(council, officer, from_fund, to_fund, amount_pence, reason="Paid to the wrong fund"):
    return journal_request(
        organisation=council,
        from_fund_code=from_fund,
        to_fund_code=to_fund,
        amount_pence=amount_pence,
        reason=reason,
        requested_by=officer,
    )


@pytest.fixture
def pending(council, officer, ctax, nndr):
    return request(council, officer, ctax, nndr, THRESHOLD + 1)


def row_counts():
    return Journal.objects.count(), JournalEntry.objects.count()


# Within the limit -------------------------------------------------------------------------


def test_a_journal_at_the_councils_limit_posts_at_once(council, officer, ctax, nndr):
    journal = request(council, officer, ctax, nndr, THRESHOLD)

    assert journal.status == JournalStatus.POSTED
    assert journal.decided_by == officer
    assert fund_income_pence(ctax) == 50_000 - THRESHOLD
    assert fund_income_pence(nndr) == THRESHOLD


def test_a_posted_journal_debits_the_fund_it_moves_from_and_credits_the_one_it_moves_to(
    council, officer, ctax, nndr
):
    journal = request(council, officer, ctax, nndr, 2_500)

    assert journal.entry.kind == EntryKind.JOURNAL
    assert journal.entry.source == journal
    assert journal.entry.reason == "Paid to the wrong fund"
    assert sorted(journal.entry.postings.values_list("account__code", "amount_pence")) == [
        ("FUND-CTAX", 2_500),
        ("FUND-NNDR", -2_500),
    ]


# Above the limit --------------------------------------------------------------------------


def test_a_journal_above_the_councils_limit_waits_for_approval_and_posts_nothing(
    council, officer, ctax, nndr
):
    entries_before = JournalEntry.objects.count()

    journal = request(council, officer, ctax, nndr, THRESHOLD + 1)

    assert journal.status == JournalStatus.PENDING_APPROVAL
    assert journal.entry is None
    assert JournalEntry.objects.count() == entries_before
    assert fund_income_pence(nndr) == 0


def test_the_person_who_asked_cannot_approve_their_own_journal(pending, officer, nndr):
    entries_before = JournalEntry.objects.count()

    with pytest.raises(PermissionDenied, match="someone other than who asked"):
        journal_approve(journal=pending, approved_by=officer)

    pending.refresh_from_db()
    assert pending.status == JournalStatus.PENDING_APPROVAL
    assert JournalEntry.objects.count() == entries_before
    assert fund_income_pence(nndr) == 0


def test_approval_by_another_person_posts_the_journal(pending, approver, ctax, nndr):
    journal = journal_approve(journal=pending, approved_by=approver, note="Checked the bank")

    journal.refresh_from_db()
    assert journal.status == JournalStatus.POSTED
    assert (journal.decided_by, journal.decision_note) == (approver, "Checked the bank")
    assert journal.decided_at is not None
    assert fund_income_pence(ctax) == 50_000 - pending.amount_pence
    assert fund_income_pence(nndr) == pending.amount_pence


def test_a_rejected_journal_posts_nothing(pending, approver, nndr):
    entries_before = JournalEntry.objects.count()

    journal = journal_reject(journal=pending, rejected_by=approver, note="No evidence")

    journal.refresh_from_db()
    assert journal.status == JournalStatus.REJECTED
    assert (journal.decided_by, journal.decision_note) == (approver, "No evidence")
    assert journal.entry is None
    assert JournalEntry.objects.count() == entries_before
    assert fund_income_pence(nndr) == 0


@pytest.mark.parametrize("note", ["", "  "])
def test_a_rejection_needs_a_note(pending, approver, note):
    with pytest.raises(ValidationError) as excinfo:
        journal_reject(journal=pending, rejected_by=approver, note=note)

    assert "Say why" in excinfo.value.message_dict["decision_note"][0]
    pending.refresh_from_db()
    assert pending.status == JournalStatus.PENDING_APPROVAL


@pytest.mark.parametrize(
    "decide",
    [
        lambda journal, user: journal_approve(journal=journal, approved_by=user),
        lambda journal, user: journal_reject(journal=journal, rejected_by=user, note="No"),
    ],
    ids=["approve", "reject"],
)
def test_a_posted_journal_cannot_be_decided_again(pending, approver, decide):
    journal_approve(journal=pending, approved_by=approver)
    entries_before = JournalEntry.objects.count()

    with pytest.raises(ValidationError, match="already been posted"):
        decide(pending, approver)

    assert JournalEntry.objects.count() == entries_before


@pytest.mark.parametrize(
    "decide",
    [
        lambda journal, user: journal_approve(journal=journal, approved_by=user),
        lambda journal, user: journal_reject(journal=journal, rejected_by=user, note="No"),
    ],
    ids=["approve", "reject"],
)
def test_a_rejected_journal_cannot_be_decided_again(pending, approver, decide):
    journal_reject(journal=pending, rejected_by=approver, note="No evidence")

    with pytest.raises(ValidationError, match="already been rejected"):
        decide(pending, approver)

    pending.refresh_from_db()
    assert pending.status == JournalStatus.REJECTED
    assert pending.entry is None


def test_approval_is_refused_when_the_fund_to_move_to_closed_while_waiting(pending, approver, nndr):
    nndr.is_active = False
    nndr.save()
    entries_before = JournalEntry.objects.count()

    with pytest.raises(ValidationError, match="NNDR is not active"):
        journal_approve(journal=pending, approved_by=approver)

    assert JournalEntry.objects.count() == entries_before


# Refused requests -------------------------------------------------------------------------


def assert_refused(field, message, *, council, officer, from_fund, to_fund, amount, reason):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        request(council, officer, from_fund, to_fund, amount, reason=reason)

    assert message in excinfo.value.message_dict[field][0]
    assert row_counts() == before


def test_a_journal_to_an_inactive_fund_is_refused(council, officer, ctax):
    closed = FundCodeFactory(organisation=council, code="OLD", is_active=False)

    assert_refused(
        "to_fund_code",
        "OLD is not active",
        council=council,
        officer=officer,
        from_fund=ctax,
        to_fund=closed,
        amount=100,
        reason="Tidying up",
    )


def test_a_journal_out_of_an_inactive_fund_is_allowed(council, officer, nndr):
    # Emptying a closed fund is how its money reaches a live one.
    closed = FundCodeFactory(organisation=council, code="OLD", is_active=False)

    journal = request(council, officer, closed, nndr, 100)

    assert journal.status == JournalStatus.POSTED


@pytest.mark.parametrize("amount", [0, -100])
def test_a_journal_must_move_more_than_nothing(council, officer, ctax, nndr, amount):
    assert_refused(
        "amount_pence",
        "more than 0p",
        council=council,
        officer=officer,
        from_fund=ctax,
        to_fund=nndr,
        amount=amount,
        reason="Paid to the wrong fund",
    )


def test_a_journal_between_a_fund_and_itself_is_refused(council, officer, ctax):
    assert_refused(
        "to_fund_code",
        "Choose a different fund code",
        council=council,
        officer=officer,
        from_fund=ctax,
        to_fund=ctax,
        amount=100,
        reason="Paid to the wrong fund",
    )


@pytest.mark.parametrize("side", ["from_fund_code", "to_fund_code"])
def test_a_journal_with_a_fund_of_another_council_is_refused(
    council, other_council, officer, ctax, side
):
    theirs = FundCodeFactory(organisation=other_council, code="THEIRS")
    from_fund, to_fund = (theirs, ctax) if side == "from_fund_code" else (ctax, theirs)

    assert_refused(
        side,
        "THEIRS belongs to another council",
        council=council,
        officer=officer,
        from_fund=from_fund,
        to_fund=to_fund,
        amount=100,
        reason="Paid to the wrong fund",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_journal_needs_a_reason(council, officer, ctax, nndr, reason):
    assert_refused(
        "reason",
        "Say why the money is being moved",
        council=council,
        officer=officer,
        from_fund=ctax,
        to_fund=nndr,
        amount=100,
        reason=reason,
    )
