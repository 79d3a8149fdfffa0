"""Allocating suspense: by a rule (a journal posted at once, in the name of whoever switched it
on), or by a person (one fund or split, following the council's approval limit)."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.ledger.models import EntryKind, Journal, JournalStatus
from backoffice.ledger.selectors import fund_income_pence
from backoffice.ledger.services import journal_approve, journal_reject, journal_request
from backoffice.payments.services import refund_request
from backoffice.suspense.candidates import one_edit_away
from backoffice.suspense.models import ItemStatus, SuspenseAllocation, SuspenseNote
from backoffice.suspense.selectors import item_amounts, suspense_balance_pence
from backoffice.suspense.services import (
    Part,
    allocate_suspense,
    suspense_allocate,
    suspense_note_add,
    suspense_rule_switch_off,
    suspense_run_rules,
)
from tests.factories import FundCodeFactory, suspense_rule

from .conftest import account, mistyped

pytestmark = pytest.mark.django_db

THRESHOLD = 10_000  # £100.00: a bigger journal waits for a second person


@pytest.fixture
def council(council):
    council.journal_approval_threshold_pence = THRESHOLD
    council.save()
    return council


@pytest.fixture
def typo_rule(council, finance_admin):
    return suspense_rule(
        council,
        name="One typing error",
        actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}],
        switched_on_by=finance_admin,
    )


# By a rule ----------------------------------------------------------------------------------


def test_a_rule_moves_the_item_out_of_suspense_with_a_journal_it_records(
    council, ctax, suspense_fund, department, taken, typo_rule, finance_admin
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, mistyped(true), 50_000)  # £500: above the limit, posted all the same

    outcome = allocate_suspense(item=item)

    allocation = outcome.allocation
    assert (allocation.fund_code, allocation.reference, allocation.amount_pence) == (
        ctax,
        true,
        50_000,
    )
    assert (allocation.rule, allocation.rule_name) == (typo_rule, "One typing error")
    assert allocation.allocated_by == finance_admin
    assert "swapped" in allocation.explanation
    assert "known to the department" in allocation.explanation
    journal = allocation.journal
    assert journal.status == JournalStatus.POSTED
    assert (journal.from_fund_code, journal.to_fund_code) == (suspense_fund, ctax)
    assert journal.payment_line == item.payment_line
    assert (journal.requested_by, journal.decided_by) == (finance_admin, finance_admin)
    assert "Posted by the suspense rule 'One typing error'" in journal.decision_note
    assert journal.entry.kind == EntryKind.JOURNAL
    assert item_amounts(item).status == ItemStatus.CLEARED
    assert fund_income_pence(ctax) == 50_000
    assert suspense_balance_pence(council) == 0
    item.refresh_from_db()
    assert item.last_run_outcome == ""
    assert item.last_run_at is not None


def test_when_the_rules_find_two_answers_nothing_moves_and_the_item_says_why(
    council, ctax, suspense_fund, department, taken, typo_rule
):
    true = account(ctax, "1234567")
    typed = mistyped(true)
    # Another account the department knows, one typing error from what was typed too.
    neighbours = [edit.reference for edit in one_edit_away(typed, ctax.reference_rule.spec)]
    other = next(reference for reference in neighbours if reference != true)
    department(CTAX=[true, other])
    item = taken(ctax, typed)

    outcome = allocate_suspense(item=item)

    assert outcome.allocation is None
    assert not Journal.objects.exists()
    assert item_amounts(item).open_pence == item.amount_pence
    item.refresh_from_db()
    assert "found 2, so it moves nothing" in item.last_run_outcome
    assert true in item.last_run_outcome and other in item.last_run_outcome


def test_a_switched_off_rule_moves_nothing(
    council, ctax, suspense_fund, department, taken, typo_rule, finance_admin
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, mistyped(true))
    suspense_rule_switch_off(rule=typo_rule, user=finance_admin)

    outcome = allocate_suspense(item=item)

    assert outcome.allocation is None
    assert outcome.explanation == "No rule applies to this item."


def test_running_the_rules_again_moves_nothing_twice(
    council, ctax, suspense_fund, department, taken, typo_rule
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, mistyped(true))

    first = suspense_run_rules(organisation=council)
    again = allocate_suspense(item=item)

    assert (first.tried, first.allocated, first.allocated_pence) == (1, 1, 5_000)
    assert again.allocation is None
    assert again.explanation == "Nothing is left in suspense to allocate."
    assert SuspenseAllocation.objects.count() == 1
    assert suspense_run_rules(organisation=council).tried == 0


def test_what_was_refunded_is_not_allocated(
    council, ctax, suspense_fund, department, taken, typo_rule, officer
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, mistyped(true), 8_000)
    refund_request(
        payment=item.payment_line.payment,
        amount_pence=3_000,
        reason="Paid too much",
        requested_by=officer,
    )

    allocation = allocate_suspense(item=item).allocation

    assert allocation.amount_pence == 5_000
    assert suspense_balance_pence(council) == 0


def test_money_moved_from_the_payment_page_is_no_longer_open(
    council, ctax, suspense_fund, taken, officer
):
    item = taken(ctax, "12345675", 8_000)
    journal_request(
        organisation=council,
        from_fund_code=suspense_fund,
        to_fund_code=ctax,
        amount_pence=3_000,
        reason="Part of it is council tax",
        requested_by=officer,
        payment_line=item.payment_line,
    )

    amounts = item_amounts(item)

    assert (amounts.held_pence, amounts.pending_pence, amounts.open_pence) == (5_000, 0, 5_000)


# By a person ----------------------------------------------------------------------------------


@pytest.fixture
def parking_fund(council, vat20):
    return FundCodeFactory(organisation=council, code="PARK", default_vat_rate=vat20)


def test_a_person_splits_an_item_across_funds_within_the_limit(
    council, ctax, parking_fund, suspense_fund, taken, officer
):
    item = taken(ctax, "12345675", 9_000)
    true = account(ctax, "1234567")

    allocations = suspense_allocate(
        item=item,
        parts=[Part(ctax, true, 6_000), Part(parking_fund, "PCN 44", 3_000)],
        note="Council tax and a parking permit, as the payer's letter says.",
        allocated_by=officer,
    )

    assert [(a.fund_code, a.reference, a.amount_pence) for a in allocations] == [
        (ctax, true, 6_000),
        (parking_fund, "PCN 44", 3_000),
    ]
    assert all(a.journal.status == JournalStatus.POSTED for a in allocations)
    assert all(a.journal.requested_by == officer for a in allocations)
    assert all(a.rule is None and not a.by_rule for a in allocations)
    assert "as the payer's letter says" in allocations[0].explanation
    assert item_amounts(item).status == ItemStatus.CLEARED
    (note,) = SuspenseNote.objects.filter(item=item)
    assert note.written_by == officer
    assert "£60.00 to CTAX" in note.text and "£30.00 to PARK PCN 44" in note.text


def test_a_person_allocating_more_than_the_limit_waits_for_a_second_person(
    council, ctax, parking_fund, suspense_fund, taken, officer, approver
):
    item = taken(ctax, "12345675", 15_000)
    true = account(ctax, "1234567")

    # Split into parts under the limit: the item is above it, so both wait.
    first, second = suspense_allocate(
        item=item,
        parts=[Part(ctax, true, 7_500), Part(parking_fund, "P1", 7_500)],
        note="Split",
        allocated_by=officer,
    )

    assert {first.journal.status, second.journal.status} == {JournalStatus.PENDING_APPROVAL}
    amounts = item_amounts(item)
    assert (amounts.status, amounts.open_pence, amounts.pending_pence) == (
        ItemStatus.AWAITING_APPROVAL,
        0,
        15_000,
    )
    assert suspense_balance_pence(council) == 15_000

    journal_approve(journal=first.journal, approved_by=approver)
    journal_reject(journal=second.journal, rejected_by=approver, note="Not parking.")

    amounts = item_amounts(item)
    assert (amounts.status, amounts.open_pence, amounts.held_pence) == (
        ItemStatus.OPEN,
        7_500,
        7_500,
    )
    assert suspense_balance_pence(council) == 7_500


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "at least one fund"),
        ([("ctax", "1234567X", 5_000)], "is not a valid CTAX reference"),
        ([("ctax", "valid", 4_999)], "add up to £49.99, but £50.00"),
        ([("ctax", "valid", 3_000), ("ctax", "valid", 3_000)], "add up to £60.00"),
        ([("suspense", "", 5_000)], "not suspense"),
        ([("closed", "", 5_000)], "is not active"),
        ([("ctax", "valid", 0)], "more than £0.00"),
    ],
)
def test_an_allocation_that_does_not_add_up_writes_nothing(
    council, ctax, suspense_fund, taken, officer, parts, message
):
    closed = FundCodeFactory(organisation=council, code="CLOSED", is_active=False)
    funds = {"ctax": ctax, "suspense": suspense_fund, "closed": closed}
    item = taken(ctax, "12345675", 5_000)
    chosen = [
        Part(funds[fund], account(ctax, "1234567") if reference == "valid" else reference, amount)
        for fund, reference, amount in parts
    ]

    with pytest.raises(ValidationError, match=message):
        suspense_allocate(item=item, parts=chosen, note="Because", allocated_by=officer)

    assert not Journal.objects.exists()
    assert not SuspenseAllocation.objects.exists()
    assert not SuspenseNote.objects.exists()


def test_an_allocation_needs_a_note(council, ctax, suspense_fund, taken, officer):
    item = taken(ctax, "12345675", 5_000)

    with pytest.raises(ValidationError, match="Say why"):
        suspense_allocate(
            item=item,
            parts=[Part(ctax, account(ctax, "1234567"), 5_000)],
            note="  ",
            allocated_by=officer,
        )


def test_an_item_already_allocated_cannot_be_allocated_again(
    council, ctax, suspense_fund, taken, officer
):
    item = taken(ctax, "12345675", 5_000)
    parts = [Part(ctax, account(ctax, "1234567"), 5_000)]
    suspense_allocate(item=item, parts=parts, note="First", allocated_by=officer)

    with pytest.raises(ValidationError, match="nothing left to allocate"):
        suspense_allocate(item=item, parts=parts, note="Again", allocated_by=officer)

    assert Journal.objects.count() == 1


def test_another_councils_fund_is_refused(
    council, other_council, ctax, suspense_fund, taken, officer
):
    theirs = FundCodeFactory(organisation=other_council, code="THEIRS")
    item = taken(ctax, "12345675", 5_000)

    with pytest.raises(ValidationError, match="belongs to another council"):
        suspense_allocate(
            item=item, parts=[Part(theirs, "1", 5_000)], note="No", allocated_by=officer
        )


def test_the_departments_view_of_a_persons_reference_is_kept(
    council, ctax, suspense_fund, department, taken, officer
):
    department(CTAX=[account(ctax, "7654321")])
    item = taken(ctax, "12345675", 5_000)

    (allocation,) = suspense_allocate(
        item=item,
        parts=[Part(ctax, account(ctax, "1234567"), 5_000)],
        note="The payer rang: a new account, not yet on the list.",
        allocated_by=officer,
    )

    assert "did not know the reference" in allocation.explanation


# Notes ----------------------------------------------------------------------------------------


def test_notes_are_kept_as_written_with_who_wrote_them(
    council, ctax, suspense_fund, taken, officer
):
    item = taken(ctax, "12345675")

    note = suspense_note_add(item=item, text="  Rang the payer: no answer. ", written_by=officer)

    assert (note.text, note.written_by, note.organisation) == (
        "Rang the payer: no answer.",
        officer,
        council,
    )
    with pytest.raises(ValidationError, match="Write the note"):
        suspense_note_add(item=item, text=" ", written_by=officer)
