"""What the payer is told about a reference and an amount: at once, and precisely.

The fund's reference rule says what is wrong with a mistyped reference; the
department's records say whether the account exists; the page's and fund's
limits bound the amount; a fixed price is the price, whatever is posted.
"""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from backoffice.money import format_pence
from backoffice.portal.items import AMOUNT_FORMAT, check_item, parse_amount
from integrations.department_files.services import known_references_replace
from tests.factories import FundCodeFactory, integration

from .site import service_page


def refused(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        check_item(**kwargs)
    return error.value.message_dict


# Amounts in pounds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("12.50", 1_250),
        ("£12.50", 1_250),
        ("12.5", 1_250),
        ("12", 1_200),
        ("0.07", 7),
        ("1,234.56", 123_456),
        (" £ 30 ", 3_000),
    ],
)
def test_pounds_are_read_to_the_penny(typed, pence):
    assert parse_amount(typed) == pence


@pytest.mark.parametrize("typed", ["12.505", "twelve", "12.5.0", "£", "1e3", "12,50p"])
def test_anything_else_is_asked_for_in_pounds_and_pence(typed):
    with pytest.raises(ValidationError) as error:
        parse_amount(typed)
    assert error.value.messages == [AMOUNT_FORMAT]


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Enter the amount you want to pay"), ("0", "Enter an amount more than £0.00")],
)
def test_no_amount_or_nothing_to_pay_is_refused(typed, message):
    with pytest.raises(ValidationError) as error:
        parse_amount(typed)
    assert error.value.messages == [message]


@given(st.integers(min_value=1, max_value=10**12))
def test_any_amount_written_as_pounds_reads_back_as_the_same_pence(pence):
    assert parse_amount(format_pence(pence)) == pence
    assert parse_amount(format_pence(pence, symbol=False).replace(",", "")) == pence


# References ----------------------------------------------------------------------------------


def test_a_good_reference_is_taken_as_the_rule_writes_it(home, ctax_page, valid_reference):
    reference = valid_reference(ctax_page.fund)

    checked = check_item(
        home=home, page=ctax_page, reference=f" {reference[:4]} {reference[4:]} ", amount_text="20"
    )

    assert (checked.reference, checked.amount_pence) == (reference, 2_000)


def test_a_mistyped_reference_is_told_what_the_rule_says_is_wrong(home, ctax_page):
    assert refused(home=home, page=ctax_page, reference="1234567", amount_text="20") == {
        "reference": ["The reference must be exactly 8 characters long (this one has 7)."]
    }
    assert refused(home=home, page=ctax_page, reference="12345670", amount_text="20") == {
        "reference": [
            "The reference does not add up: its last character is a check digit and it does "
            "not match the rest. Check for a mistyped or swapped character."
        ]
    }


def test_a_missing_reference_is_asked_for_by_the_pages_own_words(home, ctax_page):
    assert refused(home=home, page=ctax_page, reference="", amount_text="20") == {
        "reference": ["Enter your council tax account number"]
    }


def test_an_account_the_department_does_not_know_is_refused_before_paying(
    council, home, ctax_page, valid_reference
):
    known = valid_reference(ctax_page.fund, "1234567")
    unknown = valid_reference(ctax_page.fund, "7654321")
    files = integration(
        council,
        plugin="department_files",
        key="revenues-files",
        settings={"fund_codes": ["CTAX"], "validate_references": True},
    )
    known_references_replace(
        integration=files, content=f"fund_code,reference\nCTAX,{known}\n".encode()
    )

    assert check_item(home=home, page=ctax_page, reference=known, amount_text="5").reference
    assert refused(home=home, page=ctax_page, reference=unknown, amount_text="5") == {
        "reference": [
            f"Reference {unknown} is not on the Council Tax department's list of valid references."
        ]
    }


def test_an_optional_reference_may_be_left_blank(home, parking):
    page = service_page(
        home, title="Parking", slug="parking", fund_code=parking, reference_question="optional"
    )

    assert check_item(home=home, page=page, reference="", amount_text="3").reference == ""


# Amounts against the limits ------------------------------------------------------------------


def test_an_amount_outside_the_limits_is_refused_saying_the_limit(home, ctax_page, valid_reference):
    reference = valid_reference(ctax_page.fund)

    assert refused(home=home, page=ctax_page, reference=reference, amount_text="0.99") == {
        "amount": ["The amount must be £1.00 or more"]
    }
    assert refused(home=home, page=ctax_page, reference=reference, amount_text="5000.01") == {
        "amount": ["The amount must be £5,000.00 or less"]
    }
    assert check_item(home=home, page=ctax_page, reference=reference, amount_text="5000")


def test_the_funds_own_limits_apply_on_a_page_without_any(home, parking):
    parking.maximum_amount_pence = 10_000
    parking.save()
    page = service_page(
        home, title="Parking", slug="parking", fund_code=parking, reference_question="none"
    )

    assert refused(home=home, page=page, reference="", amount_text="100.01") == {
        "amount": ["The amount must be £100.00 or less"]
    }


def test_every_problem_is_told_at_once(home, ctax_page):
    assert refused(home=home, page=ctax_page, reference="", amount_text="abc") == {
        "reference": ["Enter your council tax account number"],
        "amount": [AMOUNT_FORMAT],
    }


# Fixed prices --------------------------------------------------------------------------------


def test_a_fixed_price_service_costs_its_price(home, bin_page):
    assert check_item(home=home, page=bin_page, reference="").amount_pence == 3_000


def test_a_posted_price_for_a_fixed_price_service_is_refused_not_used(home, bin_page):
    assert refused(home=home, page=bin_page, reference="", amount_text="0.01") == {
        "__all__": ["The price of Replacement wheelie bin is £30.00. It cannot be changed."]
    }


# Pages that cannot take money now ------------------------------------------------------------


def test_a_closed_fund_or_service_is_refused(home, bin_page, bin_service, ctax_page, ctax):
    bin_service.is_active = False
    bin_service.save()
    ctax.is_active = False
    ctax.save()

    assert refused(home=home, page=bin_page, reference="") == {
        "__all__": ["Replacement wheelie bin cannot be paid for online at the moment."]
    }
    assert refused(home=home, page=ctax_page, reference="", amount_text="1") == {
        "__all__": ["Council Tax cannot be paid for online at the moment."]
    }


def test_a_page_paying_another_councils_fund_takes_nothing(home, other_council):
    # Set up behind the editor's back (the editor's form refuses it): the payment
    # still cannot go to another council.
    theirs = FundCodeFactory(organisation=other_council, allowed_channels=["online"])
    ours = FundCodeFactory(organisation=home.organisation, allowed_channels=["online"])
    page = service_page(
        home, title="Parking", slug="parking", fund_code=ours, reference_question="none"
    )
    type(page).objects.filter(pk=page.pk).update(fund_code=theirs)
    page.refresh_from_db()

    assert refused(home=home, page=page, reference="", amount_text="5") == {
        "__all__": [
            "This cannot be paid for online at the moment because of a problem with this "
            f"page. Nothing has been taken. Contact {home.organisation.name} to pay."
        ]
    }


def test_a_page_of_another_site_cannot_be_paid_on_this_one(home, ctax_page, other_council):
    from .site import payments_home

    theirs = payments_home(other_council, slug="theirs", hostname="pay.wessex.example")

    assert refused(home=theirs, page=ctax_page, reference="", amount_text="5") == {
        "__all__": ["Council Tax cannot be paid for on this site."]
    }
