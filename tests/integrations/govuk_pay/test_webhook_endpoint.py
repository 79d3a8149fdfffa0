"""GOV.UK Pay's webhooks, end to end through the system's own callback address."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType

from backoffice.ledger.models import JournalEntry
from backoffice.payments.models import Payment, PaymentStatus, StatusChange
from integrations.govuk_pay.webhooks import signature_for
from plugins import online
from plugins.models import ProviderEvent
from tests.integrations.govuk_pay.support import SIGNING_SECRET, SPEC


@pytest.fixture
def started_payment(govuk_pay_api, govuk_pay_integration, online_payment):
    """A £12.00 payment whose payer is on GOV.UK Pay's pages (started against Prism)."""
    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment()
    online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    return integration, payment


def succeeded_message(payment, message_id="msg-0001") -> bytes:
    """GOV.UK Pay's documented example message, about ``payment``, as card_payment_succeeded."""
    example = SPEC.parent / "webhook_message_example.json"
    if not example.exists():
        pytest.skip("../shared/govuk-pay is not beside this checkout")
    message = json.loads(example.read_text())
    message.update(
        webhook_message_id=message_id,
        event_type="card_payment_succeeded",
        resource_id=payment.provider_reference,
    )
    message["resource"].update(payment_id=payment.provider_reference, amount=payment.total_pence)
    return json.dumps(message).encode()


def deliver(client, integration, body: bytes, signature: str | None):
    headers = {"HTTP_PAY_SIGNATURE": signature} if signature is not None else {}
    return client.post(
        f"/integrations/{integration.public_id}/callback/",
        data=body,
        content_type="application/json",
        **headers,
    )


def payment_entries(payment) -> int:
    return JournalEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(Payment), source_id=payment.pk
    ).count()


@pytest.mark.parametrize(
    "signature",
    [None, "", "0" * 64, "not hex at all"],
    ids=["missing", "empty", "wrong", "garbage"],
)
def test_a_webhook_without_gov_uk_pays_signature_is_refused_and_changes_nothing(
    client, started_payment, signature
):
    integration, payment = started_payment
    body = succeeded_message(payment)

    response = deliver(client, integration, body, signature)

    assert response.status_code == 400
    assert ProviderEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert payment.receipt_number is None
    assert payment_entries(payment) == 0


def test_a_webhook_signed_with_another_secret_or_changed_on_the_way_is_refused(
    client, started_payment
):
    integration, payment = started_payment
    body = succeeded_message(payment)

    other_secret = deliver(client, integration, body, signature_for(body, "someone-else"))
    signature = signature_for(body, SIGNING_SECRET)
    changed = deliver(client, integration, body.replace(b"Sherlock", b"Moriarty"), signature)

    assert (other_secret.status_code, changed.status_code) == (400, 400)
    assert ProviderEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS


def test_the_same_signed_succeeded_webhook_delivered_twice_posts_the_payment_once(
    client, started_payment
):
    integration, payment = started_payment
    body = succeeded_message(payment)
    signature = signature_for(body, SIGNING_SECRET)

    first = deliver(client, integration, body, signature)
    payment.refresh_from_db()
    receipt = payment.receipt_number
    second = deliver(client, integration, body, signature)

    assert first.status_code == second.status_code == 200
    assert first.content == b"applied 1, repeated 0"
    assert second.content == b"applied 0, repeated 1"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert receipt and payment.receipt_number == receipt
    assert payment_entries(payment) == 1
    assert ProviderEvent.objects.filter(integration=integration).count() == 1
    assert StatusChange.objects.filter(payment=payment, to_status="success").count() == 1


def test_a_captured_webhook_after_the_succeeded_one_changes_nothing_more(client, started_payment):
    integration, payment = started_payment
    succeeded = succeeded_message(payment, "msg-1")
    captured = json.loads(succeeded)
    captured.update(webhook_message_id="msg-2", event_type="card_payment_captured")
    captured = json.dumps(captured).encode()

    for body in (succeeded, captured):
        response = deliver(client, integration, body, signature_for(body, SIGNING_SECRET))
        assert response.status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert payment_entries(payment) == 1
    assert ProviderEvent.objects.filter(integration=integration).count() == 2


def test_a_cancelled_payment_webhook_closes_the_payment_without_posting(client, started_payment):
    integration, payment = started_payment
    message = json.loads(succeeded_message(payment))
    message.update(event_type="card_payment_failed")
    message["resource"]["state"] = {"status": "failed", "finished": True, "code": "P0030"}
    body = json.dumps(message).encode()

    response = deliver(client, integration, body, signature_for(body, SIGNING_SECRET))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert payment.receipt_number is None
    assert payment_entries(payment) == 0
