"""A GOV.UK Pay that fails or is too slow leaves payments open; the periodic check settles
them once it answers. The failing GOV.UK Pay is a real HTTP server on 127.0.0.1: Prism
cannot be made to fail, be slow, or say a payment succeeded."""

import datetime

import httpx
import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.utils import timezone

from backoffice.ledger.models import JournalEntry
from backoffice.payments.models import Payment, PaymentStatus
from plugins import online
from plugins.services import integration_update
from plugins.types import ProviderError
from tests.integrations.govuk_pay.support import API_KEY, Scripted


@pytest.fixture
def started_payment(govuk_pay_api, govuk_pay_integration, online_payment):
    """A £12.00 payment started on GOV.UK Pay (Prism), whose outcome is not known yet."""
    integration = govuk_pay_integration(govuk_pay_api.url)
    payment = online_payment()
    online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment.refresh_from_db()
    return integration, payment


def point_at(integration, base_url):
    """Change where the integration finds GOV.UK Pay, as a finance administrator would."""
    return integration_update(
        integration=integration,
        title=integration.title,
        settings={**integration.settings, "base_url": base_url},
        is_enabled=True,
    )


def check_lost_payments():
    """The periodic check, run as if the payments had been open for an hour."""
    return online.settle_lost_payments(
        older_than=datetime.timedelta(minutes=30),
        now=timezone.now() + datetime.timedelta(hours=1),
    )


def assert_still_open(payment):
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert payment.receipt_number is None
    assert not JournalEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(Payment), source_id=payment.pk
    ).exists()


def test_a_gov_uk_pay_answering_500_leaves_the_payment_in_progress(
    started_payment, loopback_provider
):
    integration, payment = started_payment
    failing = loopback_provider(
        Scripted(status=500, body={"code": "P0999", "description": "Downstream system error"})
    )
    point_at(integration, failing.url)

    with pytest.raises(ProviderError, match="500: Downstream system error"):
        online.payment_refresh(payment)
    report = check_lost_payments()

    assert (report.checked, report.unreachable, report.settled) == (1, 1, 0)
    assert failing.requests == [("GET", f"/v1/payments/{payment.provider_reference}")] * 2
    assert_still_open(payment)


def test_a_gov_uk_pay_slower_than_the_timeout_leaves_the_payment_in_progress(
    started_payment, loopback_provider
):
    integration, payment = started_payment
    slow = loopback_provider(Scripted(status=200, body={}, delay_seconds=1.5))
    point_at(integration, slow.url)

    with override_settings(PROVIDER_TIMEOUT_SECONDS=0.2):
        with pytest.raises(ProviderError, match=r"did not answer .* within 0\.2 seconds"):
            online.payment_refresh(payment)
        report = check_lost_payments()

    assert (report.checked, report.unreachable) == (1, 1)
    assert_still_open(payment)


def test_the_periodic_check_settles_the_payment_once_gov_uk_pay_answers(
    started_payment, loopback_provider, prism_url
):
    integration, payment = started_payment
    provider = loopback_provider(Scripted(status=500, body={}))
    point_at(integration, provider.url)
    assert check_lost_payments().unreachable == 1

    # GOV.UK Pay is back and says the payer paid: the spec's own example payment,
    # as Prism serves it, about this payment and in the success state.
    example = httpx.get(
        f"{prism_url}/v1/payments/{payment.provider_reference}",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()
    example.update(
        payment_id=payment.provider_reference,
        amount=payment.total_pence,
        state={"status": "success", "finished": True},
    )
    provider.answer = Scripted(status=200, body=example)
    report = check_lost_payments()

    assert (report.checked, report.settled, report.unreachable) == (1, 1, 0)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert payment.receipt_number
    entries = JournalEntry.objects.filter(
        source_type=ContentType.objects.get_for_model(Payment), source_id=payment.pk
    )
    assert entries.count() == 1
    assert sum(p.amount_pence for p in entries.get().postings.all() if p.amount_pence > 0) == 1200
    # Asked again, nothing more happens.
    assert check_lost_payments().checked == 0


def test_a_success_for_another_amount_is_not_recorded(started_payment, loopback_provider):
    integration, payment = started_payment
    provider = loopback_provider(
        Scripted(
            body={
                "payment_id": payment.provider_reference,
                "amount": 999,
                "state": {"status": "success", "finished": True},
            }
        )
    )
    point_at(integration, provider.url)

    with pytest.raises(ProviderError, match="took 999p"):
        online.payment_refresh(payment)

    assert_still_open(payment)


def test_a_payment_the_payer_cancelled_is_closed_as_cancelled(started_payment, loopback_provider):
    integration, payment = started_payment
    provider = loopback_provider(
        Scripted(
            body={
                "payment_id": payment.provider_reference,
                "amount": 1200,
                "state": {
                    "status": "failed",
                    "finished": True,
                    "code": "P0030",
                    "message": "Payment was cancelled by the user",
                },
            }
        )
    )
    point_at(integration, provider.url)

    payment = online.payment_refresh(payment)

    assert payment.status == PaymentStatus.CANCELLED
    change = payment.status_changes.last()
    assert change.reason == "GOV.UK Pay: failed (P0030) (Payment was cancelled by the user)"


@pytest.mark.parametrize(
    "answer",
    [Scripted(raw=b"<html>Service unavailable</html>"), Scripted(body=["not", "a", "payment"])],
    ids=["html", "json-list"],
)
def test_an_answer_that_is_not_a_payment_is_an_error_not_a_guess(
    started_payment, loopback_provider, answer
):
    integration, payment = started_payment
    point_at(integration, loopback_provider(answer).url)

    with pytest.raises(ProviderError, match="other than a JSON object"):
        online.payment_refresh(payment)

    assert_still_open(payment)
