"""Who sees which payments: their council only, and Department users their fund groups only."""

import pytest
from django.db import connection

from backoffice.accounts.roles import DEPARTMENT_USER
from backoffice.funds.models import FundGroup
from backoffice.payments.services import Payer
from backoffice.tenancy.forms import MembershipForm
from backoffice.tenancy.models import Membership
from backoffice.tenancy.wagtail_hooks import MembershipViewSet
from fixtures.history import generate_history
from tests.factories import FundCodeFactory, VatRateFactory, staff
from tests.markers import postgresql_only

from .conftest import SEARCH_URL

pytestmark = pytest.mark.django_db
INSPECT = "/admin/transactions/payments/inspect/{}/"
LISTING = "/admin/transactions/payments/"


@pytest.fixture
def department_user(council):
    """A Department user and nothing else: the role reads payments, and the scoping keeps
    them to their membership's fund groups (docs/roles.md)."""
    return staff(council, roles=(DEPARTMENT_USER,), username="parking.clerk")


@pytest.fixture
def parking_group(council, parking):
    group = FundGroup.objects.create(organisation=council, name="Parking")
    group.fund_codes.add(parking)
    return group


@pytest.fixture
def payments(council, other_council, parking, licensing, take):
    rate = VatRateFactory(organisation=other_council, code="O", category="outside_scope")
    elsewhere = FundCodeFactory(
        organisation=other_council,
        code="PARK",
        default_vat_rate=rate,
        allowed_channels=["face_to_face"],
    )
    return {
        "parking": take(parking, 1_000, "PP000001", payer=Payer(name="Pat Parker")).pk,
        "licence": take(licensing, 2_000, "LN000001", payer=Payer(name="Pat Licensee")).pk,
        "other council": take(
            elsewhere, 3_000, "PP000001", payer=Payer(name="Pat Wessex"), organisation=other_council
        ).pk,
    }


def search(client, **params):
    return [row["payment"].pk for row in client.get(SEARCH_URL, params).context["rows"]]


def test_another_councils_payments_are_never_found(officer_client, payments):
    assert payments["other council"] not in search(officer_client, payer_name="pat")
    assert search(officer_client, reference="PP000001") == [payments["parking"]]
    assert officer_client.get(INSPECT.format(payments["other council"])).status_code == 404


def test_a_department_user_sees_only_their_fund_groups(
    client, department_user, council, parking_group, payments
):
    Membership.objects.get(user=department_user, organisation=council).fund_groups.add(
        parking_group
    )
    client.force_login(department_user)
    assert search(client, payer_name="pat") == [payments["parking"]]
    # The fund code list offers only what they may see.
    choices = client.get(SEARCH_URL).context["filter_form"].fields["fund_code"].queryset
    assert [fund.code for fund in choices] == ["PARK"]
    # The same on the Transactions > Payments screens.
    listing = client.get(LISTING)
    assert [payment.pk for payment in listing.context["object_list"]] == [payments["parking"]]
    assert client.get(INSPECT.format(payments["parking"])).status_code == 200
    assert client.get(INSPECT.format(payments["licence"])).status_code == 404


def test_a_department_user_with_no_fund_groups_sees_nothing(client, department_user, payments):
    client.force_login(department_user)
    assert search(client) == []
    assert list(client.get(LISTING).context["object_list"]) == []
    assert client.get(INSPECT.format(payments["parking"])).status_code == 404


def test_fund_groups_narrow_anyone_they_are_given_to(
    officer_client, officer, council, parking_group, payments
):
    assert sorted(search(officer_client)) == sorted([payments["parking"], payments["licence"]])
    Membership.objects.get(user=officer, organisation=council).fund_groups.add(parking_group)
    assert search(officer_client) == [payments["parking"]]


def test_the_export_is_scoped_too(client, department_user, council, parking_group, payments):
    Membership.objects.get(user=department_user, organisation=council).fund_groups.add(
        parking_group
    )
    client.force_login(department_user)
    body = b"".join(client.get("/admin/transactions/search/export/").streaming_content).decode()
    assert "PP000001" in body
    assert "LN000001" not in body
    assert "Wessex" not in body


def test_a_membership_takes_only_its_own_councils_fund_groups(
    council, other_council, officer, parking_group
):
    theirs = FundGroup.objects.create(organisation=other_council, name="Parking")
    membership = Membership.objects.get(user=officer, organisation=council)
    # The form the system administrator's Councils > Memberships screen uses.
    form_class = MembershipViewSet("memberships").get_edit_handler().get_form_class()
    assert issubclass(form_class, MembershipForm)
    form = form_class(
        data={
            "user": officer.pk,
            "organisation": council.pk,
            "is_active": "on",
            "fund_groups": [parking_group.pk, theirs.pk],
        },
        instance=membership,
    )
    assert not form.is_valid()
    assert "belong to another council" in form.errors["fund_groups"][0]


@postgresql_only("trigram (pg_trgm) indexes")
def test_the_search_indexes_exist_after_migrate():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'search_%%'"
        )
        indexes = dict(cursor.fetchall())
    trigram = [name for name, definition in indexes.items() if "gin_trgm_ops" in definition]
    assert sorted(trigram) == [
        "search_payment_provider_ref_org_trgm",
        "search_term_email_trgm",
        "search_term_name_trgm",
        "search_term_postcode_trgm",
        "search_term_reference_trgm",
    ]
    assert "upper((account_reference)::text)" in indexes["search_line_reference_exact"]


@postgresql_only("COPY, which the history generator loads with")
def test_the_history_generator_loads_what_it_says(transactional_db):
    from backoffice.payments.models import Payment, PaymentLine

    summary = generate_history(payments=500, councils=2, seed=3)
    assert summary.payments == 500
    assert Payment.objects.count() == 500
    assert PaymentLine.objects.count() == summary.lines >= 500
    councils = set(Payment.objects.values_list("organisation__code", flat=True))
    assert councils == {"history-1", "history-2"}
    # Every payment's lines add up to it, and taken payments have unique receipt numbers.
    from django.db.models import Sum

    for payment in Payment.objects.annotate(lines_total=Sum("lines__gross_pence"))[:100]:
        assert payment.lines_total == payment.total_pence
    taken = Payment.objects.taken()
    assert taken.exclude(receipt_number=None).count() == taken.count()
    # A payment taken afterwards through the services gets a fresh id.
    assert summary.last_payment_id == Payment.objects.order_by("-pk").first().pk
