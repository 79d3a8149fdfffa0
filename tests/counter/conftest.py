"""A council's counter: an office with two tills, its staff, and a department with funds.

Staff get their rights from groups built here, permission by permission, so that these
tests say exactly what each screen needs.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from backoffice.funds.models import Channel
from tests.factories import DepartmentFactory, FundCodeFactory, staff

CASHIER_PERMISSIONS = (
    "wagtailadmin.access_admin",
    "counter.view_tillsession",
    "counter.open_tillsession",
)
SUPERVISOR_PERMISSIONS = (
    "wagtailadmin.access_admin",
    "counter.view_tillsession",
    "counter.signoff_tillsession",
    "counter.view_cashreturn",
    "counter.authorise_cashreturn",
    "banking.view_payinginslip",
    "banking.prepare_payinginslip",
    "banking.bank_payinginslip",
)
DEPARTMENT_PERMISSIONS = (
    "wagtailadmin.access_admin",
    "counter.view_cashreturn",
    "counter.prepare_cashreturn",
    "counter.view_returntemplate",
    "counter.change_returntemplate",
    "counter.delete_returntemplate",
)


def group_with(name, permissions):
    """A group holding exactly ``permissions`` ("app_label.codename")."""
    group, _ = Group.objects.get_or_create(name=name)
    for permission in permissions:
        app_label, codename = permission.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def person(council, username, permissions, **kwargs):
    user = staff(council, roles=(), username=username, **kwargs)
    user.groups.add(group_with(f"test: {username}", permissions))
    return user


@pytest.fixture
def over_and_short(council):
    """Where a till's surplus or shortage goes."""
    return FundCodeFactory(organisation=council, code="OVSH", name="Cash over and short")


@pytest.fixture
def office(council, over_and_short):
    from backoffice.counter.models import Office, OfficeKind

    return Office.objects.create(
        organisation=council,
        code="town-hall",
        name="Town Hall cash office",
        kind=OfficeKind.CASH_OFFICE,
        variance_fund_code=over_and_short,
    )


@pytest.fixture
def till(office):
    from backoffice.counter.models import Till

    return Till.objects.create(
        organisation=office.organisation,
        office=office,
        code="th-1",
        name="Till 1",
        terminal_id="T-0001",
    )


@pytest.fixture
def second_till(office):
    from backoffice.counter.models import Till

    return Till.objects.create(
        organisation=office.organisation, office=office, code="th-2", name="Till 2"
    )


@pytest.fixture
def cashier(council):
    return person(council, "cashier", CASHIER_PERMISSIONS, first_name="Carol", last_name="Cashier")


@pytest.fixture
def supervisor(council):
    return person(
        council, "supervisor", SUPERVISOR_PERMISSIONS, first_name="Sam", last_name="Super"
    )


@pytest.fixture
def second_supervisor(council):
    return person(council, "supervisor.two", SUPERVISOR_PERMISSIONS)


@pytest.fixture
def department(council):
    return DepartmentFactory(organisation=council, code="LIB", name="Libraries")


@pytest.fixture
def library_fines(council, outside_scope, department):
    """Library fines: no VAT, any reference, taken at the counter and on cash returns."""
    return FundCodeFactory(
        organisation=council,
        code="LIBF",
        name="Library fines",
        default_vat_rate=outside_scope,
        department=department,
        allowed_channels=[Channel.FACE_TO_FACE, Channel.CASH_RETURN],
    )


@pytest.fixture
def department_user(council):
    return person(council, "department.user", DEPARTMENT_PERMISSIONS)
