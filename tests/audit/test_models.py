"""Audit events are evidence: once written, nobody changes or deletes them."""

import pytest
from django.db import IntegrityError, connection, transaction

from backoffice.audit.models import AuditAction, AuditEvent, AuditLogIsAppendOnly
from backoffice.audit.services import audit_record
from tests.markers import postgresql_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(council, finance_admin):
    return audit_record(
        action=AuditAction.VIEW,
        user=finance_admin,
        organisation=council,
        object_type="payments.payment",
        object_id=7,
        description="payment 7",
    )


def test_an_event_cannot_be_saved_again(event):
    event.description = "payment 8"

    with pytest.raises(AuditLogIsAppendOnly):
        event.save()

    event.refresh_from_db()
    assert event.description == "payment 7"


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_cannot_be_updated_or_deleted_in_bulk(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(username="someone else")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    # bulk_update opens its own transaction: the refusal rolls back that one only.
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["username"])

    event.refresh_from_db()
    assert event.username == "finance.admin"


def test_an_unknown_action_is_refused(council):
    with pytest.raises(ValueError, match="'peek' is not an audit action"):
        audit_record(action="peek", organisation=council)

    assert not AuditEvent.objects.exists()


def test_an_event_reads_as_who_did_what(event):
    assert str(event).endswith("finance.admin view payment 7")


@postgresql_only("trigger (SQLite has only the ORM's refusal)")
@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        pytest.param(
            "UPDATE audit_auditevent SET username = 'someone else' WHERE id = %s",
            "UPDATE on audit_auditevent",
            id="update",
        ),
        pytest.param(
            "DELETE FROM audit_auditevent WHERE id = %s", "DELETE on audit_auditevent", id="delete"
        ),
    ],
)
def test_raw_sql_cannot_change_or_delete_an_event(event, statement, refused):
    with (
        pytest.raises(IntegrityError, match=refused),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])

    event.refresh_from_db()
    assert event.username == "finance.admin"
