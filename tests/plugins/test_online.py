"""Online payments through a provider plugin (plugins/online.py), with the sandbox provider.

The sandbox's own services stand in for the payer on its card page (pay,
decline, cancel), so no HTTP is needed: what is tested is how the system
records what the provider says, once, whatever the order.
"""

import datetime
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from backoffice.ledger.models import EntryKind, JournalEntry
from backoffice.payments.models import Payment, PaymentStatus, RefundStatus
from backoffice.payments.services import LineInput, Payer, payment_create, refund_request
from integrations.sandbox import services as sandbox_services
from integrations.sandbox.models import CardPaymentState, SandboxPayment
from plugins import online
from plugins.services import integration_update
from plugins.types import ProviderError
from tests.factories import integration


@pytest.fixture
def sandbox(council):
    return integration(council, plugin="sandbox", key="sandbox", title="Sandbox")


@pytest.fixture
def create(council, parking, sandbox):
    """``create(pence, provider=...)``: a created online parking payment, not yet begun."""

    def make(pence=1_200, provider=None):
        return payment_create(
            organisation=council,
            channel="online",
            method="card",
            lines=[LineInput(parking, pence, account_reference="PCN123")],
            payer=Payer(name="Pat Payer", email="pat@example.com"),
            provider=provider or sandbox.key,
        )

    return make


@pytest.fixture
def begun(create):
    """``begun(pence)``: an online payment handed to the sandbox: the payer is on its card page."""

    def make(pence=1_200, provider=None):
        payment = create(pence, provider=provider)
        online.payment_begin(payment=payment, return_url=online.return_url(payment))
        payment.refresh_from_db()
        return payment

    return make


def sandbox_payment_of(payment):
    return SandboxPayment.objects.get(pk=payment.provider_reference)


def payer_pays(payment, card=sandbox_services.SUCCEEDING_CARD):
    sandbox_services.sandbox_payment_pay(
        sandbox_payment=sandbox_payment_of(payment), card_number=card.number
    )


def payment_entries(payment):
    return JournalEntry.objects.filter(kind=EntryKind.PAYMENT, source_id=payment.pk)


def started_ago(payment, **delta):
    """Pretend the payment was created ``delta`` ago (the check looks at its age)."""
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - datetime.timedelta(**delta)
    )


# Beginning -------------------------------------------------------------------------------


def test_payment_begin_sends_the_payer_to_the_card_page_and_records_the_providers_id(
    create, settings
):
    payment = create()

    next_url = online.payment_begin(payment=payment, return_url=online.return_url(payment))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert payment.provider_reference == sandbox_payment_of(payment).id
    assert next_url.startswith(f"{settings.PUBLIC_BASE_URL}/plugins/sandbox/pay/sbx_")
    change = payment.status_changes.get(to_status=PaymentStatus.IN_PROGRESS)
    assert (change.actor, change.reason) == ("sandbox", "Payer sent to the payment provider")


def test_a_disabled_integration_refuses_to_begin_with_a_clear_error(create, sandbox):
    payment = create()
    integration_update(integration=sandbox, title=sandbox.title, settings={}, is_enabled=False)

    with pytest.raises(online.NoProvider) as refused:
        online.payment_begin(payment=payment, return_url=online.return_url(payment))

    assert refused.value.messages == [
        "Barsetshire Borough Council has no enabled payment provider integration 'sandbox'."
    ]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert not SandboxPayment.objects.exists()


# Coming back: payment_refresh -----------------------------------------------------------


def test_a_paid_payment_succeeds_with_a_receipt_and_one_entry_however_often_refreshed(begun):
    payment = begun(1_200)
    payer_pays(payment)

    first = online.payment_refresh(payment)
    again = online.payment_refresh(Payment.objects.get(pk=payment.pk))

    assert first.status == again.status == PaymentStatus.SUCCESS
    assert first.receipt_number and again.receipt_number == first.receipt_number
    assert payment_entries(payment).count() == 1
    entry = payment_entries(payment).get()
    assert sum(posting.amount_pence for posting in entry.postings.all()) == 0
    assert payment.status_changes.filter(to_status=PaymentStatus.SUCCESS).count() == 1


