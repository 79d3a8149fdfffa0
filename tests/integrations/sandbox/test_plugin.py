"""The sandbox plugin's hooks: start, status, refund, callbacks and settlements."""

import datetime
import json

import pytest
from django.utils import timezone

from backoffice.payments.models import PaymentStatus
from integrations.sandbox import services
from integrations.sandbox.models import CardPaymentState, SandboxPayment
from plugins import manager
from plugins.models import ProviderEvent
from plugins.services import integration_update
from plugins.types import InvalidCallback, PluginKind
from tests.factories import integration

SECRET = "a-long-random-signing-secret-for-tests"


def sandbox_payment_of(payment):
    return SandboxPayment.objects.get(pk=payment.provider_reference)


def status_of(sandbox, payment):
    return manager.call("sandbox", "ims_provider_status", integration=sandbox, payment=payment)


def with_signing_secret(sandbox, **settings):
    return integration_update(
        integration=sandbox,
        title=sandbox.title,
        settings={"display_name": "", "signing_secret": SECRET, **settings},
        is_enabled=True,
    )


def test_the_sandbox_is_a_payment_provider_that_needs_no_secret_to_be_enabled(council):
    info = manager.plugin_info("sandbox")

    assert info.kinds == (PluginKind.PAYMENT_PROVIDER,)
    assert info.secret_field_names() == ["signing_secret"]
    assert integration(council, plugin="sandbox", is_enabled=True).is_enabled


def test_the_signing_secret_is_stored_encrypted(sandbox):
    sandbox = with_signing_secret(sandbox)

    assert SECRET not in sandbox.secrets_encrypted and SECRET not in json.dumps(sandbox.settings)
    assert sandbox.config["signing_secret"] == SECRET


def test_starting_records_the_payment_at_the_sandbox_with_an_unguessable_id(
    online_payment, settings
):
    payment, next_url = online_payment(1_250)

    sandbox_payment = sandbox_payment_of(payment)
    assert sandbox_payment.amount_pence == 1_250
    assert sandbox_payment.organisation_id == payment.organisation_id
    assert sandbox_payment.state == CardPaymentState.CREATED
    assert sandbox_payment.description == "Parking"
    assert "/pay/return/" in sandbox_payment.return_url
    assert len(sandbox_payment.id) >= 24
    assert next_url == f"{settings.PUBLIC_BASE_URL}/plugins/sandbox/pay/{sandbox_payment.id}/"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (CardPaymentState.CREATED, PaymentStatus.IN_PROGRESS),
        (CardPaymentState.STARTED, PaymentStatus.IN_PROGRESS),
        (CardPaymentState.SUCCESS, PaymentStatus.SUCCESS),
        (CardPaymentState.DECLINED, PaymentStatus.FAILED),
        (CardPaymentState.CANCELLED, PaymentStatus.CANCELLED),
        (CardPaymentState.EXPIRED, PaymentStatus.EXPIRED),
    ],
)
def test_status_maps_the_sandbox_state_to_the_systems(sandbox, online_payment, state, status):
    payment, _ = online_payment()
    SandboxPayment.objects.filter(pk=payment.provider_reference).update(state=state)

    answer = status_of(sandbox, payment)

    assert (answer.status, answer.provider_status) == (status, state)
    assert answer.provider_reference == payment.provider_reference
    assert answer.amount_pence == payment.total_pence


def test_a_declined_payment_says_the_card_was_declined(sandbox, online_payment):
    payment, _ = online_payment()
    services.sandbox_payment_pay(
        sandbox_payment=sandbox_payment_of(payment), card_number=services.DECLINED_CARD.number
    )

    assert status_of(sandbox, payment).message == "Your card was declined"


def test_a_payment_nobody_finished_within_90_minutes_expires_when_asked_about(
    sandbox, online_payment
):
    payment, _ = online_payment()
    SandboxPayment.objects.filter(pk=payment.provider_reference).update(
        created_at=timezone.now() - datetime.timedelta(minutes=91)
    )

    assert status_of(sandbox, payment).status == PaymentStatus.EXPIRED
    assert sandbox_payment_of(payment).state == CardPaymentState.EXPIRED


def test_a_number_that_is_not_a_test_card_is_refused_and_changes_nothing(online_payment):
    payment, _ = online_payment()

    with pytest.raises(Exception, match="This is a test page"):
        services.sandbox_payment_pay(
            sandbox_payment=sandbox_payment_of(payment), card_number="5555555555554444"
        )

    assert sandbox_payment_of(payment).state == CardPaymentState.CREATED


# Refunds ------------------------------------------------------------------------------------


def paid(payment):
    return services.sandbox_payment_pay(
        sandbox_payment=sandbox_payment_of(payment), card_number=services.SUCCEEDING_CARD.number
    )


def test_a_refund_within_what_is_left_is_accepted_and_recorded(online_payment):
    payment, _ = online_payment(1_000)
    sandbox_payment = paid(payment)

    first = services.sandbox_refund(sandbox_payment=sandbox_payment, amount_pence=600)
    second = services.sandbox_refund(sandbox_payment=sandbox_payment, amount_pence=400)

    assert first.accepted and second.accepted
    assert first.provider_reference != second.provider_reference
    assert sandbox_payment_of(payment).refunded_pence == 1_000


def test_a_refund_of_more_than_is_left_is_refused_with_the_reason(online_payment):
    payment, _ = online_payment(1_000)
    sandbox_payment = paid(payment)
    services.sandbox_refund(sandbox_payment=sandbox_payment, amount_pence=600)

    answer = services.sandbox_refund(sandbox_payment=sandbox_payment, amount_pence=401)

    assert not answer.accepted
    assert answer.message == ("The sandbox can refund at most £4.00 of this payment, not £4.01.")
    assert sandbox_payment_of(payment).refunded_pence == 600


