"""Cards over the phone at the counter: the provider's staff (MOTO) flow.

The cashier records the payment, is sent to the provider's page to type the card details the
caller reads out, and comes back to the session; nothing is posted until the provider says
the card was charged. The sandbox supports MOTO for tests and demos; GOV.UK Pay is asked
with ``"moto": true``, checked against its published API by Prism.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.counter import services
from backoffice.counter.models import PaymentKind, SessionPayment
from backoffice.ledger.models import AccountKind
from backoffice.ledger.selectors import account_balance_pence
from backoffice.ledger.services import system_account
from backoffice.payments.models import Payment, PaymentStatus
from backoffice.payments.services import LineInput
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxPayment
from plugins import online
from plugins.types import ProviderError
from tests.factories import integration
from tests.integrations.govuk_pay.conftest import (  # noqa: F401 - GOV.UK Pay's API, by Prism
    _prism_recorder,
    govuk_pay_api,
    govuk_pay_integration,
    prism_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_provider(council):
    return integration(council, plugin="sandbox", key="sandbox", title="Sandbox cards")


@pytest.fixture(autouse=True)
def _a_host_providers_accept(settings):
    # The provider is given the address to send the cashier back to, built from the request's
    # host: the test client's "testserver" is not one a URL validator accepts.
    settings.ALLOWED_HOSTS = ["counter.localhost"]


HOST = {"HTTP_HOST": "counter.localhost"}


@pytest.fixture
def session(till, cashier):
    return services.till_session_open(till=till, opened_by=cashier)


def phone_form(fund, **fields):
    return {
        "amount": "45.00",
        "fund_code": str(fund.pk),
        "account_reference": "PCN555",
        "kind": PaymentKind.CARD_PHONE,
        "provider": "sandbox",
        "payer_name": "Caller",
        "receipt": "none",
        "idempotency_key": "phone-1",
        **fields,
    }


def test_providers_say_whether_they_take_cards_over_the_phone():
    assert online.supports_moto("sandbox")
    assert online.supports_moto("govuk_pay")
    assert not online.supports_moto("telephone")


def test_only_enabled_providers_that_take_moto_are_offered_at_the_till(
    council, sandbox_provider, client, cashier, session
):
    integration(council, plugin="telephone", key="ivr", title="IVR")
    integration(council, plugin="sandbox", key="sandbox-off", title="Off", is_enabled=False)

    assert [found.key for found in online.moto_integrations(council)] == ["sandbox"]
    client.force_login(cashier)
    form = client.get(reverse("counter_tillsession:inspect", args=[session.pk]), **HOST).context[
        "take_form"
    ]
    assert form.fields["provider"].choices == [("sandbox", "Sandbox cards")]
    assert PaymentKind.CARD_PHONE in dict(form.fields["kind"].choices)


def test_without_such_a_provider_card_over_the_phone_is_not_offered(client, cashier, session):
    client.force_login(cashier)
    form = client.get(reverse("counter_tillsession:inspect", args=[session.pk]), **HOST).context[
        "take_form"
    ]
    assert PaymentKind.CARD_PHONE not in dict(form.fields["kind"].choices)
    assert "provider" not in form.fields


def test_a_card_over_the_phone_is_taken_through_the_sandbox_and_posted_once_it_is_charged(
    client, cashier, session, parking, sandbox_provider, council
):
    client.force_login(cashier)
    response = client.post(
        reverse("counter_tillsession:inspect", args=[session.pk]), phone_form(parking), **HOST
    )

    record = SessionPayment.objects.get()
    payment = record.payment
    sandbox_payment = SandboxPayment.objects.get()
    # Sent to the provider's page, as MOTO, with nothing posted yet.
    assert response.url == sandbox.card_page_url(sandbox_payment)
    assert sandbox_payment.is_moto
    assert (payment.channel, payment.status) == ("telephone", PaymentStatus.IN_PROGRESS)
    assert "MOTO" in payment.status_changes.last().reason
    clearing = system_account(council, AccountKind.PROVIDER_CLEARING, provider="sandbox")
    assert account_balance_pence(clearing) == 0

    sandbox.sandbox_payment_pay(sandbox_payment=sandbox_payment, card_number="4444333322221111")
    back = client.get(reverse("counter_tillsession:phone", args=[record.pk]), **HOST)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert (
        back.url
        == reverse("counter_tillsession:inspect", args=[session.pk]) + f"?receipt={record.pk}"
    )
    assert account_balance_pence(clearing) == 4_500


def test_a_declined_card_posts_nothing(
    client, cashier, session, parking, sandbox_provider, council
):
    client.force_login(cashier)
    client.post(
        reverse("counter_tillsession:inspect", args=[session.pk]), phone_form(parking), **HOST
    )
    record = SessionPayment.objects.get()
    sandbox.sandbox_payment_pay(
        sandbox_payment=SandboxPayment.objects.get(), card_number="4000000000000002"
    )

    client.get(reverse("counter_tillsession:phone", args=[record.pk]), **HOST)

    record.payment.refresh_from_db()
    assert record.payment.status == PaymentStatus.FAILED
    clearing = system_account(council, AccountKind.PROVIDER_CLEARING, provider="sandbox")
    assert account_balance_pence(clearing) == 0


def test_a_phone_payment_is_not_part_of_the_till_count(session, cashier, parking, sandbox_provider):
    record = services.till_session_start_phone_payment(
        session=session, taken_by=cashier, provider="sandbox", lines=[LineInput(parking, 4_500)]
    )
    online.payment_begin(payment=record.payment, return_url="http://127.0.0.1/back", moto=True)
    sandbox.sandbox_payment_pay(
        sandbox_payment=SandboxPayment.objects.get(), card_number="4444333322221111"
    )
    online.payment_refresh(Payment.objects.get(pk=record.payment_id))

    assert services.expected_takings(session) == (0, 0)


def test_a_phone_payment_whose_cashier_never_came_back_is_settled_by_the_periodic_check(
    session, cashier, parking, sandbox_provider
):
    record = services.till_session_start_phone_payment(
        session=session, taken_by=cashier, provider="sandbox", lines=[LineInput(parking, 4_500)]
    )
    online.payment_begin(payment=record.payment, return_url="http://127.0.0.1/back", moto=True)
    sandbox.sandbox_payment_pay(
        sandbox_payment=SandboxPayment.objects.get(), card_number="4444333322221111"
    )

    report = online.settle_lost_payments(
        older_than=datetime.timedelta(minutes=30),
        now=timezone.now() + datetime.timedelta(hours=1),
    )

    assert report.settled == 1
    record.payment.refresh_from_db()
    assert record.payment.status == PaymentStatus.SUCCESS


def test_a_provider_that_cannot_take_moto_is_never_asked(council, session, cashier, parking):
    integration(council, plugin="telephone", key="ivr", title="IVR")
    record = services.till_session_start_phone_payment(
        session=session, taken_by=cashier, provider="ivr", lines=[LineInput(parking, 100)]
    )
    with pytest.raises(ProviderError, match="cannot take card payments over the phone"):
        online.payment_begin(payment=record.payment, return_url="http://x/", moto=True)
    record.payment.refresh_from_db()
    assert record.payment.status == PaymentStatus.CREATED


# GOV.UK Pay ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_govuk_pay_is_asked_for_a_moto_payment_its_api_accepts(
    govuk_pay_api,  # noqa: F811 - the fixture imported above
    govuk_pay_integration,  # noqa: F811
    session,
    cashier,
    parking,
):
    govuk_pay_integration(govuk_pay_api.url, moto_enabled=True)
    record = services.till_session_start_phone_payment(
        session=session,
        taken_by=cashier,
        provider="govuk-pay",
        lines=[LineInput(parking, 1_200, account_reference="PCN123")],
    )

    online.payment_begin(payment=record.payment, return_url="http://127.0.0.1/back", moto=True)

    govuk_pay_api.assert_all_accepted()
    sent = govuk_pay_api.only("POST", "/v1/payments")
    assert sent.json["moto"] is True
    assert sent.json["amount"] == 1_200


def test_govuk_pay_refuses_moto_until_the_council_switches_it_on(
    govuk_pay_integration,  # noqa: F811 - the fixture imported above
    session,
    cashier,
    parking,
):
    govuk_pay_integration("https://publicapi.payments.service.gov.uk")
    record = services.till_session_start_phone_payment(
        session=session, taken_by=cashier, provider="govuk-pay", lines=[LineInput(parking, 1_200)]
    )
    with pytest.raises(ProviderError, match="MOTO payments are not switched on"):
        online.payment_begin(payment=record.payment, return_url="http://127.0.0.1/back", moto=True)
