"""A member of staff of one council never sees or touches another council's rows."""

import pytest
from django.urls import reverse

from backoffice.funds.models import FundCode
from tests.conftest import assert_permission_denied
from tests.factories import (
    DepartmentFactory,
    FundCodeFactory,
    FundGroupFactory,
    ServiceFactory,
    UserFactory,
    VatRateFactory,
    mod11_rule,
    staff,
)


@pytest.fixture
def theirs(other_council):
    """One of everything, belonging to the other council."""
    fund_code = FundCodeFactory(organisation=other_council, code="THEIRS")
    return {
        "funds_fundcode": fund_code,
        "funds_service": ServiceFactory(organisation=other_council, fund_code=fund_code),
        "funds_fundgroup": FundGroupFactory(organisation=other_council),
        "funds_referencerule": mod11_rule(other_council),
        "funds_vatrate": fund_code.default_vat_rate,
        "funds_department": DepartmentFactory(organisation=other_council),
    }


OBJECT_VIEWS = ["edit", "delete", "history", "usage", "inspect", "try"]


def _object_urls(viewset, obj):
    from django.urls import NoReverseMatch

    for view in OBJECT_VIEWS:
        try:
            yield reverse(f"{viewset}:{view}", args=[obj.pk])
        except NoReverseMatch:
            continue


@pytest.mark.parametrize(
    "viewset",
    [
        "funds_fundcode",
        "funds_service",
        "funds_fundgroup",
        "funds_referencerule",
        "funds_vatrate",
        "funds_department",
    ],
)
def test_every_page_of_another_councils_row_is_not_found(admin_client, theirs, viewset):
    urls = list(_object_urls(viewset, theirs[viewset]))
    assert len(urls) >= 4

    for url in urls:
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url, {}).status_code in (404, 405), url


def test_posting_an_edit_to_another_councils_fund_code_changes_nothing(admin_client, theirs):
    fund_code = theirs["funds_fundcode"]

    response = admin_client.post(
        reverse("funds_fundcode:edit", args=[fund_code.pk]),
        {"code": "MINE", "name": "Taken over", "default_vat_rate": fund_code.default_vat_rate_id},
    )

    assert response.status_code == 404
    fund_code.refresh_from_db()
    assert (fund_code.code, fund_code.name) != ("MINE", "Taken over")


def test_listings_show_only_the_users_own_council(admin_client, council, theirs):
    FundCodeFactory(organisation=council, code="OURS")

    response = admin_client.get(reverse("funds_fundcode:index"))

    assert [fund.code for fund in response.context["object_list"]] == ["OURS"]


def test_a_new_fund_code_belongs_to_the_users_council(admin_client, council):
    vat_rate = VatRateFactory(organisation=council)

    admin_client.post(
        reverse("funds_fundcode:add"),
        {"code": "NEW", "name": "New fund", "default_vat_rate": vat_rate.pk, "is_active": "on"},
    )

    assert FundCode.objects.get(code="NEW").organisation == council


def test_the_form_offers_only_the_users_own_councils_choices(admin_client, council, theirs):
    ours = VatRateFactory(organisation=council)

    form = admin_client.get(reverse("funds_fundcode:add")).context["form"]

    assert list(form.fields["default_vat_rate"].queryset) == [ours]
    assert list(form.fields["reference_rule"].queryset) == []
    assert list(form.fields["department"].queryset) == []


def test_choosing_another_councils_vat_rate_by_id_is_refused(admin_client, council, theirs):
    response = admin_client.post(
        reverse("funds_fundcode:add"),
        {"code": "SNEAKY", "name": "Sneaky", "default_vat_rate": theirs["funds_vatrate"].pk},
    )

    assert response.status_code == 200
    assert "default_vat_rate" in response.context["form"].errors
    assert not FundCode.objects.filter(code="SNEAKY").exists()


def test_filters_offer_only_the_users_own_councils_choices(admin_client, council, theirs):
    ours = DepartmentFactory(organisation=council)

    response = admin_client.get(reverse("funds_fundcode:index"))

    filters = response.context["filters"]
    assert list(filters.form.fields["department"].queryset) == [ours]


def test_the_same_fund_code_may_exist_in_two_councils(admin_client, council, theirs):
    vat_rate = VatRateFactory(organisation=council)

    response = admin_client.post(
        reverse("funds_fundcode:add"),
        {"code": "THEIRS", "name": "Ours too", "default_vat_rate": vat_rate.pk, "is_active": "on"},
    )

    assert response.status_code == 302
    assert FundCode.objects.filter(code="THEIRS").count() == 2


def test_a_user_who_belongs_to_no_council_is_shown_no_councils_rows(client, theirs):
    client.force_login(UserFactory(roles=["Finance administrator"]))

    assert_permission_denied(client.get(reverse("funds_fundcode:index")))
    url = reverse("funds_fundcode:edit", args=[theirs["funds_fundcode"].pk])
    assert_permission_denied(client.get(url))


def test_a_member_of_two_councils_works_in_the_one_chosen_for_the_session(
    client, council, other_council, theirs
):
    from backoffice.tenancy.selectors import SESSION_KEY
    from tests.factories import MembershipFactory

    user = staff(council)
    MembershipFactory(user=user, organisation=other_council)
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = other_council.pk
    session.save()

    response = client.get(reverse("funds_fundcode:index"))

    assert [fund.code for fund in response.context["object_list"]] == ["THEIRS"]


def test_the_site_wide_history_of_every_council_is_closed_to_council_staff(admin_client, theirs):
    from wagtail.log_actions import log

    log(instance=theirs["funds_fundcode"], action="wagtail.create")

    for url in ("/admin/reports/site-history/", "/admin/reports/site-history/results/"):
        response = admin_client.get(url)
        assert response.status_code in (302, 403), url
        assert b"THEIRS" not in response.content


def test_a_superuser_still_has_the_site_wide_history(client, theirs):
    from wagtail.log_actions import log

    from tests.factories import UserFactory

    log(instance=theirs["funds_fundcode"], action="wagtail.create")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.get("/admin/reports/site-history/")

    assert response.status_code == 200
    assert b"THEIRS" in response.content


def test_a_rows_own_history_shows_its_changes_to_its_council(admin_client, council):
    from django.urls import reverse
    from wagtail.log_actions import log

    ours = FundCodeFactory(organisation=council, code="OURS")
    log(instance=ours, action="wagtail.create")

    response = admin_client.get(reverse("funds_fundcode:history", args=[ours.pk]))

    assert response.status_code == 200
    assert b"Created" in response.content
