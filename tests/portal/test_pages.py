"""Editors build a council's payments site in the page explorer: what they may make, and where.

A service page takes money for its own council's funds only, and is refused,
with the reason, when it could not take a payment (a fund that is not paid
online, a fund with a reference rule but no reference asked, limits outside
the fund's).
"""

import pytest
from django.core.exceptions import ValidationError
from wagtail.models import Page

from backoffice.accounts.roles import FINANCE_ADMINISTRATOR
from backoffice.portal.models import (
    PaymentsHomePage,
    ReferenceQuestion,
    ServicePage,
    page_setup_problems,
)
from backoffice.portal.services import payments_home_grant_editors
from tests.factories import FundCodeFactory, ServiceFactory, staff

from .site import payments_home, service_page, tree_root


def problems(council, **fields):
    defaults = {
        "service": None,
        "fund_code": None,
        "reference_question": ReferenceQuestion.REQUIRED,
        "minimum_amount_pence": None,
        "maximum_amount_pence": None,
    }
    return page_setup_problems(organisation=council, **{**defaults, **fields})


# What a page may pay -------------------------------------------------------------------------


def test_a_page_for_a_council_fund_paid_online_is_fine(council, ctax, parking):
    assert problems(council, fund_code=ctax) == []
    assert problems(council, fund_code=parking, reference_question=ReferenceQuestion.NONE) == []


def test_a_page_must_say_what_it_takes_money_for(council):
    assert problems(council) == [
        "Choose the service or the fund code this page takes payments for."
    ]


def test_another_councils_fund_or_service_is_refused(council, other_council):
    their_fund = FundCodeFactory(organisation=other_council, code="THEIRS")
    their_service = ServiceFactory(organisation=other_council, fund_code=their_fund)

    assert problems(council, fund_code=their_fund) == [
        f"The fund code '{their_fund}' belongs to another council."
    ]
    assert problems(council, service=their_service) == [
        f"The service '{their_service}' belongs to another council."
    ]


def test_a_fund_not_paid_online_or_the_suspense_fund_is_refused(council, suspense_fund):
    counter_only = FundCodeFactory(organisation=council, allowed_channels=["face_to_face"])

    assert problems(council, fund_code=counter_only, reference_question="none") == [
        f"The fund code {counter_only.code} does not take online payments: tick 'Online' in "
        "its allowed channels first."
    ]
    assert "The suspense fund cannot be paid online." in problems(
        council, fund_code=suspense_fund, reference_question="none"
    )


def test_a_fund_that_checks_references_needs_the_page_to_ask_for_one(council, ctax):
    for question in (ReferenceQuestion.OPTIONAL, ReferenceQuestion.NONE):
        assert problems(council, fund_code=ctax, reference_question=question) == [
            "The fund code CTAX checks references, so the page must ask for one and the "
            "payer must give it."
        ]


def test_a_pages_amount_limits_stay_within_its_funds(council, parking):
    parking.minimum_amount_pence, parking.maximum_amount_pence = 500, 10_000
    parking.save()

    assert problems(
        council, fund_code=parking, minimum_amount_pence=100, maximum_amount_pence=20_000
    ) == [
        "The minimum amount cannot be less than the fund code's, £5.00.",
        "The maximum amount cannot be more than the fund code's, £100.00.",
    ]
    assert (
        problems(council, fund_code=parking, minimum_amount_pence=1_000, maximum_amount_pence=5_000)
        == []
    )


def test_the_page_and_fund_limits_together_make_the_payers_limits(home, parking):
    parking.minimum_amount_pence, parking.maximum_amount_pence = 500, 10_000
    parking.save()
    page = service_page(
        home,
        title="Parking",
        slug="parking",
        fund_code=parking,
        reference_question="none",
        maximum_amount_pence=5_000,
    )

    assert (page.minimum_pence, page.maximum_pence) == (500, 5_000)


def test_a_page_under_a_home_is_checked_against_that_homes_council(home, other_council):
    their_fund = FundCodeFactory(organisation=other_council, allowed_channels=["online"])
    page = ServicePage(title="Theirs", slug="theirs", fund_code=their_fund)
    page.checked_for_organisation = home.organisation

    with pytest.raises(ValidationError) as refused:
        page.full_clean(exclude=["path", "depth"])

    assert refused.value.messages == [f"The fund code '{their_fund}' belongs to another council."]


# Where pages go ------------------------------------------------------------------------------


def test_a_payments_home_goes_at_the_root_and_holds_only_service_pages(home):
    assert PaymentsHomePage.can_create_at(tree_root())
    assert ServicePage.can_create_at(home)
    assert not ServicePage.can_create_at(tree_root())
    assert not PaymentsHomePage.can_create_at(home)
    assert PaymentsHomePage.allowed_subpage_models() == [ServicePage]
    assert ServicePage.allowed_subpage_models() == []


# The page editor -----------------------------------------------------------------------------


@pytest.fixture
def editor(council, home):
    payments_home_grant_editors(home=home)
    return staff(council, roles=(FINANCE_ADMINISTRATOR,), username="web.editor")


