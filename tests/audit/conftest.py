import pytest

from backoffice.accounts.roles import AUDITOR
from backoffice.audit.models import AuditEvent
from backoffice.payments.services import LineInput, Payer, payment_take
from tests.factories import staff


@pytest.fixture
def auditor(council):
    return staff(council, roles=(AUDITOR,), username="the.auditor")


@pytest.fixture
def payment(council, parking):
    """£240.00 for parking, paid in cash at the counter."""
    return payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 24_000, account_reference="PCN00012345")],
        payer=Payer(name="Ann Example", email="ann@example.com", postcode="BA1 1AA"),
    )


@pytest.fixture
def events_after():
    """``events_after(callable)``: the audit events written while it ran, oldest first."""

    def run(action):
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        action()
        return list(AuditEvent.objects.filter(id__gt=before).order_by("id"))

    return run
