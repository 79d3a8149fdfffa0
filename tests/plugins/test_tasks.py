"""The periodic lost-payment check as a background task and as `manage.py settle_payments`."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks import TaskResultStatus

from backoffice.payments.models import Payment, PaymentStatus
from backoffice.payments.services import LineInput, payment_create
from integrations.sandbox import services as sandbox_services
from integrations.sandbox.models import SandboxPayment
from plugins import online
from plugins.tasks import settle_lost_payments_task
from tests.factories import integration


@pytest.fixture
def sandbox(council):
    return integration(council, plugin="sandbox", key="sandbox", title="Sandbox")


@pytest.fixture
def paid_but_never_returned(council, parking, sandbox):
    """An online payment paid at the sandbox 45 minutes ago whose payer never came back."""
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 1_500, account_reference="PCN42")],
        provider=sandbox.key,
    )
    online.payment_begin(payment=payment, return_url=online.return_url(payment))
    payment.refresh_from_db()
    sandbox_services.sandbox_payment_pay(
        sandbox_payment=SandboxPayment.objects.get(pk=payment.provider_reference),
        card_number=sandbox_services.SUCCEEDING_CARD.number,
    )
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=45)
    )
    return payment


def status_of(payment):
    return Payment.objects.get(pk=payment.pk).status


def test_the_task_settles_lost_payments_and_returns_a_json_summary(
    paid_but_never_returned, settings
):
    settings.SETTLE_PAYMENTS_AFTER_MINUTES = 30

    result = settle_lost_payments_task.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL  # the immediate backend ran it
    summary = result.return_value
    assert json.loads(json.dumps(summary)) == summary
    assert summary == {"checked": 1, "settled": 1, "still_open": 0, "unreachable": 0, "expired": 0}
    assert status_of(paid_but_never_returned) == PaymentStatus.SUCCESS


def test_the_task_leaves_payments_younger_than_the_setting(paid_but_never_returned, settings):
    settings.SETTLE_PAYMENTS_AFTER_MINUTES = 60

    summary = settle_lost_payments_task.call()

    assert summary["checked"] == 0
    assert status_of(paid_but_never_returned) == PaymentStatus.IN_PROGRESS


def test_the_command_settles_and_prints_the_report(paid_but_never_returned, capsys):
    call_command("settle_payments", "--older-than", "40")

    output = capsys.readouterr().out
    assert "more than 40 minutes: 1 checked, 1 settled, 0 expired" in output
    assert status_of(paid_but_never_returned) == PaymentStatus.SUCCESS


def test_the_command_uses_the_setting_by_default(paid_but_never_returned, settings, capsys):
    settings.SETTLE_PAYMENTS_AFTER_MINUTES = 50

    call_command("settle_payments")

    assert "more than 50 minutes: 0 checked" in capsys.readouterr().out
    assert status_of(paid_but_never_returned) == PaymentStatus.IN_PROGRESS


def test_the_command_says_which_payments_could_not_be_checked(paid_but_never_returned, capsys):
    SandboxPayment.objects.filter(pk=paid_but_never_returned.provider_reference).delete()

    call_command("settle_payments", "--older-than", "30")

    captured = capsys.readouterr()
    assert "1 could not be checked" in captured.out
    assert "1 payments could not be checked; they are tried again next time" in captured.err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "argument --older-than: a whole number of minutes, not 'soon'"),
        ("-5", "argument --older-than: 0 minutes or more, not -5"),
    ],
)
def test_the_command_refuses_a_bad_age(db, value, message):
    with pytest.raises(CommandError, match=message):
        call_command("settle_payments", "--older-than", value)