def add_page_form(client, home):
    return client.get(f"/admin/pages/add/portal/servicepage/{home.pk}/")


def test_the_editor_chooses_only_from_their_own_councils_services_and_funds(
    client, editor, home, ctax, other_council
):
    mine = ServiceFactory(organisation=home.organisation, fund_code=ctax, name="Council tax")
    theirs = ServiceFactory(organisation=other_council, name="Their service")
    client.force_login(editor)

    response = add_page_form(client, home)

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["service"].queryset) == [mine]
    assert theirs not in form.fields["service"].queryset
    assert set(form.fields["fund_code"].queryset) == {ctax}


def test_a_page_for_another_councils_fund_cannot_be_saved_even_by_posting_its_id(
    client, editor, home, other_council
):
    theirs = FundCodeFactory(organisation=other_council, allowed_channels=["online"])
    client.force_login(editor)

    response = client.post(
        f"/admin/pages/add/portal/servicepage/{home.pk}/",
        {
            "title": "Sneaky",
            "slug": "sneaky",
            "fund_code": theirs.pk,
            "reference_question": "none",
            "reference_label": "Reference",
            "action-publish": "publish",
        },
    )

    assert response.status_code == 200
    assert "fund_code" in response.context["form"].errors
    assert not ServicePage.objects.filter(slug="sneaky").exists()


def test_an_editor_publishes_a_service_page_for_their_council(client, editor, home, ctax):
    client.force_login(editor)

    response = client.post(
        f"/admin/pages/add/portal/servicepage/{home.pk}/",
        {
            "title": "Pay your council tax",
            "slug": "council-tax",
            "fund_code": ctax.pk,
            "reference_question": "required",
            "reference_label": "Council tax account number",
            "minimum_amount_pence": "1.00",
            "maximum_amount_pence": "",
            "action-publish": "publish",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    page = ServicePage.objects.get(slug="council-tax")
    assert page.live and page.fund_code == ctax and page.minimum_amount_pence == 100
    assert page.get_parent().pk == home.pk


def test_an_editor_of_another_council_neither_sees_nor_edits_this_councils_site(
    client, home, other_council, ctax
):
    page = service_page(home, title="Pay your council tax", slug="council-tax", fund_code=ctax)
    payments_home_grant_editors(home=home)
    stranger = staff(other_council, roles=(FINANCE_ADMINISTRATOR,), username="their.editor")
    client.force_login(stranger)

    explorer = client.get(f"/admin/pages/{Page.get_first_root_node().pk}/")
    assert home.title not in explorer.content.decode()
    assert client.get(f"/admin/pages/{page.pk}/edit/").status_code == 302
    assert client.get(f"/admin/pages/add/portal/servicepage/{home.pk}/").status_code == 302
    assert client.get(f"/admin/pages/{page.pk}/delete/").status_code == 302
    assert ServicePage.objects.filter(pk=page.pk).exists()


def test_a_home_cannot_change_council_while_it_has_pages(client, home, ctax, other_council):
    service_page(home, title="Pay your council tax", slug="council-tax", fund_code=ctax)
    operator = staff(home.organisation, username="operator", is_superuser=True)
    client.force_login(operator)

    response = client.post(
        f"/admin/pages/{home.pk}/edit/",
        {
            "title": home.title,
            "slug": home.slug,
            "organisation": other_council.pk,
            "payment_provider": "",
            "action-publish": "publish",
        },
    )

    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    home.refresh_from_db()
    assert home.organisation_id != other_council.pk


def test_a_homes_payment_provider_must_be_one_of_its_councils(client, home):
    operator = staff(home.organisation, username="operator", is_superuser=True)
    client.force_login(operator)

    response = client.post(
        f"/admin/pages/{home.pk}/edit/",
        {
            "title": home.title,
            "slug": home.slug,
            "organisation": home.organisation.pk,
            "payment_provider": "nonesuch",
            "action-publish": "publish",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["payment_provider"] == [
        f"{home.organisation} has no enabled payment provider 'nonesuch'. Use one of: sandbox."
    ]


def test_a_new_home_is_editable_by_the_finance_administrators(council):
    home = payments_home(council, slug="second-site", hostname="pay.example")
    payments_home_grant_editors(home=home)
    editor = staff(council, roles=(FINANCE_ADMINISTRATOR,), username="web.editor")

    permissions = home.permissions_for_user(editor)
    assert permissions.can_add_subpage() and permissions.can_edit() and permissions.can_publish()


def test_an_editor_previews_a_service_page_before_publishing(client, editor, home, ctax):
    page = service_page(home, title="Pay your council tax", slug="council-tax", fund_code=ctax)
    client.force_login(editor)
    preview = f"/admin/pages/{page.pk}/edit/preview/"

    checked = client.post(
        preview,
        {
            "title": "Pay your council tax now",
            "slug": "council-tax",
            "fund_code": ctax.pk,
            "reference_question": "required",
            "reference_label": "Council tax account number",
        },
    )
    shown = client.get(preview)

    assert checked.json()["is_valid"] is True
    assert shown.status_code == 200
    assert "Pay your council tax now" in shown.content.decode()
