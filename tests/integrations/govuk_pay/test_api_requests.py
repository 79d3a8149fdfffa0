"""Every request the plugin makes is one GOV.UK Pay's published API accepts, and its answers
are read as the spec says. Prism checks each request against the spec (see conftest.py)."""

import datetime
import logging

import pytest

from backoffice.payments.models import PaymentStatus
from backoffice.payments.services import Payer
from integrations.govuk_pay.client import GovukPayClient
from plugins import manager, online
from plugins.types import ProviderError, RefundResult, Settlement
from tests.integrations.govuk_pay.support import API_KEY

# What the spec's examples say, so what Prism answers.
EXAMPLE_PAYMENT_ID = "hu20sqlact5260q2nanm0q8u93"
EXAMPLE_NEXT_URL = "https://an.example.link/from/payment/platform"
EXAMPLE_REFUND_ID = "act4c33g40j3edfmi8jknab84x"


def _hook(integration, hook, **kwargs):
    return manager.call(integration.plugin, hook, integration=integration, **kwargs)


def test_starting_a_payment_sends_a_valid_create_request_and_the_payer_to_next_url(
    govuk_pay_api, govuk_pay_integration, online_payment
):
    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment(
        payer=Payer(
            name="Ada Lovelace",
            email="ada@example.org",
            address_line_1="1 High Street",
            town="Barchester",
            postcode="BA1 1AA",
        )
    )
    return_url = online.return_url(payment)

    next_url = online.payment_begin(payment=payment, return_url=return_url)

    govuk_pay_api.assert_all_accepted()
    sent = govuk_pay_api.only("POST", "/v1/payments")
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["Idempotency-Key"] == f"ims-{integration.public_id}-payment-{payment.pk}"
    assert sent.json == {
        "amount": 1200,
        "reference": f"IMS-{payment.pk}",
        "description": "Parking PCN123",
        "return_url": return_url,
        "language": "en",
        "email": "ada@example.org",
        "prefilled_cardholder_details": {
            "cardholder_name": "Ada Lovelace",
            "billing_address": {
                "line1": "1 High Street",
                "city": "Barchester",
                "postcode": "BA1 1AA",
                "country": "GB",
            },
        },
        "metadata": {
            "ims_payment": str(payment.pk),
            "ims_council": "barsetshire",
            "ims_fund_codes": "PARK",
        },
    }
    assert next_url == EXAMPLE_NEXT_URL
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert payment.provider_reference == EXAMPLE_PAYMENT_ID


def test_a_payer_without_details_sends_only_what_is_required(
    govuk_pay_api, govuk_pay_integration, online_payment
):
    govuk_pay_integration(
        govuk_pay_api.url, language="cy", description_template="{council}: {items}"
    )
    payment = online_payment(payer=Payer())

    online.payment_begin(payment=payment, return_url="https://pay.example.gov.uk/return/x/")

    govuk_pay_api.assert_all_accepted()
    sent = govuk_pay_api.only("POST", "/v1/payments").json
    assert "email" not in sent
    assert "prefilled_cardholder_details" not in sent
    assert sent["language"] == "cy"
    assert sent["description"] == "Barsetshire Borough Council: Parking PCN123"


def test_the_status_check_sends_a_valid_get_and_reads_the_state(
    govuk_pay_api, govuk_pay_integration, online_payment
):
    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment()
    online.payment_begin(payment=payment, return_url="https://pay.example.gov.uk/return/x/")
    payment.refresh_from_db()
    govuk_pay_api.exchanges.clear()

    answer = _hook(integration, "ims_provider_status", payment=payment)

    govuk_pay_api.assert_all_accepted()
    assert govuk_pay_api.only("GET", f"/v1/payments/{EXAMPLE_PAYMENT_ID}")
    # The spec's example payment is still "created": the payer may still pay.
    assert answer.status == "in_progress"
    assert answer.provider_status == "created"
    assert answer.provider_reference == EXAMPLE_PAYMENT_ID
    assert answer.amount_pence == 1200
    # And so refreshing it changes nothing.
    assert online.payment_refresh(payment).status == PaymentStatus.IN_PROGRESS


