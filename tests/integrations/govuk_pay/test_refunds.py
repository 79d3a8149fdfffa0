"""Refunding a GOV.UK Pay payment through the payment services: the refund goes to GOV.UK Pay
(Prism) with the amount still refundable, and its answer is recorded."""

import pytest

from backoffice.payments import services as payment_services
from backoffice.payments.models import PaymentStatus, RefundStatus
from plugins import online
from plugins.services import integration_update
from tests.integrations.govuk_pay.support import Scripted


@pytest.fixture
def taken_payment(govuk_pay_api, govuk_pay_integration, online_payment):
    """A £12.00 payment taken through GOV.UK Pay (started against Prism, then succeeded)."""
    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment()
    online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment = payment_services.payment_succeed(
        payment=payment, actor="govuk-pay", reason="GOV.UK Pay: success"
    )
    govuk_pay_api.exchanges.clear()
    return integration, payment


def test_a_refund_request_goes_to_gov_uk_pay_and_is_accepted(taken_payment, govuk_pay_api, officer):
    _integration, payment = taken_payment

    first = payment_services.refund_request(
        payment=payment, amount_pence=500, reason="Paid twice", requested_by=officer
    )
    second = payment_services.refund_request(
        payment=payment, amount_pence=700, reason="Permit cancelled", requested_by=officer
    )

    govuk_pay_api.assert_all_accepted()
    sent = [e.json for e in govuk_pay_api.exchanges]
    # Each time, what was still refundable before that refund.
    assert sent == [
        {"amount": 500, "refund_amount_available": 1200},
        {"amount": 700, "refund_amount_available": 700},
    ]
    refunds_path = f"/v1/payments/{payment.provider_reference}/refunds"
    assert [e.path for e in govuk_pay_api.exchanges] == [refunds_path, refunds_path]
    for refund in (first, second):
        assert refund.status == RefundStatus.SUCCEEDED
        assert refund.provider_reference == "act4c33g40j3edfmi8jknab84x"
        assert refund.entry is not None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_pence == 1200


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Scripted(status=412), "amount left to refund is not 1200p"),
        (
            Scripted(
                status=404,
                body={"code": "P0700", "description": "Not found"},
            ),
            "refused the request (404 P0700): Not found",
        ),
        (
            Scripted(status=200, body={"refund_id": "r1", "status": "error", "amount": 500}),
            "could not make the refund",
        ),
        (
            Scripted(status=500, body={"description": "Downstream system error"}),
            "could not be reached",
        ),
    ],
    ids=["412-mismatch", "404", "refund-error", "500"],
)
def test_a_refund_gov_uk_pay_refuses_is_recorded_as_rejected_and_posts_nothing(
    taken_payment, loopback_provider, officer, answer, reason
):
    integration, payment = taken_payment
    provider = loopback_provider(answer)
    integration_update(
        integration=integration,
        title=integration.title,
        settings={**integration.settings, "base_url": provider.url},
        is_enabled=True,
    )

    refund = payment_services.refund_request(
        payment=payment, amount_pence=500, reason="Paid twice", requested_by=officer
    )

    assert refund.status == RefundStatus.REJECTED
    assert reason in refund.failure_reason
    assert refund.entry is None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert payment.refunded_pence == 0


def test_a_202_without_a_body_is_an_accepted_refund(taken_payment, loopback_provider, officer):
    integration, payment = taken_payment
    provider = loopback_provider(Scripted(status=202, raw=b""))
    integration_update(
        integration=integration,
        title=integration.title,
        settings={**integration.settings, "base_url": provider.url},
        is_enabled=True,
    )

    refund = payment_services.refund_request(
        payment=payment, amount_pence=1200, reason="Permit cancelled", requested_by=officer
    )

    assert refund.status == RefundStatus.SUCCEEDED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
