"""Departmental cash returns through their services: New → In progress → Submitted →
Authorised (by someone else) or Voided, posting only when authorised."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backoffice.counter import services
from backoffice.counter.models import CashReturn, ReturnStatus, ReturnTemplate
from backoffice.ledger.models import AccountKind, JournalEntry
from backoffice.ledger.selectors import account_balance_pence, fund_income_pence
from backoffice.ledger.services import system_account
from backoffice.payments.models import Method, Payment
from tests.factories import DepartmentFactory, FundCodeFactory

pytestmark = pytest.mark.django_db


def line(fund, pence, reference="", narrative=""):
    return services.ReturnLineInput(
        fund_code=fund, amount_pence=pence, account_reference=reference, narrative=narrative
    )


@pytest.fixture
def cash_return(council, department, department_user):
    return services.cash_return_create(
        organisation=council, department=department, created_by=department_user, period="Week 1"
    )


@pytest.fixture
def filled(cash_return, department_user, library_fines):
    """£35.00 of fines: a £20 note, a £5 note and a £10.00 cheque."""
    return services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[line(library_fines, 2_500, "BORROWER1"), line(library_fines, 1_000, "BORROWER2")],
        cash_counts={2000: 1, 500: 1},
        cheques=[services.Cheque("200001", "40-11-22", "B. Borrower", 1_000)],
    )


@pytest.fixture
def submitted(filled, department_user):
    return services.cash_return_submit(cash_return=filled, submitted_by=department_user)


def cash_in_transit(council):
    return account_balance_pence(system_account(council, AccountKind.CASH_IN_TRANSIT))


def test_a_new_return_becomes_in_progress_when_its_lines_and_money_are_saved(filled):
    assert filled.status == ReturnStatus.IN_PROGRESS
    assert (filled.cash_pence, filled.cheques_pence, filled.total_pence) == (2_500, 1_000, 3_500)
    assert [(row.account_reference, row.amount_pence) for row in filled.lines.all()] == [
        ("BORROWER1", 2_500),
        ("BORROWER2", 1_000),
    ]
    assert [(c.cheque_number, c.sort_code) for c in filled.cheques.all()] == [
        ("200001", "40-11-22")
    ]


def test_saving_again_replaces_the_lines_and_money(filled, department_user, library_fines):
    services.cash_return_save(
        cash_return=filled,
        saved_by=department_user,
        lines=[line(library_fines, 500)],
        cash_counts={500: 1},
        cheques=[],
    )
    filled.refresh_from_db()
    assert filled.lines.count() == 1
    assert filled.total_pence == 500
    assert not filled.cheques.exists()


def test_a_fund_that_takes_no_cash_returns_is_refused(cash_return, department_user, council):
    online_only = FundCodeFactory(organisation=council, code="WEB", allowed_channels=["online"])
    with pytest.raises(ValidationError, match="does not take departmental cash returns"):
        services.cash_return_save(
            cash_return=cash_return,
            saved_by=department_user,
            lines=[line(online_only, 100)],
            cash_counts={100: 1},
            cheques=[],
        )
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.NEW


def test_a_return_whose_lines_and_money_differ_cannot_be_submitted(
    cash_return, department_user, library_fines
):
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[line(library_fines, 1_000)],
        cash_counts={500: 1},
        cheques=[],
    )
    with pytest.raises(
        ValidationError, match=r"lines add up to £10\.00 but the cash and cheques to £5\.00"
    ):
        services.cash_return_submit(cash_return=cash_return, submitted_by=department_user)


def test_a_return_with_no_amounts_cannot_be_submitted(cash_return, department_user, library_fines):
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[line(library_fines, 0, "usual line, nothing this week")],
        cash_counts={},
        cheques=[],
    )
    with pytest.raises(ValidationError, match="at least one line"):
        services.cash_return_submit(cash_return=cash_return, submitted_by=department_user)


def test_nothing_posts_until_a_return_is_authorised(submitted, council):
    assert submitted.status == ReturnStatus.SUBMITTED
    assert not JournalEntry.objects.filter(organisation=council).exists()
    assert not Payment.objects.exists()


def test_authorising_posts_the_lines_to_their_funds_with_the_money_in_cash_in_transit(
    submitted, supervisor, library_fines, council
):
    authorised = services.cash_return_authorise(
        cash_return=submitted, authorised_by=supervisor, note="Counted"
    )

    assert authorised.status == ReturnStatus.AUTHORISED
    payment = authorised.payment
    assert (payment.channel, payment.method, payment.total_pence) == (
        "cash_return",
        Method.CASH,
        3_500,
    )
    assert payment.payer_name == "Libraries"
    assert fund_income_pence(library_fines) == 3_500
    assert cash_in_transit(council) == 3_500


def test_a_submitter_cannot_authorise_their_own_return(submitted, department_user, council):
    with pytest.raises(PermissionDenied, match="someone other than who submitted it"):
        services.cash_return_authorise(cash_return=submitted, authorised_by=department_user)
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.SUBMITTED
    assert not JournalEntry.objects.filter(organisation=council).exists()


def test_a_return_voided_after_submission_posts_nothing(submitted, supervisor, council):
    voided = services.cash_return_void(
        cash_return=submitted, voided_by=supervisor, note="Entered twice"
    )

    assert voided.status == ReturnStatus.VOIDED
    assert voided.payment is None
    assert not JournalEntry.objects.filter(organisation=council).exists()
    with pytest.raises(
        ValidationError, match="is voided: only a submitted return can be authorised"
    ):
        services.cash_return_authorise(cash_return=voided, authorised_by=supervisor)
    assert not JournalEntry.objects.filter(organisation=council).exists()


def test_voiding_needs_a_reason(submitted, supervisor):
    with pytest.raises(ValidationError, match="Say why"):
        services.cash_return_void(cash_return=submitted, voided_by=supervisor, note=" ")


def test_an_authorised_return_cannot_be_voided(submitted, supervisor):
    services.cash_return_authorise(cash_return=submitted, authorised_by=supervisor)
    with pytest.raises(ValidationError, match="cannot become voided"):
        services.cash_return_void(cash_return=submitted, voided_by=supervisor, note="Too late")


def test_a_return_sent_back_is_in_progress_again_and_can_be_changed_and_resubmitted(
    submitted, supervisor, department_user, library_fines
):
    services.cash_return_send_back(
        cash_return=submitted, sent_back_by=supervisor, note="Cheque is for £10.50"
    )
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.IN_PROGRESS
    assert submitted.submitted_by is None

    services.cash_return_save(
        cash_return=submitted,
        saved_by=department_user,
        lines=[line(library_fines, 2_550)],
        cash_counts={2000: 1, 500: 1},
        cheques=[services.Cheque("200001", "401122", "B. Borrower", 50)],
    )
    resubmitted = services.cash_return_submit(cash_return=submitted, submitted_by=department_user)
    assert resubmitted.status == ReturnStatus.SUBMITTED


def test_a_submitted_return_cannot_be_changed(submitted, department_user, library_fines):
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.cash_return_save(
            cash_return=submitted,
            saved_by=department_user,
            lines=[line(library_fines, 1)],
            cash_counts={1: 1},
            cheques=[],
        )


def test_each_step_is_recorded_with_who_and_the_note(submitted, supervisor):
    services.cash_return_authorise(cash_return=submitted, authorised_by=supervisor, note="Counted")
    moves = [
        (change.from_status, change.to_status, change.changed_by.username, change.note)
        for change in submitted.status_changes.all()
    ]
    assert moves == [
        ("", "new", "department.user", ""),
        ("new", "in_progress", "department.user", ""),
        ("in_progress", "submitted", "department.user", ""),
        ("submitted", "authorised", "supervisor", "Counted"),
    ]


def test_a_line_with_a_bad_reference_posts_to_suspense(
    cash_return, department_user, supervisor, ctax, suspense_fund, council
):
    ctax.allowed_channels = ["cash_return"]
    ctax.save()
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[line(ctax, 10_000, "12345675")],
        cash_counts={5000: 2},
        cheques=[],
    )
    services.cash_return_submit(cash_return=cash_return, submitted_by=department_user)
    authorised = services.cash_return_authorise(cash_return=cash_return, authorised_by=supervisor)
    (posted,) = authorised.payment.lines.all()
    assert (posted.fund_code, posted.intended_fund_code) == (suspense_fund, ctax)


def test_a_template_keeps_the_usual_lines_and_a_new_return_starts_from_it(
    filled, department_user, council, department
):
    template = services.return_template_save(
        cash_return=filled, name="Weekly fines", saved_by=department_user
    )
    assert [(row.fund_code.code, row.account_reference) for row in template.lines.all()] == [
        ("LIBF", "BORROWER1"),
        ("LIBF", "BORROWER2"),
    ]

    next_return = services.cash_return_create(
        organisation=council, department=department, created_by=department_user, template=template
    )
    assert [(row.account_reference, row.amount_pence) for row in next_return.lines.all()] == [
        ("BORROWER1", 0),
        ("BORROWER2", 0),
    ]
    # Saved again under the same name, the template is replaced, not doubled.
    services.return_template_save(cash_return=filled, name="Weekly fines", saved_by=department_user)
    assert ReturnTemplate.objects.count() == 1


def test_a_template_of_another_department_cannot_start_a_return(filled, department_user, council):
    template = services.return_template_save(
        cash_return=filled, name="Fines", saved_by=department_user
    )
    parks = DepartmentFactory(organisation=council, code="PARKS", name="Parks")
    with pytest.raises(ValidationError, match="not one of Parks's"):
        services.cash_return_create(
            organisation=council, department=parks, created_by=department_user, template=template
        )
    assert CashReturn.objects.count() == 1


def test_a_department_of_another_council_is_refused(other_council, council, department_user):
    foreign = DepartmentFactory(organisation=other_council)
    with pytest.raises(ValidationError, match="another council"):
        services.cash_return_create(
            organisation=council, department=foreign, created_by=department_user
        )


def test_a_cheque_only_return_is_posted_as_cheques(
    cash_return, department_user, supervisor, library_fines
):
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[line(library_fines, 700)],
        cash_counts={},
        cheques=[services.Cheque("300001", "11-22-33", "C. Reader", 700)],
    )
    services.cash_return_submit(cash_return=cash_return, submitted_by=department_user)
    authorised = services.cash_return_authorise(cash_return=cash_return, authorised_by=supervisor)
    assert authorised.payment.method == Method.CHEQUE
