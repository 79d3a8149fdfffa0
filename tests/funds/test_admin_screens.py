"""The fund configuration screens, as a finance administrator meets them."""

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from backoffice.funds.models import FundCode, ReferenceRule, Service, VatCategory
from backoffice.funds.references import CheckDigitScheme, with_check_character
from tests.conftest import assert_permission_denied
from tests.factories import (
    DepartmentFactory,
    FundCodeFactory,
    FundGroupFactory,
    ServiceFactory,
    VatRateFactory,
    mod11_rule,
    staff,
)

VIEWSETS = [
    "funds_fundcode",
    "funds_service",
    "funds_fundgroup",
    "funds_referencerule",
    "funds_vatrate",
    "funds_department",
]


@pytest.fixture
def configured(council):
    """One of everything in ``council``."""
    vat_rate = VatRateFactory(organisation=council, code="S")
    rule = mod11_rule(council)
    department = DepartmentFactory(organisation=council)
    fund_code = FundCodeFactory(
        organisation=council, reference_rule=rule, department=department, default_vat_rate=vat_rate
    )
    return {
        "funds_fundcode": fund_code,
        "funds_service": ServiceFactory(organisation=council, fund_code=fund_code),
        "funds_fundgroup": FundGroupFactory(organisation=council),
        "funds_referencerule": rule,
        "funds_vatrate": vat_rate,
        "funds_department": department,
    }


@pytest.mark.parametrize("viewset", VIEWSETS)
@pytest.mark.parametrize("view", ["index", "add"])
def test_listing_and_add_pages_render_for_a_finance_administrator(admin_client, viewset, view):
    response = admin_client.get(reverse(f"{viewset}:{view}"))

    assert response.status_code == 200


@pytest.mark.parametrize("viewset", VIEWSETS)
@pytest.mark.parametrize("view", ["edit", "delete", "history", "usage"])
def test_object_pages_render_for_a_finance_administrator(admin_client, configured, viewset, view):
    response = admin_client.get(reverse(f"{viewset}:{view}", args=[configured[viewset].pk]))

    assert response.status_code == 200


def test_the_funds_menu_is_on_the_admin_home_page(admin_client):
    response = admin_client.get(reverse("wagtailadmin_home"))

    assert response.status_code == 200
    assert b"Fund codes" in response.content
    assert b"Reference rules" in response.content


