"""The IVR endpoints, end to end over HTTP with the generic telephone plugin.

An IVR asks whether a fund code, reference and amount may be paid, takes the
card with its own provider, then reports the outcome; the system records it
as a telephone payment once, however often it is reported.
"""

import json

import pytest
from django.db.models import Sum
from django.urls import reverse

from backoffice.funds.models import Channel
from backoffice.ledger.models import AccountKind, JournalEntry, Posting
from backoffice.ledger.services import system_account
from backoffice.payments.models import Method, Payment, PaymentLine, PaymentStatus, StatusChange
from plugins.models import Integration
from plugins.services import integration_issue_api_key, integration_update
from tests.factories import FundCodeFactory, integration


@pytest.fixture
def council(council):
    council.receipt_prefix = "BAR"
    council.save()
    return council


@pytest.fixture
def ivr(council):
    """The council's IVR, on the generic telephone plugin."""
    return integration(council, plugin="telephone", key="ivr", title="Council IVR")


@pytest.fixture
def api_key(ivr):
    return integration_issue_api_key(integration=ivr)


@pytest.fixture
def post(client, ivr, api_key):
    """``post(endpoint, body)``: a JSON POST to one of the IVR's endpoints, with its key."""

    def send(endpoint, body, *, key=api_key, public_id=None, **headers):
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return client.post(
            reverse(f"plugins:telephone_{endpoint}", args=[public_id or ivr.public_id]),
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            content_type=headers.pop("content_type", "application/json"),
            headers=headers,
        )

    return send


def check_body(fund, reference, amount_pence=12_550):
    return {"fund_code": fund.code, "reference": reference, "amount_pence": amount_pence}


def outcome_body(fund, reference, *, transaction_id="IVR-0001", amount_pence=12_550, **extra):
    return {
        "transaction_id": transaction_id,
        "fund_code": fund.code if hasattr(fund, "code") else fund,
        "reference": reference,
        "amount_pence": amount_pence,
        "outcome": "succeeded",
        "provider_reference": "PSP-7781",
        "payer": {"name": "A. Caller", "email": "caller@example.com", "postcode": "BA1 1AA"},
        **extra,
    }


def problem_codes(response):
    return [problem["code"] for problem in response.json()["problems"]]


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Payment, PaymentLine, StatusChange, JournalEntry, Posting)
    }


# Authentication ---------------------------------------------------------------------------


