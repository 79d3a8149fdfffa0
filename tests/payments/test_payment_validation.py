"""A payment that cannot be taken as asked is refused with a clear reason and writes nothing,
except where the money is already in hand: then a bad reference sends it to suspense."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from backoffice.funds.models import Channel
from backoffice.ledger.selectors import fund_income_pence
from backoffice.payments.models import Payment, PaymentLine, StatusChange
from backoffice.payments.services import LineInput, payment_create, payment_succeed
from tests.factories import FundCodeFactory, ServiceFactory, VatRateFactory

MONEY_IN_HAND = [
    Channel.TELEPHONE,
    Channel.FACE_TO_FACE,
    Channel.CASH_RETURN,
    Channel.BANK,
    Channel.IMPORT,
]


def create(council, *lines, channel="online", method="card", **kwargs):
    return payment_create(
        organisation=council, channel=channel, method=method, lines=list(lines), **kwargs
    )


def row_counts():
    return Payment.objects.count(), PaymentLine.objects.count(), StatusChange.objects.count()


def assert_refused(council, *lines, message, **kwargs):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        create(council, *lines, **kwargs)

    assert message in excinfo.value.messages[0]
    assert row_counts() == before


def line(fund, amount_pence=1_000, **kwargs):
    kwargs.setdefault("account_reference", "REF1")
    return LineInput(fund, amount_pence, **kwargs)


# What is paid for -----------------------------------------------------------------------


def test_a_payment_with_no_lines_is_refused(council):
    assert_refused(council, message="A payment needs at least one line.")


def test_a_payment_to_an_inactive_fund_is_refused(council, outside_scope):
    closed = FundCodeFactory(
        organisation=council, code="OLD", default_vat_rate=outside_scope, is_active=False
    )

    assert_refused(council, line(closed), message="Line 1: fund code OLD is not active.")


def test_a_payment_to_a_fund_of_another_council_is_refused(council, other_council):
    theirs = FundCodeFactory(organisation=other_council, code="THEIRS")

    assert_refused(council, line(theirs), message="fund code THEIRS belongs to another council.")


def test_a_payment_on_a_channel_the_fund_does_not_take_is_refused(council, outside_scope):
    online_only = FundCodeFactory(
        organisation=council,
        code="WEB",
        default_vat_rate=outside_scope,
        allowed_channels=["online"],
    )

    assert_refused(
        council,
        line(online_only),
        channel="face_to_face",
        method="cash",
        message="fund code WEB does not take face to face payments.",
    )


def test_the_line_at_fault_is_named(council, parking, outside_scope):
    closed = FundCodeFactory(
        organisation=council, code="OLD", default_vat_rate=outside_scope, is_active=False
    )

    assert_refused(council, line(parking), line(closed), message="Line 2:")


# Amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -500])
def test_a_line_of_nothing_or_less_is_refused(council, parking, amount):
    assert_refused(council, line(parking, amount), message="the amount must be more than £0.00.")


def test_an_amount_below_the_funds_minimum_is_refused_naming_the_minimum(council, parking):
    parking.minimum_amount_pence = 500
    parking.save()

    assert_refused(council, line(parking, 499), message="Parking takes at least £5.00.")


def test_an_amount_above_the_funds_maximum_is_refused_naming_the_maximum(council, parking):
    parking.maximum_amount_pence = 100_000
    parking.save()

    assert_refused(council, line(parking, 100_001), message="Parking takes at most £1,000.00.")


def test_the_funds_minimum_and_maximum_themselves_are_accepted(council, parking):
    parking.minimum_amount_pence = 500
    parking.maximum_amount_pence = 100_000
    parking.save()

    payment = create(council, line(parking, 500), line(parking, 100_000))

    assert payment.total_pence == 100_500


def test_a_fixed_price_service_paid_a_different_amount_is_refused(council, parking):
    bin_ = ServiceFactory(
        organisation=council,
        fund_code=parking,
        name="Replacement bin",
        pricing="fixed",
        price_pence=2_500,
    )

    assert_refused(
        council,
        line(parking, 2_000, service=bin_),
        message="Replacement bin costs £25.00.",
    )


def test_a_service_of_another_fund_is_refused(council, parking, ctax):
    other = ServiceFactory(organisation=council, fund_code=ctax, name="Summons costs")

    assert_refused(
        council,
        line(parking, service=other),
        message="Summons costs is not an active service of PARK.",
    )


# VAT ------------------------------------------------------------------------------------


def test_a_vat_rate_chosen_for_a_fund_that_does_not_allow_it_is_refused(
    council, parking, outside_scope
):
    assert_refused(
        council,
        line(parking, vat_rate=outside_scope),
        message="the VAT rate of PARK cannot be changed.",
    )


def test_a_vat_rate_chosen_where_the_fund_allows_it_is_used(council, parking, outside_scope):
    parking.vat_overridable = True
    parking.save()

    payment = create(council, line(parking, 1_200, vat_rate=outside_scope))

    assert payment.lines.get().vat_pence == 0


def test_a_vat_rate_of_another_council_is_refused(council, other_council, parking):
    parking.vat_overridable = True
    parking.save()
    theirs = VatRateFactory(organisation=other_council, code="S")

    assert_refused(
        council,
        line(parking, vat_rate=theirs),
        message="that VAT rate belongs to another council.",
    )


def test_a_tax_point_before_the_vat_rate_had_a_percentage_is_refused(council, parking):
    assert_refused(
        council,
        line(parking),
        tax_point=datetime.date(2005, 1, 1),
        message="has no percentage in force on 2005-01-01",
    )


# Channel and method ---------------------------------------------------------------------


def test_an_unknown_channel_is_refused(council, parking):
    assert_refused(council, line(parking), channel="pigeon", message="'pigeon' is not a channel.")


def test_an_unknown_method_is_refused(council, parking):
    assert_refused(
        council, line(parking), method="barter", message="'barter' is not a method of payment."
    )


# References and suspense ----------------------------------------------------------------


def test_a_good_reference_is_kept_in_its_tidy_form(council, ctax, valid_reference):
    reference = valid_reference(ctax)

    payment = create(council, line(ctax, account_reference=f" {reference[:4]} {reference[4:]} "))

    assert payment.lines.get().account_reference == reference


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("12345670", "The reference does not add up"),
        ("1234", "must be exactly 8 characters long (this one has 4)"),
        ("", "Enter a reference."),
    ],
    ids=["wrong check digit", "too short", "missing"],
)
def test_online_a_bad_reference_is_refused_saying_what_is_wrong_with_it(
    council, ctax, suspense_fund, reference, problem
):
    # The payer is still there to put it right, so nothing goes to suspense.
    assert_refused(council, line(ctax, account_reference=reference), message=problem)


@pytest.mark.parametrize("channel", MONEY_IN_HAND)
def test_with_the_money_in_hand_a_bad_reference_goes_to_the_suspense_fund(
    council, ctax, suspense_fund, channel
):
    payment = create(
        council, line(ctax, account_reference="12345670"), channel=channel, method="cash"
    )

    suspended = payment.lines.get()
    assert suspended.fund_code == suspense_fund
    assert suspended.intended_fund_code == ctax
    assert suspended.in_suspense
    assert "does not add up" in suspended.suspense_reason


def test_a_good_reference_on_a_money_in_hand_channel_goes_to_its_own_fund(
    council, ctax, suspense_fund, valid_reference
):
    payment = create(
        council,
        line(ctax, account_reference=valid_reference(ctax)),
        channel="telephone",
        method="card",
    )

    assert payment.lines.get().fund_code == ctax
    assert not payment.lines.get().in_suspense


def test_money_in_suspense_is_credited_to_the_suspense_account_when_taken(
    council, ctax, suspense_fund
):
    payment = create(
        council, line(ctax, 7_500, account_reference="12345670"), channel="bank", method="cash"
    )

    payment_succeed(payment=payment)

    assert fund_income_pence(suspense_fund) == 7_500
    assert fund_income_pence(ctax) == 0


def test_with_no_suspense_fund_a_bad_reference_is_refused_saying_so(council, ctax):
    assert_refused(
        council,
        line(ctax, account_reference="12345670"),
        channel="telephone",
        method="cash",
        message="This council has no suspense fund to hold the money",
    )


def test_another_councils_suspense_fund_is_never_used(council, other_council, ctax):
    FundCodeFactory(organisation=other_council, code="SUSP", is_suspense=True)

    assert_refused(
        council,
        line(ctax, account_reference="12345670"),
        channel="telephone",
        method="cash",
        message="This council has no suspense fund",
    )


def test_a_fund_with_no_reference_rule_takes_a_payment_with_no_reference(council, parking):
    payment = create(council, line(parking, account_reference=""))

    assert payment.lines.get().account_reference == ""
