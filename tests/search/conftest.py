import datetime

import pytest
from django.utils import timezone

from backoffice.accounts.roles import DEPARTMENT_USER, INCOME_OFFICER
from backoffice.payments.models import Payment
from backoffice.payments.services import LineInput, Payer, payment_take
from tests.factories import FundCodeFactory, staff

SEARCH_URL = "/admin/transactions/search/"
EXPORT_URL = "/admin/transactions/search/export/"


@pytest.fixture
def licensing(council, outside_scope):
    """Licensing: any reference, outside the scope of VAT."""
    return FundCodeFactory(
        organisation=council,
        code="LIC",
        name="Licensing",
        default_vat_rate=outside_scope,
        allowed_channels=["face_to_face", "telephone", "online"],
    )


@pytest.fixture
def take(council):
    """``take(fund, pence, reference, payer=Payer(...), **kwargs)``: a counter payment."""

    def take(fund, pence, reference, *, payer=None, organisation=None, **kwargs):
        options = {"channel": "face_to_face", "method": "cash", **kwargs}
        return payment_take(
            organisation=organisation or council,
            lines=[LineInput(fund, pence, account_reference=reference)],
            payer=payer or Payer(),
            **options,
        )

    return take


def set_created_at(payment, when):
    """Test set-up only: payments are stamped when taken, and these tests need chosen times."""
    Payment.objects.filter(pk=payment.pk).update(created_at=when)


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def department_user(council):
    """A Department user who may also read payments (through a group of their own, as
    docs/roles.md says extra rights are given)."""
    from django.contrib.auth.models import Group, Permission

    readers, _ = Group.objects.get_or_create(name="Payment readers")
    readers.permissions.add(
        Permission.objects.get(content_type__app_label="payments", codename="view_payment")
    )
    user = staff(council, roles=(DEPARTMENT_USER,), username="parking.clerk")
    user.groups.add(readers)
    return user


@pytest.fixture
def income_officer_roles():
    return (INCOME_OFFICER,)
