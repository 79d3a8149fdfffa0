"""Councils and memberships: system administrators keep the deployment's, auditors read
their own council's."""

import pytest
from django.urls import reverse

from backoffice.accounts.roles import AUDITOR, CASHIER, SYSTEM_ADMINISTRATOR
from backoffice.tenancy.models import Membership
from tests.conftest import assert_permission_denied
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(council):
    return staff(council, roles=(AUDITOR,), username="auditor")


@pytest.fixture
def wessex_clerk(other_council):
    return staff(other_council, roles=(CASHIER,), username="wessex.clerk")


def listed(response):
    assert response.status_code == 200
    return list(response.context["object_list"])


def test_an_auditor_lists_their_own_council_and_its_memberships_only(
    client, council, other_council, auditor, wessex_clerk
):
    client.force_login(auditor)

    assert listed(client.get(reverse("tenancy_organisation:index"))) == [council]
    memberships = listed(client.get(reverse("tenancy_membership:index")))
    assert [membership.user for membership in memberships] == [auditor]


def test_an_auditor_reads_their_councils_pages_and_another_councils_are_not_found(
    client, council, other_council, auditor, wessex_clerk
):
    client.force_login(auditor)
    theirs = Membership.objects.get(user=wessex_clerk)
    ours = Membership.objects.get(user=auditor)

    assert client.get(reverse("tenancy_organisation:inspect", args=[council.pk])).status_code == 200
    assert client.get(reverse("tenancy_membership:inspect", args=[ours.pk])).status_code == 200
    assert (
        client.get(reverse("tenancy_organisation:inspect", args=[other_council.pk])).status_code
        == 404
    )
    assert client.get(reverse("tenancy_membership:inspect", args=[theirs.pk])).status_code == 404


def test_the_membership_filter_offers_an_auditor_their_own_council_only(
    client, council, other_council, auditor
):
    client.force_login(auditor)

    filters = client.get(reverse("tenancy_membership:index")).context["filters"]

    assert list(filters.form.fields["organisation"].queryset) == [council]


def test_an_auditor_may_not_change_their_own_council_or_memberships(client, council, auditor):
    client.force_login(auditor)

    assert_permission_denied(client.get(reverse("tenancy_organisation:edit", args=[council.pk])))
    assert_permission_denied(
        client.post(reverse("tenancy_membership:delete", args=[auditor.memberships.get().pk]))
    )
    assert auditor.memberships.exists()


def test_a_system_administrator_keeps_every_council_and_membership(
    client, council, other_council, wessex_clerk
):
    client.force_login(staff(council, roles=(SYSTEM_ADMINISTRATOR,), username="sysadmin"))
    theirs = Membership.objects.get(user=wessex_clerk)

    assert set(listed(client.get(reverse("tenancy_organisation:index")))) == {
        council,
        other_council,
    }
    assert theirs in listed(client.get(reverse("tenancy_membership:index")))
    assert client.get(reverse("tenancy_membership:edit", args=[theirs.pk])).status_code == 200
    filters = client.get(reverse("tenancy_membership:index")).context["filters"]
    assert set(filters.form.fields["organisation"].queryset) == {council, other_council}


@pytest.mark.parametrize("role", [CASHIER, AUDITOR])
def test_a_refused_page_is_refused_for_any_id_so_it_tells_nothing_of_other_councils(
    client, council, other_council, role
):
    """Permission first: another council's id, or one that does not exist, is refused
    the same, not answered 404."""
    client.force_login(staff(council, roles=(role,), username="someone"))

    for pk in (council.pk, other_council.pk, other_council.pk + 1000):
        assert_permission_denied(client.get(reverse("tenancy_organisation:edit", args=[pk])))
        assert_permission_denied(client.post(reverse("tenancy_organisation:delete", args=[pk])))
