"""Cash return screens as a department and finance use them, through the test client."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from backoffice.counter import services
from backoffice.counter.models import CashReturn, ReturnStatus, ReturnTemplate
from backoffice.ledger.models import JournalEntry
from backoffice.ledger.selectors import fund_income_pence
from tests.conftest import assert_permission_denied
from tests.counter.conftest import DEPARTMENT_PERMISSIONS, SUPERVISOR_PERMISSIONS, person
from tests.factories import DepartmentFactory, FundCodeFactory, FundGroupFactory

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_url(cash_return):
    return reverse("counter_cashreturn:inspect", args=[cash_return.pk])


def fill_in_url(cash_return):
    return reverse("counter_cashreturn:fill_in", args=[cash_return.pk])


def decide_url(cash_return, action):
    return reverse("counter_cashreturn:decide", args=[cash_return.pk, action])


def return_form(lines=(), cheques=(), counts=None, action="save", **extra):
    """The fill-in form as a browser sends it: ``lines`` of (fund, reference, amount)."""
    data = {
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
        "cheques-TOTAL_FORMS": str(len(cheques) + 1),
        "cheques-INITIAL_FORMS": "0",
        "action": action,
        **extra,
    }
    for number, (fund, reference, amount) in enumerate(lines):
        data.update(
            {
                f"lines-{number}-fund_code": str(fund.pk),
                f"lines-{number}-account_reference": reference,
                f"lines-{number}-amount": amount,
            }
        )
    for number, (cheque_number, sort_code, drawer, amount) in enumerate(cheques):
        data.update(
            {
                f"cheques-{number}-cheque_number": cheque_number,
                f"cheques-{number}-sort_code": sort_code,
                f"cheques-{number}-drawer": drawer,
                f"cheques-{number}-amount": amount,
            }
        )
    for denomination, quantity in (counts or {}).items():
        data[f"money-count_{denomination}"] = str(quantity)
    return data


@pytest.fixture
def department_client(client, department_user):
    return signed_in(client, department_user)


@pytest.fixture
def cash_return(council, department, department_user):
    return services.cash_return_create(
        organisation=council, department=department, created_by=department_user
    )


def test_a_department_starts_fills_in_and_submits_a_return(
    department_client, department, library_fines
):
    start = department_client.post(
        reverse("counter_cashreturn:start"), {"department": department.pk, "period": "Week 10"}
    )
    cash_return = CashReturn.objects.get()
    assert start.url == fill_in_url(cash_return)

    saved = department_client.post(
        fill_in_url(cash_return),
        return_form(
            lines=[(library_fines, "BORROWER1", "25.00"), (library_fines, "BORROWER2", "10.00")],
            cheques=[("200001", "40-11-22", "B. Borrower", "10.00")],
            counts={2000: 1, 500: 1},
            **{"money-period": "Week 10"},
        ),
    )
    assert saved.status_code == 302
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.IN_PROGRESS
    assert cash_return.total_pence == 3_500

    page = department_client.get(fill_in_url(cash_return))
    lines = page.context["lines"]
    assert [form.initial["account_reference"] for form in lines.initial_forms] == [
        "BORROWER1",
        "BORROWER2",
    ]

    submitted = department_client.post(
        fill_in_url(cash_return),
        return_form(
            lines=[(library_fines, "BORROWER1", "25.00"), (library_fines, "BORROWER2", "10.00")],
            cheques=[("200001", "40-11-22", "B. Borrower", "10.00")],
            counts={2000: 1, 500: 1},
            action="submit",
        ),
    )
    assert submitted.url == page_url(cash_return)
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.SUBMITTED


def test_a_return_that_does_not_add_up_is_saved_but_not_submitted(
    department_client, cash_return, library_fines
):
    response = department_client.post(
        fill_in_url(cash_return),
        return_form(lines=[(library_fines, "X", "10.00")], counts={500: 1}, action="submit"),
    )
    assert response.status_code == 200
    assert "lines add up to £10.00 but the cash and cheques to £5.00" in response.content.decode()
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.IN_PROGRESS
    assert cash_return.total_pence == 500


def test_a_bad_cheque_keeps_everything_typed_on_the_page(
    department_client, cash_return, library_fines
):
    response = department_client.post(
        fill_in_url(cash_return),
        return_form(
            lines=[(library_fines, "KEEP-ME", "10.00")],
            cheques=[("12", "40-11-22", "B. Borrower", "10.00")],
        ),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "6 digits at the foot of the cheque" in content
    assert 'value="KEEP-ME"' in content
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.NEW


def test_lines_are_kept_as_a_template_and_the_next_return_starts_from_it(
    department_client, cash_return, library_fines, department
):
    department_client.post(
        fill_in_url(cash_return),
        return_form(
            lines=[(library_fines, "USUAL", "5.00")],
            counts={500: 1},
            action="template",
            **{"template-name": "Weekly"},
        ),
    )
    template = ReturnTemplate.objects.get()
    assert template.name == "Weekly"

    department_client.post(
        reverse("counter_cashreturn:start"), {"department": department.pk, "template": template.pk}
    )
    newest = CashReturn.objects.latest("pk")
    assert [line.account_reference for line in newest.lines.all()] == ["USUAL"]


@pytest.fixture
def submitted(cash_return, department_user, library_fines):
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[services.ReturnLineInput(library_fines, 2_000, "FINES")],
        cash_counts={2000: 1},
        cheques=[],
    )
    return services.cash_return_submit(cash_return=cash_return, submitted_by=department_user)


def test_finance_authorises_a_submitted_return_and_it_posts(
    client, submitted, supervisor, library_fines
):
    signed_in(client, supervisor)
    page = client.get(page_url(submitted)).content.decode()
    assert "Authorise" in page and "Send back" in page and "Void" in page

    response = client.post(decide_url(submitted, "authorise"), {"note": "Counted with the clerk"})

    assert response.url == page_url(submitted)
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.AUTHORISED
    assert fund_income_pence(library_fines) == 2_000
    assert (
        f"authorised and posted as {submitted.payment.receipt_number}" in messages_of(response)[0]
    )


def test_the_submitter_cannot_authorise_their_own_return_on_screen(
    client, council, department, library_fines
):
    both = person(council, "clerk.and.finance", DEPARTMENT_PERMISSIONS + SUPERVISOR_PERMISSIONS)
    cash_return = services.cash_return_create(
        organisation=council, department=department, created_by=both
    )
    services.cash_return_save(
        cash_return=cash_return,
        saved_by=both,
        lines=[services.ReturnLineInput(library_fines, 100)],
        cash_counts={100: 1},
        cheques=[],
    )
    services.cash_return_submit(cash_return=cash_return, submitted_by=both)
    signed_in(client, both)

    response = client.post(decide_url(cash_return, "authorise"), {"note": ""})

    assert response.status_code == 200
    assert "someone other than who submitted it" in response.content.decode()
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.SUBMITTED
    assert not JournalEntry.objects.filter(organisation=council).exists()


def test_voiding_a_submitted_return_needs_a_note_and_posts_nothing(
    client, submitted, supervisor, council
):
    signed_in(client, supervisor)
    refused = client.post(decide_url(submitted, "void"), {"note": ""})
    assert refused.status_code == 200
    voided = client.post(decide_url(submitted, "void"), {"note": "Duplicate"})
    assert voided.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.VOIDED
    assert not JournalEntry.objects.filter(organisation=council).exists()


def test_a_department_can_neither_authorise_nor_void_once_submitted(department_client, submitted):
    assert_permission_denied(
        department_client.post(decide_url(submitted, "authorise"), {"note": ""})
    )
    assert_permission_denied(department_client.post(decide_url(submitted, "void"), {"note": "x"}))
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.SUBMITTED


def test_a_department_voids_its_return_before_submitting_it(department_client, cash_return):
    response = department_client.post(decide_url(cash_return, "void"), {"note": "Started twice"})
    assert response.status_code == 302
    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.VOIDED


def test_finance_is_told_when_a_return_is_not_there_to_authorise(client, supervisor, cash_return):
    signed_in(client, supervisor)
    response = client.post(decide_url(cash_return, "authorise"), {"note": ""})
    assert response.url == page_url(cash_return)
    assert "you cannot do that to it now" in messages_of(response)[0]


def test_a_department_user_limited_to_fund_groups_sees_only_their_departments_returns(
    client, council, department, library_fines, department_user, cash_return
):
    parks = DepartmentFactory(organisation=council, code="PARKS", name="Parks")
    FundCodeFactory(
        organisation=council, code="PARKF", department=parks, allowed_channels=["cash_return"]
    )
    parks_return = services.cash_return_create(
        organisation=council, department=parks, created_by=department_user
    )
    libraries = FundGroupFactory(organisation=council, name="Libraries")
    libraries.fund_codes.add(library_fines)
    membership = department_user.memberships.get()
    membership.fund_groups.add(libraries)
    signed_in(client, department_user)

    listing = client.get(reverse("counter_cashreturn:index"))
    assert set(listing.context["object_list"]) == {cash_return}
    assert client.get(page_url(parks_return)).status_code == 404
    start = client.get(reverse("counter_cashreturn:start")).content.decode()
    assert "Libraries" in start and "Parks" not in start
    parks_template = ReturnTemplate.objects.create(organisation=council, department=parks, name="P")
    ours = ReturnTemplate.objects.create(organisation=council, department=department, name="L")
    templates = client.get(reverse("counter_returntemplate:index"))
    assert set(templates.context["object_list"]) == {ours}
    edit = reverse("counter_returntemplate:edit", args=[parks_template.pk])
    assert client.get(edit).status_code == 404


def test_another_councils_return_is_not_found(client, cash_return, other_council):
    outsider = person(other_council, "their.clerk", DEPARTMENT_PERMISSIONS)
    signed_in(client, outsider)
    for url in (page_url(cash_return), fill_in_url(cash_return), decide_url(cash_return, "void")):
        assert client.get(url).status_code == 404


def test_a_cashier_has_no_business_with_returns(client, cashier):
    signed_in(client, cashier)
    assert_permission_denied(client.get(reverse("counter_cashreturn:index")))
    assert_permission_denied(client.get(reverse("counter_cashreturn:start")))
