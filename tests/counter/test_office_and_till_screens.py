"""Offices and tills in the admin: a finance administrator sets up where payments are taken."""

import pytest
from django.urls import reverse

from backoffice.counter.models import Office, OfficeKind, ReturnTemplate, Till
from tests.conftest import assert_permission_denied
from tests.counter.conftest import CASHIER_PERMISSIONS, DEPARTMENT_PERMISSIONS, person
from tests.factories import FundCodeFactory

pytestmark = pytest.mark.django_db

SETUP_PERMISSIONS = (
    "wagtailadmin.access_admin",
    *(
        f"counter.{action}_{model}"
        for action in ("add", "change", "delete", "view")
        for model in ("office", "till")
    ),
)


@pytest.fixture
def setup_client(client, council):
    client.force_login(person(council, "finance.setup", SETUP_PERMISSIONS))
    return client


def test_an_office_is_added_with_its_fund_for_cash_over_and_short(setup_client, council):
    over_and_short = FundCodeFactory(organisation=council, code="OVSH")

    response = setup_client.post(
        reverse("counter_office:add"),
        {
            "name": "Central Library",
            "code": "central-library",
            "kind": OfficeKind.LIBRARY,
            "address": "1 High Street",
            "variance_fund_code": over_and_short.pk,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    office = Office.objects.get()
    assert (office.organisation, office.variance_fund_code) == (council, over_and_short)


def test_an_office_needs_its_fund_for_cash_over_and_short(setup_client):
    response = setup_client.post(
        reverse("counter_office:add"),
        {"name": "Library", "code": "library", "kind": OfficeKind.LIBRARY, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "variance_fund_code" in response.context["form"].errors
    assert not Office.objects.exists()


def test_another_councils_fund_cannot_be_chosen_for_an_office(setup_client, council, other_council):
    theirs = FundCodeFactory(organisation=other_council, code="THEIRS")
    form = setup_client.get(reverse("counter_office:add")).context["form"]
    assert theirs not in form.fields["variance_fund_code"].queryset

    response = setup_client.post(
        reverse("counter_office:add"),
        {"name": "X", "code": "x", "kind": OfficeKind.OTHER, "variance_fund_code": theirs.pk},
    )
    assert response.status_code == 200
    assert not Office.objects.exists()


def test_a_till_is_added_to_an_office_of_the_council(setup_client, office, other_council):
    their_office = Office.objects.create(
        organisation=other_council,
        code="theirs",
        name="Theirs",
        kind=OfficeKind.OTHER,
        variance_fund_code=FundCodeFactory(organisation=other_council),
    )
    form = setup_client.get(reverse("counter_till:add")).context["form"]
    assert list(form.fields["office"].queryset) == [office]

    setup_client.post(
        reverse("counter_till:add"),
        {
            "office": office.pk,
            "name": "Till 9",
            "code": "t9",
            "terminal_id": "T-9",
            "is_active": "on",
        },
    )
    assert Till.objects.get().office == office
    assert (
        setup_client.get(reverse("counter_office:edit", args=[their_office.pk])).status_code == 404
    )


def test_codes_are_unique_per_council(setup_client, office):
    response = setup_client.post(
        reverse("counter_office:add"),
        {
            "name": "Another",
            "code": office.code,
            "kind": OfficeKind.OTHER,
            "variance_fund_code": office.variance_fund_code_id,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert Office.objects.count() == 1


def test_a_cashier_reads_no_office_setup(client, council):
    client.force_login(person(council, "cashier.x", CASHIER_PERMISSIONS))
    assert_permission_denied(client.get(reverse("counter_office:index")))
    assert_permission_denied(client.get(reverse("counter_till:add")))


def test_return_templates_are_renamed_and_retired_but_not_typed_in_empty(
    client, council, department
):
    template = ReturnTemplate.objects.create(
        organisation=council, department=department, name="Weekly"
    )
    client.force_login(person(council, "dept.x", DEPARTMENT_PERMISSIONS))
    listing = client.get(reverse("counter_returntemplate:index"))
    assert listing.status_code == 200
    assert b"Weekly" in listing.content

    client.post(
        reverse("counter_returntemplate:edit", args=[template.pk]), {"name": "Weekly fines"}
    )
    template.refresh_from_db()
    assert (template.name, template.is_active) == ("Weekly fines", False)
    assert client.get("/admin/counter/return-templates/new/").status_code == 404