def test_a_request_without_an_api_key_is_refused_with_a_bearer_challenge(post, ctax):
    response = post("check", check_body(ctax, "12345674"), key=None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ims"'
    assert "Authorization: Bearer" in response.json()["message"]


def test_a_wrong_api_key_is_refused(post, ctax):
    response = post("check", check_body(ctax, "12345674"), key="ims_not-the-key")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ims", error="invalid_token"'
    assert response.json()["error"] == "unauthorised"


def test_an_old_api_key_stops_working_when_a_new_one_is_issued(post, ivr, api_key, ctax):
    integration_issue_api_key(integration=ivr)

    assert post("check", check_body(ctax, "12345674"), key=api_key).status_code == 401


def test_a_disabled_integration_refuses_even_its_own_key(post, ivr, ctax):
    integration_update(integration=ivr, title=ivr.title, settings={}, is_enabled=False)

    assert post("check", check_body(ctax, "12345674")).status_code == 401


def test_a_councils_key_does_not_open_another_councils_integration(post, other_council, ctax):
    theirs = integration(other_council, plugin="telephone", key="ivr")
    integration_issue_api_key(integration=theirs)

    # Our key, their integration's address.
    response = post("check", check_body(ctax, "12345674"), public_id=theirs.public_id)

    assert response.status_code == 401


def test_an_integration_that_is_not_a_telephone_system_is_not_found(client, council, ctax):
    # Made directly, whatever settings the departmental plugin asks for: only its kind matters.
    department = Integration.objects.create(
        organisation=council,
        plugin="department_files",
        key="files",
        title="Department files",
        is_enabled=True,
    )
    key = integration_issue_api_key(integration=department)

    response = client.post(
        reverse("plugins:telephone_check", args=[department.public_id]),
        data=json.dumps(check_body(ctax, "12345674")),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 404


@pytest.mark.parametrize("endpoint", ["check", "outcome"])
def test_the_endpoints_take_only_post(client, ivr, api_key, endpoint):
    response = client.get(
        reverse(f"plugins:telephone_{endpoint}", args=[ivr.public_id]),
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert response.status_code == 405


# Checking -------------------------------------------------------------------------------


def test_a_valid_fund_reference_and_amount_are_payable(post, ctax, valid_reference):
    response = post("check", check_body(ctax, valid_reference(ctax)))

    assert response.status_code == 200
    assert response.json() == {"payable": True, "problems": []}


def test_a_check_writes_nothing(post, ctax, valid_reference):
    before = row_counts()

    post("check", check_body(ctax, valid_reference(ctax)))

    assert row_counts() == before


def test_an_unknown_fund_code_is_not_payable(post, ctax):
    response = post("check", {"fund_code": "NOPE", "reference": "1", "amount_pence": 100})

    assert response.json() == {
        "payable": False,
        "problems": [{"code": "unknown_fund", "message": "There is no fund with the code 'NOPE'."}],
    }


def test_a_reference_with_a_wrong_check_digit_gets_the_rules_own_message(
    post, ctax, valid_reference
):
    good = valid_reference(ctax)
    wrong_digit = good[:-1] + str((int(good[-1]) + 1) % 10)

    response = post("check", check_body(ctax, wrong_digit))

    assert response.json()["payable"] is False
    [problem] = response.json()["problems"]
    assert problem["code"] == "bad_reference"
    assert problem["message"] == ctax.check_reference(wrong_digit).problems[0].message
    assert "check" in problem["message"].lower()


def test_amounts_outside_the_funds_limits_are_not_payable(post, council):
    fund = FundCodeFactory(
        organisation=council, code="BULKY", minimum_amount_pence=500, maximum_amount_pence=5_000
    )

    too_small = post("check", check_body(fund, "ANY", amount_pence=499))
    too_large = post("check", check_body(fund, "ANY", amount_pence=5_001))
    at_the_limits = [post("check", check_body(fund, "ANY", amount)) for amount in (500, 5_000)]

    assert too_small.json()["problems"] == [
        {"code": "amount_too_small", "message": f"{fund.name} takes at least £5.00."}
    ]
    assert too_large.json()["problems"] == [
        {"code": "amount_too_large", "message": f"{fund.name} takes at most £50.00."}
    ]
    assert [response.json()["payable"] for response in at_the_limits] == [True, True]


@pytest.mark.parametrize("amount", [0, -100, 12.5])
def test_an_amount_that_is_not_whole_pence_above_zero_is_a_bad_amount(post, parking, amount):
    response = post("check", check_body(parking, "PCN1", amount_pence=amount))

    assert problem_codes(response) == ["bad_amount"]


def test_a_closed_fund_is_not_payable(post, parking):
    parking.is_active = False
    parking.save()

    assert problem_codes(post("check", check_body(parking, "PCN1"))) == ["fund_inactive"]


def test_a_fund_that_does_not_take_telephone_payments_is_not_payable(post, council):
    counter_only = FundCodeFactory(organisation=council, allowed_channels=[Channel.FACE_TO_FACE])

    response = post("check", check_body(counter_only, "X"))

    assert problem_codes(response) == ["channel_not_allowed"]
    assert "does not take telephone payments" in response.json()["problems"][0]["message"]


def test_an_ivr_limited_to_some_funds_may_not_take_the_others(post, ivr, ctax, parking):
    integration_update(
        integration=ivr, title=ivr.title, settings={"fund_codes": ["PARK"]}, is_enabled=True
    )

    response = post("check", check_body(ctax, "12345674"))

    assert problem_codes(response)[0] == "channel_not_allowed"
    assert "cannot be paid through Council IVR" in response.json()["problems"][0]["message"]
    assert post("check", check_body(parking, "PCN1")).json()["payable"] is True


def test_every_problem_is_reported_at_once(post, council, ctax):
    ctax.is_active = False
    ctax.maximum_amount_pence = 1_000
    ctax.save()

    response = post("check", check_body(ctax, "12345678", amount_pence=2_000))

    assert problem_codes(response) == ["fund_inactive", "amount_too_large", "bad_reference"]


# Reporting an outcome ---------------------------------------------------------------------


def test_a_succeeded_card_payment_is_taken_on_the_telephone_channel(
    post, council, ctax, valid_reference
):
    reference = valid_reference(ctax)

    response = post("outcome", outcome_body(ctax, reference))

    assert response.status_code == 201
    answer = response.json()
    payment = Payment.objects.get()
    assert answer == {
        "payment_id": payment.pk,
        "status": "success",
        "receipt_number": payment.receipt_number,
        "replayed": False,
    }
    assert payment.receipt_number.startswith("BAR-")
    assert (payment.channel, payment.method, payment.status) == (
        Channel.TELEPHONE,
        Method.CARD,
        PaymentStatus.SUCCESS,
    )
    assert (payment.provider, payment.provider_reference) == ("ivr", "PSP-7781")
    assert (payment.payer_name, payment.payer_email, payment.postcode) == (
        "A. Caller",
        "caller@example.com",
        "BA1 1AA",
    )
    assert list(
        payment.lines.values_list("fund_code__code", "account_reference", "gross_pence")
    ) == [("CTAX", reference, 12_550)]


def test_the_money_sits_in_the_integrations_clearing_account(post, council, ctax, valid_reference):
    post("outcome", outcome_body(ctax, valid_reference(ctax)))

    payment = Payment.objects.get()
    entry = JournalEntry.objects.get(source_id=payment.pk)
    clearing = system_account(council, AccountKind.PROVIDER_CLEARING, provider="ivr")
    assert entry.postings.get(account=clearing).amount_pence == 12_550
    assert entry.postings.aggregate(total=Sum("amount_pence"))["total"] == 0


def test_the_transaction_id_is_the_provider_reference_when_the_ivr_gives_none(post, parking):
    body = outcome_body(parking, "PCN1", transaction_id="IVR-42")
    del body["provider_reference"]

    post("outcome", body)

    assert Payment.objects.get().provider_reference == "IVR-42"


def test_the_same_transaction_reported_again_returns_the_same_payment_and_writes_nothing(
    post, ctax, valid_reference
):
    body = outcome_body(ctax, valid_reference(ctax))
    first = post("outcome", body).json()
    before = row_counts()

    again = post("outcome", body)

    assert again.status_code == 200
    assert again.json() == {**first, "replayed": True}
    assert row_counts() == before


def test_the_same_transaction_id_with_a_different_amount_is_a_conflict(post, ctax, valid_reference):
    post("outcome", outcome_body(ctax, valid_reference(ctax)))
    before = row_counts()

    response = post("outcome", outcome_body(ctax, valid_reference(ctax), amount_pence=999))

    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_conflict"
    assert "already used for a different" in response.json()["message"]
    assert row_counts() == before


def test_two_ivrs_of_one_council_may_use_the_same_transaction_ids(post, client, council, parking):
    other_ivr = integration(council, plugin="telephone", key="ivr-parking")
    other_key = integration_issue_api_key(integration=other_ivr)

    post("outcome", outcome_body(parking, "PCN1"))
    response = post(
        "outcome", outcome_body(parking, "PCN1"), key=other_key, public_id=other_ivr.public_id
    )

    assert response.status_code == 201
    assert sorted(Payment.objects.values_list("provider", flat=True)) == ["ivr", "ivr-parking"]


def test_a_failed_card_payment_is_recorded_as_failed_and_posts_nothing(post, parking):
    response = post(
        "outcome", outcome_body(parking, "PCN1", outcome="failed", message="Card declined")
    )

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert response.json() == {
        "payment_id": payment.pk,
        "status": "failed",
        "receipt_number": None,
        "replayed": False,
    }
    assert (payment.channel, payment.provider_reference) == (Channel.TELEPHONE, "PSP-7781")
    assert list(payment.status_changes.values_list("to_status", flat=True)) == [
        "created",
        "in_progress",
        "failed",
    ]
    assert "Card declined" in payment.status_changes.get(to_status="failed").reason
    assert JournalEntry.objects.count() == 0


def test_a_failed_card_payment_reported_again_is_recorded_once(post, parking):
    body = outcome_body(parking, "PCN1", outcome="failed")
    first = post("outcome", body).json()
    before = row_counts()

    again = post("outcome", body)

    assert again.json() == {**first, "replayed": True}
    assert row_counts() == before


def test_a_transaction_reported_failed_cannot_later_be_reported_succeeded(post, parking):
    post("outcome", outcome_body(parking, "PCN1", outcome="failed"))

    response = post("outcome", outcome_body(parking, "PCN1"))

    assert response.status_code == 409
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_a_bad_reference_on_money_taken_goes_to_suspense_for_the_fund_meant(
    post, ctax, suspense_fund
):
    response = post("outcome", outcome_body(ctax, "12345678"))

    assert response.status_code == 201
    line = PaymentLine.objects.get()
    assert (line.fund_code, line.intended_fund_code) == (suspense_fund, ctax)
    assert line.suspense_reason == ctax.check_reference("12345678").problems[0].message


def test_money_taken_for_an_unknown_fund_is_kept_in_suspense_with_the_reason(
    post, council, suspense_fund
):
    response = post("outcome", outcome_body("GONE", "ABC123"))

    assert response.status_code == 201
    assert response.json()["status"] == "success"
    line = PaymentLine.objects.get()
    assert line.fund_code == suspense_fund
    assert line.account_reference == "ABC123"
    assert line.narrative == (
        "Telephone payment for fund code GONE: There is no fund with the code 'GONE'."
    )
    clearing = system_account(council, AccountKind.PROVIDER_CLEARING, provider="ivr")
    assert clearing.postings.aggregate(total=Sum("amount_pence"))["total"] == 12_550


def test_money_taken_over_a_funds_maximum_is_kept_in_suspense(post, council, suspense_fund):
    fund = FundCodeFactory(organisation=council, code="SMALL", maximum_amount_pence=1_000)

    post("outcome", outcome_body(fund, "X", amount_pence=1_001))

    line = PaymentLine.objects.get()
    assert line.fund_code == suspense_fund
    assert "takes at most £10.00" in line.narrative


def test_money_for_an_unknown_fund_is_refused_when_there_is_no_suspense_fund(post, council):
    response = post("outcome", outcome_body("GONE", "ABC123"))

    assert response.status_code == 422
    assert response.json()["error"] == "no_suspense_fund"
    assert "no suspense fund" in response.json()["problems"][0]["message"]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -5, 10.5])
def test_an_outcome_for_no_money_is_refused(post, parking, amount):
    response = post("outcome", outcome_body(parking, "PCN1", amount_pence=amount))

    assert response.status_code == 422
    assert response.json()["error"] == "bad_amount"
    assert Payment.objects.count() == 0


# Reading requests -------------------------------------------------------------------------


def test_malformed_json_is_refused_saying_so(post):
    response = post("outcome", '{"transaction_id": "IVR-1",')

    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["field"] is None
    assert problem["message"].startswith("The body is not valid JSON")


def test_each_missing_extra_or_mistyped_field_is_named(post, parking):
    body = outcome_body(parking, "PCN1", amount_pence="12.50", colour="blue")
    del body["transaction_id"]
    body["payer"]["postcode"] = 123

    response = post("outcome", body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert {problem["field"]: problem["message"] for problem in response.json()["problems"]} == {
        "transaction_id": "This field is required.",
        "amount_pence": 'Must be a number, not "12.50".',
        "colour": "Unknown field: the exchange has no field of this name.",
        "payer.postcode": "Must be a string, not 123.",
    }
    assert Payment.objects.count() == 0
