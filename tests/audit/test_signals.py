"""Signing in, signing out and failed sign-ins are in the audit log, with where from."""

import pytest
from django.urls import reverse

from backoffice.audit.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, **extra):
    return client.post(
        reverse("wagtailadmin_login"), {"username": username, "password": password}, **extra
    )


def test_signing_in_with_the_password_form_is_recorded(
    client, finance_admin, council, events_after
):
    (event,) = events_after(
        lambda: sign_in(client, "finance.admin", "password", REMOTE_ADDR="203.0.113.9")
    )

    assert event.action == AuditAction.SIGN_IN
    assert event.user == finance_admin
    assert event.organisation == council
    assert event.ip_address == "203.0.113.9"
    assert event.path == reverse("wagtailadmin_login")


def test_a_wrong_password_is_recorded_against_the_account_tried(
    client, finance_admin, council, events_after
):
    (event,) = events_after(
        lambda: sign_in(client, "finance.admin", "not-the-password", REMOTE_ADDR="203.0.113.66")
    )

    assert event.action == AuditAction.SIGN_IN_FAILED
    assert event.username == "finance.admin"
    assert event.user == finance_admin
    # So that the council's own auditors see attempts on their staff's accounts.
    assert event.organisation == council
    assert event.ip_address == "203.0.113.66"


def test_an_unknown_username_is_recorded_as_tried_and_belongs_to_no_council(
    client, council, events_after
):
    (event,) = events_after(lambda: sign_in(client, "admin", "admin", REMOTE_ADDR="192.0.2.1"))

    assert event.action == AuditAction.SIGN_IN_FAILED
    assert event.username == "admin"
    assert event.user is None
    assert event.organisation is None


def test_the_password_tried_is_never_stored(client, finance_admin):
    sign_in(client, "finance.admin", "hunter2-secret")

    for event in AuditEvent.objects.all():
        stored = " ".join(str(value) for value in vars(event).values())
        assert "hunter2" not in stored


def test_signing_out_is_recorded(client, finance_admin, council, events_after):
    client.force_login(finance_admin)

    (event,) = events_after(
        lambda: client.post(reverse("wagtailadmin_logout"), REMOTE_ADDR="203.0.113.9")
    )

    assert event.action == AuditAction.SIGN_OUT
    assert event.user == finance_admin
    assert event.organisation == council
    assert event.ip_address == "203.0.113.9"
