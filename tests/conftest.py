import pytest

from tests.factories import OrganisationFactory, staff


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
