"""A council's finance team keeps its own details, receipt prefix and journal limit."""

from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.conftest import assert_permission_denied
from tests.factories import staff

SETTINGS = {
    "address_line_1": "Town Hall",
    "address_line_2": "",
    "town": "Anytown",
    "postcode": "AN1 1AA",
    "vat_registration_number": "GB 123 4567 82",
    "email": "income@council.example",
    "telephone": "01632 960001",
    "website": "",
    "receipt_prefix": "BBC",
    "journal_approval_threshold_pence": "250.00",
}


def test_a_finance_administrator_sets_the_journal_limit_and_receipt_prefix(
    admin_client, council, other_council, finance_admin
):
    response = admin_client.post(reverse("tenancy_council_settings"), SETTINGS)

    assert response.status_code == 302
    council.refresh_from_db()
    other_council.refresh_from_db()
    assert (council.journal_approval_threshold_pence, council.receipt_prefix) == (25_000, "BBC")
    assert other_council.receipt_prefix == ""
    assert ModelLogEntry.objects.filter(
        object_id=str(council.pk), action="wagtail.edit", user=finance_admin
    ).exists()


def test_a_bad_vat_number_is_refused_and_nothing_changes(admin_client, council):
    response = admin_client.post(
        reverse("tenancy_council_settings"),
        {**SETTINGS, "vat_registration_number": "GB 123 4567 83"},
    )

    assert response.status_code == 200
    assert "vat_registration_number" in response.context["form"].errors
    council.refresh_from_db()
    assert council.receipt_prefix == ""


def test_the_page_names_the_users_own_council(admin_client, council):
    response = admin_client.get(reverse("tenancy_council_settings"))

    assert response.status_code == 200
    assert council.name.encode() in response.content


def test_an_auditor_cannot_change_the_councils_settings(client, council):
    client.force_login(staff(council, roles=["Auditor"]))

    response = client.get(reverse("tenancy_council_settings"))

    assert_permission_denied(response)