@pytest.mark.parametrize(
    ("finish", "status"),
    [
        (lambda p: payer_pays(p, sandbox_services.DECLINED_CARD), PaymentStatus.FAILED),
        (
            lambda p: sandbox_services.sandbox_payment_cancel(sandbox_payment_of(p)),
            PaymentStatus.CANCELLED,
        ),
    ],
    ids=["declined", "cancelled"],
)
def test_a_payment_not_taken_is_closed_and_nothing_is_posted(begun, finish, status):
    payment = begun()
    finish(payment)

    payment = online.payment_refresh(payment)

    assert payment.status == status
    assert payment.receipt_number is None
    assert not payment_entries(payment).exists()


def test_a_declined_payment_records_why(begun):
    payment = begun()
    payer_pays(payment, sandbox_services.DECLINED_CARD)

    online.payment_refresh(payment)

    change = payment.status_changes.get(to_status=PaymentStatus.FAILED)
    assert change.reason == "Sandbox: declined (Your card was declined)"


def test_a_payer_still_on_the_card_page_leaves_the_payment_in_progress(begun):
    payment = begun()

    assert online.payment_refresh(payment).status == PaymentStatus.IN_PROGRESS


def test_a_callback_and_the_payers_return_together_post_once(begun, sandbox):
    sandbox = integration_update(
        integration=sandbox,
        title=sandbox.title,
        settings={"signing_secret": "shared-secret-for-this-test"},
        is_enabled=True,
    )
    payment = begun()
    payer_pays(payment)
    body, headers = sandbox_services.callback_message(
        sandbox_payment_of(payment), "shared-secret-for-this-test"
    )

    online.callback_receive(integration=sandbox, body=body, headers=headers)
    online.payment_refresh(Payment.objects.get(pk=payment.pk))

    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCESS
    assert payment_entries(payment).count() == 1


# The return page ------------------------------------------------------------------------


def test_the_return_page_settles_the_payment_and_shows_the_receipt_number(client, begun):
    payment = begun(1_250)
    payer_pays(payment)

    response = client.get(urlsplit(sandbox_payment_of(payment).return_url).path)
    reloaded = client.get(urlsplit(sandbox_payment_of(payment).return_url).path)

    payment.refresh_from_db()
    assert response.status_code == 200
    page = response.content.decode()
    assert "Payment complete" in page and payment.receipt_number in page and "£12.50" in page
    assert reloaded.content == response.content
    assert payment_entries(payment).count() == 1


def test_the_return_page_tells_a_declined_payer_nothing_was_taken(client, begun):
    payment = begun()
    payer_pays(payment, sandbox_services.DECLINED_CARD)

    page = client.get(urlsplit(sandbox_payment_of(payment).return_url).path).content.decode()

    assert "Your payment was declined" in page and "Your card was declined" in page


def test_a_forged_return_address_is_not_found(client, begun):
    begun()

    assert client.get("/pay/return/not-a-signed-token/").status_code == 404


# The periodic check: settle_lost_payments ------------------------------------------------


def test_a_paid_payment_whose_payer_never_came_back_is_settled_by_the_check(begun):
    payment = begun()
    payer_pays(payment)
    started_ago(payment, minutes=31)

    report = online.settle_lost_payments(older_than=datetime.timedelta(minutes=30))

    payment.refresh_from_db()
    assert (report.checked, report.settled) == (1, 1)
    assert payment.status == PaymentStatus.SUCCESS and payment.receipt_number
    assert payment_entries(payment).count() == 1
    assert payment.status_changes.get(to_status=PaymentStatus.SUCCESS).actor == "sandbox"


def test_a_payment_younger_than_the_threshold_is_left_alone(begun):
    payment = begun()
    payer_pays(payment)
    started_ago(payment, minutes=5)

    report = online.settle_lost_payments(older_than=datetime.timedelta(minutes=30))

    payment.refresh_from_db()
    assert report.checked == 0
    assert payment.status == PaymentStatus.IN_PROGRESS


def test_a_payer_still_paying_stays_open_and_one_who_gave_up_expires(begun):
    paying, gave_up = begun(), begun()
    started_ago(paying, minutes=40)
    started_ago(gave_up, minutes=40)
    # The sandbox ends a card session 90 minutes after it began.
    SandboxPayment.objects.filter(pk=gave_up.provider_reference).update(
        created_at=timezone.now() - datetime.timedelta(minutes=95)
    )

    report = online.settle_lost_payments(older_than=datetime.timedelta(minutes=30))

    assert (report.checked, report.still_open, report.settled) == (2, 1, 1)
    assert Payment.objects.get(pk=paying.pk).status == PaymentStatus.IN_PROGRESS
    assert Payment.objects.get(pk=gave_up.pk).status == PaymentStatus.EXPIRED
    assert sandbox_payment_of(gave_up).state == CardPaymentState.EXPIRED


