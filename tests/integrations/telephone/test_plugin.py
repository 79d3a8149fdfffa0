"""The generic IVR plugin: who it is, its settings, how strictly it reads, how it refunds."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.test import RequestFactory

from backoffice.funds.models import Channel
from backoffice.ledger.models import AccountKind
from backoffice.ledger.services import system_account
from backoffice.payments.models import PaymentStatus, Refund, RefundStatus
from backoffice.payments.services import LineInput, Payer, payment_take, refund_request
from integrations.telephone import plugin
from plugins import manager
from plugins.types import PluginKind, TelephoneCheck, TelephoneOutcome
from tests.factories import FundCodeFactory, integration

requests = RequestFactory()


def json_request(body, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post("/", data=data, content_type=content_type)


def read_problems(reader, request) -> dict:
    with pytest.raises(ValidationError) as raised:
        reader(integration=None, request=request)
    error = raised.value
    return error.message_dict if hasattr(error, "error_dict") else {None: error.messages}


OUTCOME = {
    "transaction_id": "IVR-1",
    "fund_code": "PARK",
    "reference": "PCN1",
    "amount_pence": 1_500,
    "outcome": "succeeded",
}


# Who it is --------------------------------------------------------------------------------


def test_it_is_a_telephone_plugin_that_uses_an_api_key():
    info = manager.plugin_info("telephone")

    assert info.kinds == (PluginKind.TELEPHONE,)
    assert info.uses_api_key is True
    assert info.secret_field_names() == []


def test_its_settings_offer_only_the_councils_active_funds_that_take_telephone_payments(
    council, other_council, ctax, parking, suspense_fund
):
    FundCodeFactory(organisation=council, code="COUNTER", allowed_channels=[Channel.FACE_TO_FACE])
    FundCodeFactory(organisation=council, code="CLOSED", is_active=False)
    FundCodeFactory(organisation=other_council, code="THEIRS")

    form = plugin.TelephoneSettingsForm(organisation=council)

    assert [code for code, _label in form.fields["fund_codes"].choices] == ["CTAX", "PARK"]


def test_its_settings_keep_the_fund_codes_chosen(council, ctax, parking):
    form = plugin.TelephoneSettingsForm(data={"fund_codes": ["PARK"]}, organisation=council)

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"fund_codes": ["PARK"]}


def test_its_settings_refuse_a_fund_code_it_does_not_offer(council, ctax):
    form = plugin.TelephoneSettingsForm(data={"fund_codes": ["NOPE"]}, organisation=council)

    assert not form.is_valid()
    assert "fund_codes" in form.errors


# Reading a check ------------------------------------------------------------------------------


def test_a_check_is_read_into_a_telephone_check():
    request = json_request({"fund_code": "CTAX", "reference": "1234 5674", "amount_pence": 100})

    check = plugin.ims_telephone_read_check(integration=None, request=request)

    assert check == TelephoneCheck(fund_code="CTAX", reference="1234 5674", amount_pence=100)


def test_a_body_that_is_not_json_by_its_content_type_is_refused():
    request = json_request("fund_code=CTAX", content_type="application/x-www-form-urlencoded")

    [message] = read_problems(plugin.ims_telephone_read_check, request)[None]

    assert "Content-Type: application/json" in message
    assert "application/x-www-form-urlencoded" in message


def test_a_json_body_that_is_not_an_object_is_refused():
    problems = read_problems(plugin.ims_telephone_read_check, json_request("[1, 2]"))

    assert problems == {None: ["The body must be a JSON object."]}


def test_nan_is_not_an_amount():
    body = '{"fund_code": "CTAX", "reference": "", "amount_pence": NaN}'

    [message] = read_problems(plugin.ims_telephone_read_check, json_request(body))[None]

    assert "NaN is not a number JSON allows" in message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fund_code", "", "Must not be blank."),
        ("fund_code", "X" * 21, "At most 20 characters, not 21."),
        ("amount_pence", True, "Must be a number, not true."),
        ("amount_pence", None, "This field is required."),
        ("reference", 12345674, "Must be a string, not 12345674."),
    ],
)
def test_each_field_of_a_check_is_read_strictly(field, value, message):
    body = {"fund_code": "CTAX", "reference": "12345674", "amount_pence": 100, field: value}

    problems = read_problems(plugin.ims_telephone_read_check, json_request(body))

    assert problems == {field: [message]}


# Reading an outcome ---------------------------------------------------------------------------


def test_an_outcome_is_read_with_its_payer():
    body = {
        **OUTCOME,
        "outcome": "failed",
        "provider_reference": "PSP-1",
        "payer": {"name": "A. Caller", "email": "caller@example.com", "postcode": "BA1 1AA"},
        "message": "Declined",
    }

    outcome = plugin.ims_telephone_read_outcome(integration=None, request=json_request(body))

    assert outcome == TelephoneOutcome(
        transaction_id="IVR-1",
        fund_code="PARK",
        reference="PCN1",
        amount_pence=1_500,
        succeeded=False,
        provider_reference="PSP-1",
        payer_name="A. Caller",
        payer_email="caller@example.com",
        postcode="BA1 1AA",
        message="Declined",
    )


def test_optional_fields_may_be_left_out_or_sent_as_null():
    body = {**OUTCOME, "provider_reference": None, "payer": {"name": None}}

    outcome = plugin.ims_telephone_read_outcome(integration=None, request=json_request(body))

    assert (outcome.succeeded, outcome.provider_reference, outcome.payer_name) == (True, "", "")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"outcome": "success"}, "outcome", "Must be one of 'succeeded', 'failed'."),
        ({"transaction_id": "   "}, "transaction_id", "Must not be blank."),
        ({"payer": "A. Caller"}, "payer", 'Must be an object, not "A. Caller".'),
        ({"payer": {"email": "not-an-email"}}, "payer.email", "Must be an email address."),
        (
            {"payer": {"phone": "0"}},
            "payer.phone",
            "Unknown field: the exchange has no field of this name.",
        ),
        (
            {"payer": {"postcode": "BA1 1AA XYZ"}},
            "payer.postcode",
            "At most 10 characters, not 11.",
        ),
    ],
)
def test_each_field_of_an_outcome_is_read_strictly(change, field, message):
    problems = read_problems(plugin.ims_telephone_read_outcome, json_request({**OUTCOME, **change}))

    assert problems == {field: [message]}


# Refunds --------------------------------------------------------------------------------------


@pytest.fixture
def ivr(council):
    return integration(council, plugin="telephone", key="ivr", title="Council IVR")


@pytest.fixture
def telephone_payment(council, parking, ivr):
    return payment_take(
        organisation=council,
        channel=Channel.TELEPHONE,
        method="card",
        lines=[LineInput(parking, 2_000, account_reference="PCN1")],
        payer=Payer(name="A. Caller"),
        provider=ivr.key,
        provider_reference="PSP-9",
    )


def test_a_refund_is_accepted_telling_staff_to_pay_it_back_in_the_providers_portal(
    ivr, telephone_payment
):
    # Unsaved: the hook only reads the refund; the payment services write it.
    refund = Refund(payment=telephone_payment, amount_pence=500, reason="Paid twice")

    answer = manager.call(
        "telephone",
        "ims_provider_refund",
        integration=ivr,
        refund=refund,
        amount_available_pence=2_000,
    )

    assert answer.accepted is True
    assert answer.message == (
        "Recorded here only: refund it to the caller's card in the portal of Council IVR's "
        "card provider (their reference PSP-9); this system cannot reach that provider."
    )


def test_refunding_a_telephone_payment_takes_the_money_out_of_the_ivrs_clearing_account(
    council, telephone_payment, officer
):
    refund = refund_request(
        payment=telephone_payment, amount_pence=500, reason="Paid twice", requested_by=officer
    )

    assert refund.status == RefundStatus.SUCCEEDED
    telephone_payment.refresh_from_db()
    assert telephone_payment.status == PaymentStatus.PARTIALLY_REFUNDED
    clearing = system_account(council, AccountKind.PROVIDER_CLEARING, provider="ivr")
    assert clearing.postings.aggregate(total=Sum("amount_pence"))["total"] == 1_500
