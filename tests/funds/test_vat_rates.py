"""VAT: the percentage in force on the tax point date, to the penny, half up."""

import datetime
from decimal import Decimal

import pytest

from backoffice.funds.models import VatCategory, VatRate, VatRateNotInForce, VatRatePeriod
from tests.factories import VatRateFactory

HISTORY = [
    (datetime.date(2008, 12, 1), "15"),
    (datetime.date(2010, 1, 1), "17.5"),
    (datetime.date(2011, 1, 4), "20"),
]


@pytest.fixture
def standard(council):
    return VatRateFactory(organisation=council, code="S", percentages=HISTORY)


@pytest.mark.parametrize(
    ("tax_point", "percentage"),
    [
        (datetime.date(2008, 12, 1), "15"),
        (datetime.date(2009, 12, 31), "15"),
        (datetime.date(2010, 1, 1), "17.5"),
        (datetime.date(2011, 1, 3), "17.5"),
        (datetime.date(2011, 1, 4), "20"),
        (datetime.date(2026, 11, 25), "20"),
    ],
)
def test_the_percentage_is_the_one_in_force_on_the_tax_point_date(standard, tax_point, percentage):
    assert standard.percentage_on(tax_point) == Decimal(percentage)


def test_a_tax_point_before_any_percentage_is_an_error_not_zero(standard):
    with pytest.raises(VatRateNotInForce):
        standard.percentage_on(datetime.date(2008, 11, 30))


def test_a_new_rate_from_next_year_leaves_this_years_vat_unchanged(standard):
    before = standard.vat_in_gross(12_000, datetime.date(2026, 6, 1))

    VatRatePeriod.objects.create(
        vat_rate=standard, effective_from=datetime.date(2027, 4, 1), percentage=Decimal("22.5")
    )
    standard = VatRate.objects.get(pk=standard.pk)

    assert standard.vat_in_gross(12_000, datetime.date(2026, 6, 1)) == before == 2_000
    assert standard.percentage_on(datetime.date(2027, 4, 1)) == Decimal("22.5")


@pytest.mark.parametrize(
    ("net", "vat"),
    [(100, 20), (1, 0), (3, 1), (2, 0), (999, 200), (1_000_000, 200_000)],
)
def test_vat_on_a_net_amount_rounds_half_up_to_the_penny(standard, net, vat):
    # 3p at 20% is 0.6p -> 1p; 2p is 0.4p -> 0p; 999p is 199.8p -> 200p
    assert standard.vat_on_net(net, datetime.date(2026, 1, 1)) == vat


@pytest.mark.parametrize(
    ("gross", "vat"),
    [(120, 20), (3_000, 500), (1, 0), (3, 1), (1_999, 333)],
)
def test_the_vat_in_a_gross_amount_is_the_vat_fraction_rounded_half_up(standard, gross, vat):
    # 3p gross at 20% holds 0.5p of VAT -> 1p; 1999p holds 333.17p -> 333p
    assert standard.vat_in_gross(gross, datetime.date(2026, 1, 1)) == vat


def test_seventeen_and_a_half_percent_rounds_half_up_too(standard):
    # 2p net at 17.5% is 0.35p -> 0p; 20p is 3.5p -> 4p
    assert standard.vat_on_net(2, datetime.date(2010, 6, 1)) == 0
    assert standard.vat_on_net(20, datetime.date(2010, 6, 1)) == 4


@pytest.mark.parametrize(
    "category", [VatCategory.ZERO, VatCategory.EXEMPT, VatCategory.OUTSIDE_SCOPE]
)
def test_zero_exempt_and_outside_scope_are_always_zero(council, category):
    vat_rate = VatRateFactory(organisation=council, category=category)

    assert vat_rate.percentage_on(datetime.date(1990, 1, 1)) == 0
    assert vat_rate.vat_in_gross(10_000, datetime.date(2026, 1, 1)) == 0


def test_a_vat_rate_form_refuses_a_standard_rate_with_no_percentage(admin_client):
    from django.urls import reverse

    response = admin_client.post(
        reverse("funds_vatrate:add"),
        {
            "code": "S",
            "name": "Standard",
            "category": "standard",
            "is_active": "on",
            "periods-TOTAL_FORMS": "0",
            "periods-INITIAL_FORMS": "0",
            "periods-MIN_NUM_FORMS": "0",
            "periods-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 200
    assert "percentage in force" in str(response.context["form"].errors)


def test_a_vat_rate_is_created_with_its_percentages_in_the_admin(admin_client, council):
    from django.urls import reverse

    from backoffice.funds.models import VatRate

    response = admin_client.post(
        reverse("funds_vatrate:add"),
        {
            "code": "S",
            "name": "Standard",
            "category": "standard",
            "is_active": "on",
            "periods-TOTAL_FORMS": "2",
            "periods-INITIAL_FORMS": "0",
            "periods-MIN_NUM_FORMS": "0",
            "periods-MAX_NUM_FORMS": "1000",
            "periods-0-effective_from": "2010-01-01",
            "periods-0-percentage": "17.5",
            "periods-0-ORDER": "1",
            "periods-1-effective_from": "2011-01-04",
            "periods-1-percentage": "20",
            "periods-1-ORDER": "2",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    vat_rate = VatRate.objects.get(organisation=council, code="S")
    assert vat_rate.percentage_on(datetime.date(2010, 6, 1)) == Decimal("17.5")
    assert vat_rate.percentage_on(datetime.date(2020, 6, 1)) == Decimal("20")


def test_a_zero_rate_with_a_non_zero_percentage_is_refused(admin_client):
    from django.urls import reverse

    response = admin_client.post(
        reverse("funds_vatrate:add"),
        {
            "code": "Z",
            "name": "Zero",
            "category": "zero",
            "is_active": "on",
            "periods-TOTAL_FORMS": "1",
            "periods-INITIAL_FORMS": "0",
            "periods-MIN_NUM_FORMS": "0",
            "periods-MAX_NUM_FORMS": "1000",
            "periods-0-effective_from": "2011-01-04",
            "periods-0-percentage": "5",
            "periods-0-ORDER": "1",
        },
    )

    assert response.status_code == 200
    assert "always 0%" in str(response.context["form"].errors)
