""" "Pay" pressed in several tabs at the same moment: one payment, sent to the provider once.

Real threads, each a browser tab with the payer's session cookie and its own
database connection, released together. SQLite serialises every write, so only
PostgreSQL can show the race.
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from backoffice.payments.models import Payment
from backoffice.portal.models import Checkout
from integrations.sandbox.models import SandboxPayment
from tests.markers import postgresql_only

pytestmark = [
    postgresql_only("row locks and concurrent writers (SQLite serialises every writer)"),
    pytest.mark.django_db(transaction=True),
]

TABS = 6


def at_once(work, count=TABS):
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_pay_pressed_in_several_tabs_at_once_is_one_payment(
    bin_page, ctax_page, journey, valid_reference
):
    journey.add(bin_page)
    journey.add(ctax_page, reference=valid_reference(ctax_page.fund), amount="12.50")
    journey.give_details()
    token = journey.basket_token()

    def press_pay(_):
        tab = Client(HTTP_HOST="localhost")
        tab.cookies = journey.client.cookies
        response = tab.post("/check-your-answers/", {"basket_token": token})
        return response.status_code, response["Location"]

    outcomes = at_once(press_pay)

    assert len(set(outcomes)) == 1, outcomes
    status, location = outcomes[0]
    assert status == 302 and "/plugins/sandbox/pay/" in location
    assert Payment.objects.count() == 1
    assert Checkout.objects.count() == 1
    assert SandboxPayment.objects.count() == 1