def test_a_refund_sends_a_valid_request_with_the_amount_still_available(
    govuk_pay_api, govuk_pay_integration, online_payment, council
):
    from backoffice.payments.models import Refund

    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment()
    payment.provider_reference = EXAMPLE_PAYMENT_ID
    refund = Refund(organisation=council, payment=payment, amount_pence=300, reason="Duplicate")

    answer = _hook(integration, "ims_provider_refund", refund=refund, amount_available_pence=1200)

    govuk_pay_api.assert_all_accepted()
    sent = govuk_pay_api.only("POST", f"/v1/payments/{EXAMPLE_PAYMENT_ID}/refunds")
    assert sent.json == {"amount": 300, "refund_amount_available": 1200}
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert answer == RefundResult(
        accepted=True,
        provider_reference=EXAMPLE_REFUND_ID,
        message="GOV.UK Pay refund submitted.",
    )


def test_settlements_are_searched_by_settled_date_and_read_with_fee_and_date(
    govuk_pay_api, govuk_pay_integration
):
    integration = govuk_pay_integration(govuk_pay_api.url)

    settlements = _hook(
        integration,
        "ims_provider_settlements",
        date_from=datetime.date(2016, 1, 21),
        date_to=datetime.date(2016, 1, 21),
    )

    govuk_pay_api.assert_all_accepted()
    sent = govuk_pay_api.only("GET", "/v1/payments?")
    # Both days included: GOV.UK Pay's to_settled_date is the first day not wanted.
    assert "from_settled_date=2016-01-21" in sent.path
    assert "to_settled_date=2016-01-22" in sent.path
    assert "display_size=500" in sent.path
    # The spec's example: £12.00 plus a £2.50 corporate card surcharge, a 5p fee.
    assert settlements == [
        Settlement(
            provider_reference=EXAMPLE_PAYMENT_ID,
            amount_pence=1450,
            fee_pence=5,
            settled_on=datetime.date(2016, 1, 21),
        )
    ]


def test_prism_does_refuse_a_request_the_api_would_refuse_and_its_reason_is_passed_on(
    govuk_pay_api,
):
    """So that the "accepted" assertions above mean something."""
    client = GovukPayClient(base_url=govuk_pay_api.url, api_key=API_KEY, timeout=10)

    with pytest.raises(ProviderError, match=r"GOV\.UK Pay refused the request \(422 P0102\)"):
        client.create_payment({"amount": 10_000_001, "reference": "x"}, idempotency_key="k-1")

    (exchange,) = govuk_pay_api.exchanges
    assert not exchange.accepted
    assert {tuple(v["location"]) for v in exchange.violations} >= {
        ("request", "body", "amount"),
        ("request", "body"),
    }


def test_an_idempotency_key_the_api_would_refuse_is_refused_by_prism(govuk_pay_api):
    client = GovukPayClient(base_url=govuk_pay_api.url, api_key=API_KEY, timeout=10)
    body = {"amount": 100, "reference": "r", "description": "d", "return_url": "https://x.gov.uk"}

    with pytest.raises(ProviderError):
        client.create_payment(body, idempotency_key="not allowed: spaces")

    assert not govuk_pay_api.exchanges[0].accepted


def test_without_an_api_key_nothing_is_sent(govuk_pay_api):
    with pytest.raises(ProviderError, match=r"No GOV\.UK Pay API key"):
        GovukPayClient(base_url=govuk_pay_api.url, api_key="", timeout=10)

    assert govuk_pay_api.exchanges == []


def test_the_api_key_is_never_logged(govuk_pay_api, govuk_pay_integration, online_payment, caplog):
    integration = govuk_pay_integration(govuk_pay_api.url)
    client = GovukPayClient(base_url=govuk_pay_api.url, api_key=API_KEY, timeout=10)
    caplog.set_level(logging.DEBUG)

    payment = online_payment()
    online.payment_begin(payment=payment, return_url="https://pay.example.gov.uk/r/")
    payment.refresh_from_db()
    _hook(integration, "ims_provider_status", payment=payment)
    with pytest.raises(ProviderError) as refused:
        client.create_payment({"amount": 0}, idempotency_key="k-2")

    assert caplog.records, "the calls above log at DEBUG (httpx) and INFO (refusals)"
    assert API_KEY not in caplog.text
    assert API_KEY not in str(refused.value)
    assert API_KEY not in repr(client)
