"""The known-references screens: a finance administrator uploads a department's list."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice.accounts.roles import INCOME_OFFICER
from integrations.department_files.models import KnownReference
from integrations.department_files.services import known_references_replace
from tests.conftest import assert_permission_denied
from tests.factories import FundCodeFactory, integration, staff

pytestmark = pytest.mark.django_db


def references_url(department):
    return reverse("department_files_references", args=[department.pk])


def upload(client, department, content: bytes, name="references.csv"):
    return client.post(
        references_url(department), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_the_list_shows_each_integration_and_its_references_per_fund(admin_client, department):
    known_references_replace(
        integration=department, content=b"fund_code,reference\nPARK,A\nPARK,B\nCTAX,12345674\n"
    )

    response = admin_client.get(reverse("department_files_index"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Revenues and parking" in page
    assert references_url(department) in page
    assert "<td>PARK</td>" in page


def test_a_good_upload_replaces_the_list_and_says_how_many(admin_client, department):
    response = upload(admin_client, department, b"fund_code,reference\nPARK,A\nPARK,A\nPARK,B\n")

    assert response.status_code == 302
    assert response.url == references_url(department)
    page = admin_client.get(response.url).content.decode()
    assert "references.csv replaced the list: 2 references (1 repeated rows kept once)." in page
    assert KnownReference.objects.filter(integration=department).count() == 2


def test_a_bad_upload_lists_its_rows_and_changes_nothing(admin_client, department):
    upload(admin_client, department, b"fund_code,reference\nPARK,KEEP\n")

    response = upload(admin_client, department, b"fund_code,reference\nPARK,NEW\nNOPE,1\n")

    assert response.status_code == 200
    page = response.content.decode()
    assert "references.csv was not used" in page
    assert "<td>3</td><td>Fund code NOPE is not one of this council&#x27;s fund codes.</td>" in page
    assert list(
        KnownReference.objects.filter(integration=department).values_list("reference", flat=True)
    ) == ["KEEP"]


def test_another_councils_integration_is_not_found(admin_client, other_council):
    FundCodeFactory(organisation=other_council, code="PARK")
    theirs = integration(
        other_council, plugin="department_files", key="revenues", settings={"fund_codes": ["PARK"]}
    )

    assert admin_client.get(references_url(theirs)).status_code == 404
    assert upload(admin_client, theirs, b"fund_code,reference\nPARK,A\n").status_code == 404
    assert not KnownReference.objects.exists()


def test_another_plugins_integration_is_not_found(admin_client, council):
    sandbox = integration(council, plugin="sandbox", key="sandbox")

    assert admin_client.get(references_url(sandbox)).status_code == 404


def test_staff_who_may_not_manage_integrations_are_refused(client, council, department):
    client.force_login(staff(council, roles=(INCOME_OFFICER,), username="officer"))

    assert_permission_denied(client.get(reverse("department_files_index")))
    assert_permission_denied(upload(client, department, b"fund_code,reference\nPARK,A\n"))
    assert not KnownReference.objects.exists()
