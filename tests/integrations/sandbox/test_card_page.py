"""The sandbox's hosted card page: test cards pay or are declined, anything else is refused.

The page is driven through Django's test client with the addresses the
system hands out (``payment_begin``'s next_url, the payment's return URL).
"""

import datetime
import json
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from backoffice.payments.models import PaymentStatus
from integrations.sandbox.models import CardPaymentState, SandboxPayment

SUCCEEDS = "4444 3333 2222 1111"
DECLINED = "4000 0000 0000 0002"
NEXT_YEAR = str(timezone.localdate().year + 1)


def card(number=SUCCEEDS, **overrides):
    return {
        "action": "pay",
        "card_number": number,
        "expiry_month": "04",
        "expiry_year": NEXT_YEAR,
        "name_on_card": "P PAYER",
        "security_code": "123",
        **overrides,
    }


def path_of(url):
    return urlsplit(url).path


def sandbox_payment_of(payment):
    return SandboxPayment.objects.get(pk=payment.provider_reference)


def return_url_of(payment):
    """The system's return address the sandbox was given for the payment."""
    return sandbox_payment_of(payment).return_url


def test_the_card_page_is_clearly_a_sandbox_and_says_who_and_what_is_paid(client, online_payment):
    payment, next_url = online_payment(1_250)

    response = client.get(path_of(next_url))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sandbox — no real money" in page
    assert "Barsetshire Parking" in page and "£12.50" in page and "Parking" in page
    assert page.count("<h1") == 1 and 'lang="en-GB"' in page
    for autocomplete in ("cc-number", "cc-exp-month", "cc-exp-year", "cc-csc", "cc-name"):
        assert f'autocomplete="{autocomplete}"' in page
    assert sandbox_payment_of(payment).state == CardPaymentState.STARTED


def test_the_succeeding_test_card_pays_and_sends_the_payer_back(client, online_payment):
    payment, next_url = online_payment()

    response = client.post(path_of(next_url), card(SUCCEEDS))

    assert response.status_code == 302
    assert response.url == return_url_of(payment)
    assert "/pay/return/" in response.url
    sandbox_payment = sandbox_payment_of(payment)
    assert sandbox_payment.state == CardPaymentState.SUCCESS
    assert (sandbox_payment.card_brand, sandbox_payment.card_last_four) == ("Visa", "1111")
    assert sandbox_payment.finished_at is not None


def test_the_declined_test_card_is_declined_and_the_payer_sent_back(client, online_payment):
    payment, next_url = online_payment()

    response = client.post(path_of(next_url), card(DECLINED))

    assert response.status_code == 302
    assert response.url == return_url_of(payment)
    assert sandbox_payment_of(payment).state == CardPaymentState.DECLINED


def test_cancel_payment_cancels_and_sends_the_payer_back(client, online_payment):
    payment, next_url = online_payment()

    response = client.post(path_of(next_url), {"action": "cancel"})

    assert response.status_code == 302
    assert response.url == return_url_of(payment)
    assert sandbox_payment_of(payment).state == CardPaymentState.CANCELLED


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"card_number": "4111 1111 1111 1111"}, "This is a test page: use test card 4444 3333"),
        ({"card_number": "4444-3333-2222-111x"}, "Card number must only include numbers 0 to 9"),
        ({"card_number": ""}, "Enter the card number"),
        ({"expiry_month": "13"}, "Enter the expiry month as a number from 1 to 12"),
        ({"expiry_year": "2O29"}, "Enter the expiry year as 2 or 4 numbers"),
        ({"expiry_month": "01", "expiry_year": "2020"}, "The card has expired"),
        ({"security_code": "12"}, "Enter the card security code: the last 3 numbers"),
        ({"security_code": "12a"}, "Enter the card security code: the last 3 numbers"),
        ({"name_on_card": ""}, "Enter the name as it is written on the card"),
    ],
)
def test_bad_card_details_are_refused_on_the_form_and_change_nothing(
    client, online_payment, overrides, message
):
    payment, next_url = online_payment()

    response = client.post(path_of(next_url), card(**overrides))

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert page.startswith("<!doctype html>") and "<title>Error: " in page
    assert sandbox_payment_of(payment).state == CardPaymentState.STARTED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS


def test_a_refused_card_number_is_not_sent_back_in_the_page(client, online_payment):
    _, next_url = online_payment()

    response = client.post(
        path_of(next_url), card("4111 1111 1111 1111", security_code="987", expiry_month="13")
    )

    page = response.content.decode()
    assert "4111" not in page and "987" not in page
    assert 'value="P PAYER"' in page  # what is not secret is kept, so it need not be typed again


def test_a_card_expiring_this_month_is_still_good(client, online_payment):
    payment, next_url = online_payment()
    today = timezone.localdate()

    client.post(
        path_of(next_url), card(expiry_month=f"{today.month:02d}", expiry_year=str(today.year))
    )

    assert sandbox_payment_of(payment).state == CardPaymentState.SUCCESS


def test_a_finished_payment_cannot_be_paid_again_its_page_sends_the_payer_back(
    client, online_payment
):
    payment, next_url = online_payment()
    client.post(path_of(next_url), {"action": "cancel"})

    shown = client.get(path_of(next_url))
    paid = client.post(path_of(next_url), card(SUCCEEDS))

    assert shown.status_code == paid.status_code == 302
    assert sandbox_payment_of(payment).state == CardPaymentState.CANCELLED


def test_a_card_page_left_open_too_long_expires(client, online_payment):
    payment, next_url = online_payment()
    SandboxPayment.objects.filter(pk=payment.provider_reference).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )

    response = client.post(path_of(next_url), card(SUCCEEDS))

    assert response.status_code == 302
    assert sandbox_payment_of(payment).state == CardPaymentState.EXPIRED


def test_an_unknown_card_page_is_not_found(client, sandbox):
    assert client.get("/plugins/sandbox/pay/sbx_not-a-payment/").status_code == 404


# No card number is kept ----------------------------------------------------------------------


def _rows_containing(text: str) -> list[str]:
    """Every table and column, of every table in the database, whose text holds ``text``."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted_table = connection.ops.quote_name(table)
            for column in connection.introspection.get_table_description(cursor, table):
                quoted = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quoted_table} "  # noqa: S608 - names from the schema
                    f"WHERE CAST({quoted} AS TEXT) LIKE %s",
                    [f"%{text}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


@pytest.mark.parametrize("number", [SUCCEEDS, DECLINED])
def test_no_card_number_or_security_code_is_stored_or_logged(
    client, online_payment, caplog, number
):
    caplog.set_level("DEBUG")
    payment, next_url = online_payment()

    client.get(path_of(next_url))
    client.post(path_of(next_url), card("4111 1111 1111 1111", security_code="9753"))
    client.post(path_of(next_url), card(number, security_code="9753"))
    client.get(path_of(return_url_of(payment)))

    payment.refresh_from_db()
    assert payment.status in (PaymentStatus.SUCCESS, PaymentStatus.FAILED)
    digits = number.replace(" ", "")
    for secret in (digits, number, "4111111111111111", "4111 1111 1111 1111", "9753"):
        assert _rows_containing(secret) == [], secret
        assert not [record for record in caplog.records if secret in record.getMessage()]
        # Sessions are stored encoded, so the search above cannot see into them.
        for session in Session.objects.all():
            assert secret not in json.dumps(session.get_decoded()), secret
