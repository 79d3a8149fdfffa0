import pytest

from backoffice.accounts.roles import APPROVER, INCOME_OFFICER
from backoffice.funds.models import Channel, VatCategory
from backoffice.funds.references import with_check_character
from tests.factories import (
    FundCodeFactory,
    OrganisationFactory,
    VatRateFactory,
    mod11_rule,
    staff,
)


@pytest.fixture
def council(db):
    return OrganisationFactory(code="barsetshire", name="Barsetshire Borough Council")


@pytest.fixture
def other_council(db):
    return OrganisationFactory(code="wessex", name="Wessex District Council")


@pytest.fixture
def finance_admin(council):
    return staff(council, username="finance.admin")


@pytest.fixture
def admin_client(client, finance_admin):
    """A browser session signed in as the finance administrator of ``council``."""
    client.force_login(finance_admin)
    return client


def assert_permission_denied(response):
    """Wagtail answers a forbidden admin page with a redirect to the dashboard and a message."""
    from django.contrib.messages import get_messages
    from django.urls import reverse

    assert response.status_code == 302, response.status_code
    assert response.url == reverse("wagtailadmin_home")
    assert any("permission" in str(message) for message in get_messages(response.wsgi_request))


# One council's payment configuration: a standard 20% VAT rate, an outside-the-scope
# rate, a council tax fund with a modulus 11 reference rule, a parking fund with VAT,
# a suspense fund, and two members of staff.

ALL_CHANNELS = list(Channel.values)


@pytest.fixture
def vat20(council):
    """Standard rate: 20% from 4 January 2011."""
    return VatRateFactory(organisation=council, code="S", name="Standard rate")


@pytest.fixture
def outside_scope(council):
    return VatRateFactory(
        organisation=council,
        code="O",
        name="Outside the scope",
        category=VatCategory.OUTSIDE_SCOPE,
    )


@pytest.fixture
def ctax(council, outside_scope):
    """Council tax: no VAT, an eight-digit account with a mod 11 check digit, every channel."""
    return FundCodeFactory(
        organisation=council,
        code="CTAX",
        name="Council Tax",
        default_vat_rate=outside_scope,
        reference_rule=mod11_rule(council),
        allowed_channels=ALL_CHANNELS,
    )


@pytest.fixture
def parking(council, vat20):
    """Parking: standard-rated, any reference, every channel."""
    return FundCodeFactory(
        organisation=council,
        code="PARK",
        name="Parking",
        default_vat_rate=vat20,
        allowed_channels=ALL_CHANNELS,
    )


@pytest.fixture
def suspense_fund(council, outside_scope):
    return FundCodeFactory(
        organisation=council,
        code="SUSP",
        name="Suspense",
        default_vat_rate=outside_scope,
        is_suspense=True,
        allowed_channels=ALL_CHANNELS,
    )


@pytest.fixture
def officer(council):
    return staff(council, roles=(INCOME_OFFICER,), username="income.officer")


@pytest.fixture
def approver(council):
    return staff(council, roles=(APPROVER,), username="journal.approver")


@pytest.fixture
def valid_reference():
    """``valid_reference(fund, body="1234567")``: ``body`` made valid for the fund's rule.

    With a check-digit rule the check character is appended; with no check
    digit (or no rule) the body is returned as it is.
    """

    def make(fund, body: str = "1234567") -> str:
        if fund.reference_rule is None:
            return body
        return with_check_character(body, fund.reference_rule.spec.check_digit)

    return make


@pytest.fixture(autouse=True)
def _departmental_systems_forgotten():
    """Each test reads its council's departmental integrations afresh: a rolled-back
    test fires no signal, and a later test's council may reuse its id."""
    from plugins import departments

    departments._remembered.clear()
    yield
    departments._remembered.clear()


@pytest.fixture(autouse=True)
def _ledger_accounts_forgotten():
    """Each test reads its council's ledger accounts afresh: the tables are emptied between
    tests that commit, and a later test's council may reuse an id."""
    from backoffice.ledger.services import forget_accounts

    forget_accounts()
    yield
    forget_accounts()
