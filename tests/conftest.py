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


def assert_permission_denied(response):
    """Wagtail answers a forbidden admin page with a redirect to the dashboard and a message."""
    from django.contrib.messages import get_messages
    from django.urls import reverse

    assert response.status_code == 302, response.status_code
    assert response.url == reverse("wagtailadmin_home")
    assert any("permission" in str(message) for message in get_messages(response.wsgi_request))