def test_an_unpaid_payment_cannot_be_refunded(online_payment):
    payment, _ = online_payment(1_000)

    answer = services.sandbox_refund(sandbox_payment=sandbox_payment_of(payment), amount_pence=1)

    assert not answer.accepted and "only paid ones" in answer.message


# Callbacks ----------------------------------------------------------------------------------


def callback_url(sandbox):
    return f"/integrations/{sandbox.public_id}/callback/"


def post_callback(client, sandbox, body, headers):
    return client.post(
        callback_url(sandbox),
        data=body,
        content_type="application/json",
        headers={name: value for name, value in headers.items() if name != "Content-Type"},
    )


def test_a_signed_callback_settles_the_payment_once(client, sandbox, online_payment):
    sandbox = with_signing_secret(sandbox)
    payment, _ = online_payment()
    body, headers = services.callback_message(paid(payment), SECRET)

    first = post_callback(client, sandbox, body, headers)
    again = post_callback(client, sandbox, body, headers)

    assert first.status_code == again.status_code == 200
    assert first.content == b"applied 1, repeated 0"
    assert again.content == b"applied 0, repeated 1"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS and payment.receipt_number
    assert ProviderEvent.objects.filter(integration=sandbox).count() == 1


def test_a_callback_with_a_wrong_signature_is_refused_and_changes_nothing(
    client, sandbox, online_payment
):
    sandbox = with_signing_secret(sandbox)
    payment, _ = online_payment()
    body, headers = services.callback_message(paid(payment), "someone-elses-secret")

    response = post_callback(client, sandbox, body, headers)

    assert response.status_code == 400
    assert b"Sandbox-Signature does not match" in response.content
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert not ProviderEvent.objects.exists()


def test_a_callback_whose_body_was_changed_after_signing_is_refused(sandbox, online_payment):
    sandbox = with_signing_secret(sandbox)
    payment, _ = online_payment()
    body, headers = services.callback_message(paid(payment), SECRET)

    with pytest.raises(InvalidCallback, match="does not match"):
        manager.call(
            "sandbox",
            "ims_provider_callback",
            integration=sandbox,
            body=body.replace(b"success", b"declined"),
            headers=headers,
        )


def test_without_a_signing_secret_every_callback_is_refused(sandbox, online_payment):
    payment, _ = online_payment()
    body, headers = services.callback_message(paid(payment), SECRET)

    with pytest.raises(InvalidCallback, match="no callback signing secret"):
        manager.call(
            "sandbox", "ims_provider_callback", integration=sandbox, body=body, headers=headers
        )


def test_a_signed_callback_about_a_payment_the_sandbox_never_had_is_refused(sandbox):
    sandbox = with_signing_secret(sandbox)
    body = json.dumps(
        {"event_id": "x.success", "payment_id": "sbx_unknown", "state": "success"}
    ).encode()

    with pytest.raises(InvalidCallback, match="no payment 'sbx_unknown'"):
        manager.call(
            "sandbox",
            "ims_provider_callback",
            integration=sandbox,
            body=body,
            headers={services.SIGNATURE_HEADER: services.sign(body, SECRET)},
        )


@pytest.mark.django_db(transaction=True)
def test_with_callbacks_on_the_card_page_sends_one_the_system_applies(
    client, live_server, settings, council, parking
):
    # A real HTTP callback from the card page to the system, both on 127.0.0.1.
    from backoffice.payments.services import LineInput, payment_create
    from plugins import online

    settings.PUBLIC_BASE_URL = live_server.url
    sandbox = integration(
        council,
        plugin="sandbox",
        key="sandbox",
        settings={"signing_secret": SECRET, "send_callbacks": True},
    )
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 900, account_reference="PCN9")],
        provider=sandbox.key,
    )
    next_url = online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment.refresh_from_db()

    client.post(
        next_url.removeprefix(live_server.url),
        {
            "card_number": services.SUCCEEDING_CARD.number,
            "expiry_month": "12",
            "expiry_year": str(timezone.localdate().year + 1),
            "name_on_card": "P PAYER",
            "security_code": "123",
        },
    )

    payment.refresh_from_db()  # the payer has not come back: only the callback has settled it
    assert payment.status == PaymentStatus.SUCCESS
    assert ProviderEvent.objects.get(integration=sandbox).event_type == "payment.succeeded"


# Settlements --------------------------------------------------------------------------------


def test_settlements_list_each_paid_payment_in_full_paid_out_the_next_day(sandbox, online_payment):
    first, _ = online_payment(1_000)
    second, _ = online_payment(2_500)
    declined, _ = online_payment(700)
    paid(first)
    paid(second)
    services.sandbox_payment_pay(
        sandbox_payment=sandbox_payment_of(declined), card_number=services.DECLINED_CARD.number
    )
    today = timezone.localdate()

    settlements = manager.call(
        "sandbox",
        "ims_provider_settlements",
        integration=sandbox,
        date_from=today,
        date_to=today,
    )

    tomorrow = today + datetime.timedelta(days=1)
    assert [(s.provider_reference, s.amount_pence, s.fee_pence) for s in settlements] == [
        (first.provider_reference, 1_000, 0),
        (second.provider_reference, 2_500, 0),
    ]
    assert {s.settled_on for s in settlements} == {tomorrow}
    assert {s.payout_reference for s in settlements} == {f"sandbox-payout-{tomorrow:%Y-%m-%d}"}
    yesterday = today - datetime.timedelta(days=1)
    assert not manager.call(
        "sandbox",
        "ims_provider_settlements",
        integration=sandbox,
        date_from=yesterday,
        date_to=yesterday,
    )