def test_a_finance_administrator_creates_a_mod_11_rule_a_fund_code_and_a_service(
    admin_client, council, finance_admin
):
    outside_scope = VatRateFactory(
        organisation=council, code="O", category=VatCategory.OUTSIDE_SCOPE
    )

    response = admin_client.post(
        reverse("funds_referencerule:add"),
        {
            "name": "Council tax account",
            "character_set": "digits",
            "min_length": "8",
            "max_length": "8",
            "strip_separators": "on",
            "upper_case": "on",
            "check_digit_algorithm": "weighted",
            "weights": "7,6,5,4,3,2,1",
            "modulus": "11",
            "subtract_from_modulus": "on",
            "result_substitutions": "11=0",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    rule = ReferenceRule.objects.get(organisation=council, name="Council tax account")

    response = admin_client.post(
        reverse("funds_fundcode:add"),
        {
            "code": "CTAX",
            "name": "Council tax",
            "default_vat_rate": outside_scope.pk,
            "reference_rule": rule.pk,
            "allowed_channels": ["online", "telephone"],
            "minimum_amount_pence": "1.00",
            "maximum_amount_pence": "£10,000",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    fund_code = FundCode.objects.get(organisation=council, code="CTAX")
    assert fund_code.allowed_channels == ["online", "telephone"]
    assert (fund_code.minimum_amount_pence, fund_code.maximum_amount_pence) == (100, 1_000_000)

    response = admin_client.post(
        reverse("funds_service:add"),
        {
            "name": "Council tax",
            "slug": "council-tax",
            "fund_code": fund_code.pk,
            "pricing": "fixed",
            "price_pence": "30.00",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    service = Service.objects.get(organisation=council, slug="council-tax")
    assert service.price_pence == 3000

    logged = ModelLogEntry.objects.filter(user=finance_admin, action="wagtail.create")
    assert {entry.label for entry in logged} == {str(rule), str(fund_code), str(service)}


def test_try_a_reference_says_valid_for_a_good_reference(admin_client, council):
    rule = mod11_rule(council)
    good = with_check_character("5000001", rule.spec.check_digit)

    response = admin_client.get(
        reverse("funds_referencerule:try", args=[rule.pk]), {"reference": good}
    )

    assert response.status_code == 200
    assert response.context["check"].is_valid
    assert b'data-reference-result="valid"' in response.content


def test_try_a_reference_says_exactly_which_rule_failed(admin_client, council):
    rule = mod11_rule(council)
    good = with_check_character("5000001", rule.spec.check_digit)
    wrong_check_digit = good[:-1] + str((int(good[-1]) + 1) % 10)

    response = admin_client.get(
        reverse("funds_referencerule:try", args=[rule.pk]), {"reference": wrong_check_digit}
    )

    assert b'data-reference-result="invalid"' in response.content
    assert b'data-problem="check_digit"' in response.content
    assert response.context["check"].expected_check == good[-1]


def test_try_a_reference_reports_the_length_rule_with_the_numbers(admin_client, council):
    rule = mod11_rule(council)

    response = admin_client.get(
        reverse("funds_referencerule:try", args=[rule.pk]), {"reference": "12345"}
    )

    problem = response.context["check"].problems[0]
    assert problem.code == "too_short"
    assert "8" in problem.message and "5" in problem.message


def test_a_rule_with_a_broken_regular_expression_is_refused_with_the_reason(admin_client, council):
    response = admin_client.post(
        reverse("funds_referencerule:add"),
        {
            "name": "Broken",
            "character_set": "any",
            "check_digit_algorithm": "none",
            "modulus": "11",
            "pattern": "[A-Z",
        },
    )

    assert response.status_code == 200
    assert not ReferenceRule.objects.filter(name="Broken").exists()
    assert (
        "pattern" in str(response.context["form"].errors).lower()
        or "expression" in str(response.context["form"].errors).lower()
    )


def test_a_rule_whose_example_fails_it_is_refused(admin_client, council):
    scheme = CheckDigitScheme(
        algorithm="weighted",
        weights=(7, 6, 5, 4, 3, 2, 1),
        modulus=11,
        subtract_from_modulus=True,
        result_substitutions={11: "0"},
    )
    good = with_check_character("5000001", scheme)

    response = admin_client.post(
        reverse("funds_referencerule:add"),
        {
            "name": "Client number",
            "example": good[:-1] + str((int(good[-1]) + 1) % 10),
            "character_set": "digits",
            "check_digit_algorithm": "weighted",
            "weights": "7,6,5,4,3,2,1",
            "modulus": "11",
            "subtract_from_modulus": "on",
            "result_substitutions": "11=0",
        },
    )

    assert response.status_code == 200
    assert "example" in response.context["form"].errors


def test_a_second_fund_code_with_the_same_code_is_a_form_error_not_a_crash(admin_client, council):
    existing = FundCodeFactory(organisation=council, code="CTAX")

    response = admin_client.post(
        reverse("funds_fundcode:add"),
        {
            "code": "CTAX",
            "name": "Another",
            "default_vat_rate": existing.default_vat_rate.pk,
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert FundCode.objects.filter(organisation=council, code="CTAX").count() == 1
    assert response.context["form"].errors


def test_a_second_suspense_fund_is_refused_with_the_reason(admin_client, council):
    existing = FundCodeFactory(organisation=council, code="SUSP", is_suspense=True)

    response = admin_client.post(
        reverse("funds_fundcode:add"),
        {
            "code": "SUSP2",
            "name": "Another suspense",
            "default_vat_rate": existing.default_vat_rate.pk,
            "is_suspense": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "already has a suspense fund" in str(response.context["form"].errors)


def test_the_fund_code_list_filters_by_channel_and_searches_by_name(admin_client, council):
    FundCodeFactory(
        organisation=council, code="CTAX", name="Council tax", allowed_channels=["online"]
    )
    FundCodeFactory(
        organisation=council, code="CASH", name="Cash only", allowed_channels=["cash_return"]
    )

    by_channel = admin_client.get(reverse("funds_fundcode:index"), {"channel": "cash_return"})
    by_name = admin_client.get(reverse("funds_fundcode:index"), {"q": "council"})

    assert [fund.code for fund in by_channel.context["object_list"]] == ["CASH"]
    assert [fund.code for fund in by_name.context["object_list"]] == ["CTAX"]


def test_an_auditor_reads_fund_codes_but_cannot_add_one(client, council):
    client.force_login(staff(council, roles=["Auditor"]))

    assert client.get(reverse("funds_fundcode:index")).status_code == 200
    assert_permission_denied(client.get(reverse("funds_fundcode:add")))