def test_a_payment_that_never_reached_the_provider_expires_after_three_hours(create):
    long_ago, recent = create(), create()
    started_ago(long_ago, hours=3, minutes=1)
    started_ago(recent, hours=2)

    report = online.settle_lost_payments(older_than=datetime.timedelta(minutes=30))

    assert (report.checked, report.expired, report.still_open) == (2, 1, 1)
    long_ago.refresh_from_db()
    assert long_ago.status == PaymentStatus.EXPIRED
    expired = long_ago.status_changes.get(to_status=PaymentStatus.EXPIRED)
    assert expired.reason == "The payer never reached the payment provider."
    assert Payment.objects.get(pk=recent.pk).status == PaymentStatus.CREATED


def test_a_provider_that_cannot_answer_does_not_stop_the_others_being_settled(
    council, begun, caplog
):
    # Three councils' worth of trouble in one run: an integration switched off since, a
    # provider that has lost the payment (it answers "no such payment"), and a good one.
    switched_off = integration(council, plugin="sandbox", key="sandbox-old", title="Old")
    lost = begun(provider="sandbox-old")
    forgotten = begun()
    good = begun()
    integration_update(
        integration=switched_off, title=switched_off.title, settings={}, is_enabled=False
    )
    SandboxPayment.objects.filter(pk=forgotten.provider_reference).delete()
    payer_pays(good)
    for payment in (lost, forgotten, good):
        started_ago(payment, hours=1)

    report = online.settle_lost_payments(older_than=datetime.timedelta(minutes=30))

    assert (report.checked, report.unreachable, report.settled) == (3, 2, 1)
    assert Payment.objects.get(pk=good.pk).status == PaymentStatus.SUCCESS
    for payment in (lost, forgotten):
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.IN_PROGRESS
    assert f"Payment {forgotten.pk} could not be checked" in caplog.text


def test_the_sandbox_says_so_when_it_has_no_such_payment(begun):
    payment = begun()
    SandboxPayment.objects.filter(pk=payment.provider_reference).delete()

    with pytest.raises(ProviderError, match="The sandbox has no payment 'sbx_"):
        online.payment_refresh(payment)


# Refunds through the provider ------------------------------------------------------------


@pytest.fixture
def taken(begun, officer):
    def make(pence=1_000):
        payment = begun(pence)
        payer_pays(payment)
        return online.payment_refresh(payment)

    return make


def test_a_refund_is_sent_through_the_sandbox_and_recorded(taken, officer):
    payment = taken(1_000)

    refund = refund_request(
        payment=payment, amount_pence=400, reason="Overpaid", requested_by=officer
    )

    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.provider_reference.startswith(payment.provider_reference)
    assert refund.entry is not None
    assert sandbox_payment_of(payment).refunded_pence == 400
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_pence) == (PaymentStatus.PARTIALLY_REFUNDED, 400)


def test_a_refund_the_sandbox_refuses_is_rejected_with_its_reason_and_posts_nothing(taken, officer):
    payment = taken(1_000)
    # Refunded on the provider's own dashboard, behind the system's back.
    SandboxPayment.objects.filter(pk=payment.provider_reference).update(refunded_pence=900)

    refund = refund_request(
        payment=payment, amount_pence=400, reason="Overpaid", requested_by=officer
    )

    assert refund.status == RefundStatus.REJECTED
    assert refund.failure_reason == (
        "The sandbox can refund at most £1.00 of this payment, not £4.00."
    )
    assert refund.entry is None
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_pence) == (PaymentStatus.SUCCESS, 0)


def test_a_refund_through_a_disabled_integration_is_rejected_with_a_clear_reason(
    taken, officer, sandbox
):
    payment = taken(1_000)
    integration_update(integration=sandbox, title=sandbox.title, settings={}, is_enabled=False)

    refund = refund_request(
        payment=payment, amount_pence=400, reason="Overpaid", requested_by=officer
    )

    assert refund.status == RefundStatus.REJECTED
    assert refund.failure_reason == (
        "No enabled payment provider integration named 'sandbox' is installed to send the refund."
    )
    assert sandbox_payment_of(payment).refunded_pence == 0
