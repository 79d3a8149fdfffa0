"""Every back-office request by signed-in staff is in the audit log, once, after its answer."""

import logging
from types import SimpleNamespace

import pytest
from django.urls import reverse

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.audit.models import AuditAction, AuditEvent
from tests.factories import MembershipFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def payment_url(payment):
    return reverse("payments_payment:inspect", args=[payment.pk])


def test_viewing_a_payment_records_one_view_event_naming_the_payment(
    officer_client, officer, council, payment, events_after
):
    events = events_after(
        lambda: officer_client.get(
            payment_url(payment), REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Firefox/140.0"
        )
    )

    assert len(events) == 1
    event = events[0]
    assert event.action == AuditAction.VIEW
    assert (event.object_type, event.object_id) == ("payments.payment", str(payment.pk))
    assert event.description == f"payment {payment.pk}"
    assert event.user == officer
    assert event.username == "income.officer"
    assert event.organisation == council
    assert event.ip_address == "198.51.100.23"
    assert event.user_agent == "Firefox/140.0"
    assert (event.method, event.path) == ("GET", payment_url(payment))
    assert event.status_code == 200
    assert event.query == {}


def test_a_list_with_filters_is_a_search_and_its_terms_are_recorded(
    officer_client, payment, events_after
):
    url = reverse("payments_payment:index")

    (event,) = events_after(
        lambda: officer_client.get(url, {"q": "Example", "status": "success", "p": "1"})
    )

    assert event.action == AuditAction.SEARCH
    assert event.query == {"q": ["Example"], "status": ["success"], "p": ["1"]}
    assert event.object_type == "payments.payment"
    assert event.object_id == ""
    assert event.description == "payments"


def test_a_list_only_paged_or_sorted_is_a_view_with_no_terms_kept(officer_client, events_after):
    (event,) = events_after(
        lambda: officer_client.get(
            reverse("payments_payment:index"), {"p": "2", "ordering": "-created_at"}
        )
    )

    assert event.action == AuditAction.VIEW
    assert event.query == {}


def test_the_results_fragment_a_filter_change_fetches_is_recorded_as_the_search(
    officer_client, events_after
):
    (event,) = events_after(
        lambda: officer_client.get(reverse("payments_payment:index_results"), {"q": "PCN"})
    )

    assert event.action == AuditAction.SEARCH
    assert event.query == {"q": ["PCN"]}


def test_an_export_is_recorded_with_its_filters(admin_client, events_after):
    (event,) = events_after(
        lambda: admin_client.get(
            reverse("payments_payment:index"), {"export": "csv", "status": "success"}
        )
    )

    assert event.action == AuditAction.EXPORT
    assert event.query == {"export": ["csv"], "status": ["success"]}


def test_a_refund_is_recorded_as_a_refund_of_the_payment(officer_client, payment, events_after):
    (event,) = events_after(
        lambda: officer_client.post(
            reverse("payments_payment:refund", args=[payment.pk]),
            {"amount": "10.00", "reason": "Paid twice"},
        )
    )

    assert event.action == AuditAction.REFUND
    assert (event.object_type, event.object_id) == ("payments.payment", str(payment.pk))
    assert event.method == "POST"
    # The form's contents are not kept: only search terms are.
    assert event.query == {}


def test_a_receipt_download_is_recorded_as_a_receipt(officer_client, payment, events_after):
    (event,) = events_after(
        lambda: officer_client.get(reverse("payments_payment:receipt_download", args=[payment.pk]))
    )

    assert event.action == AuditAction.RECEIPT
    assert event.object_id == str(payment.pk)


def test_a_page_the_user_may_not_see_is_recorded_with_its_refusal(client, council, events_after):
    cashier = staff(council, roles=("Cashier",))
    client.force_login(cashier)

    (event,) = events_after(lambda: client.get(reverse("payments_payment:index")))

    assert event.user == cashier
    assert event.status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/admin/jsi18n/", id="the admin's JavaScript translations"),
        pytest.param("/admin/sprite/", id="the admin's icons"),
        pytest.param("/admin/tag-autocomplete/?term=a", id="tag suggestions"),
        pytest.param("/static/wagtailadmin/css/core.css", id="static files"),
        pytest.param("/healthz", id="outside the back office"),
    ],
)
def test_background_noise_and_pages_outside_the_back_office_are_not_recorded(
    officer_client, events_after, path
):
    assert events_after(lambda: officer_client.get(path)) == []


def test_nothing_is_recorded_for_nobody_signed_in(client, events_after):
    assert events_after(lambda: client.get(reverse("payments_payment:index"))) == []


def test_an_unknown_back_office_address_is_recorded(officer_client, events_after):
    (event,) = events_after(lambda: officer_client.get("/admin/no-such-screen/"))

    assert event.action == AuditAction.VIEW
    assert event.path == "/admin/no-such-screen/"
    assert event.status_code == 404


def test_the_page_is_served_when_the_audit_log_cannot_be_written(
    officer_client, payment, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)

    with caplog.at_level(logging.ERROR, logger="backoffice.audit.services"):
        response = officer_client.get(payment_url(payment))
        # The session's queries after the failure still work: no broken transaction.
        follow_up = officer_client.get(reverse("payments_payment:index"))

    assert response.status_code == 200
    assert b"PCN00012345" in response.content
    assert follow_up.status_code == 200
    assert "Could not write the audit event (view)" in caplog.text


def test_the_page_is_served_when_the_database_refuses_the_row(
    officer_client, payment, monkeypatch, caplog
):
    # A real database error this time: an action the table's check constraint refuses.
    monkeypatch.setattr(
        "backoffice.audit.middleware.request_action", lambda request: "not-an-action"
    )
    # Past the service's own check, so that it is the table's constraint that refuses.
    monkeypatch.setattr(
        "backoffice.audit.services.AuditAction", SimpleNamespace(values=["not-an-action"])
    )

    with caplog.at_level(logging.ERROR):
        response = officer_client.get(payment_url(payment))
        follow_up = officer_client.get(payment_url(payment))

    assert response.status_code == 200
    assert follow_up.status_code == 200
    assert not AuditEvent.objects.filter(action="not-an-action").exists()
    assert "Could not write the audit event" in caplog.text


def test_a_member_of_two_councils_is_recorded_against_the_one_they_act_for(
    client, council, other_council, events_after
):
    both = staff(council, roles=(INCOME_OFFICER,))
    MembershipFactory(user=both, organisation=other_council)
    client.force_login(both)

    (event,) = events_after(lambda: client.get(reverse("payments_payment:index")))

    # The first by name until they choose: Barsetshire before Wessex.
    assert event.organisation == council
