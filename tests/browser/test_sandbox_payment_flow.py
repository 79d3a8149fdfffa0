"""A payer pays online in a real browser: the sandbox's card page, then the council's return page.

Each payment is made as the public pages will make it: ``payment_create`` for
an online parking payment with the sandbox as its provider, then
``payment_begin``, whose address the browser opens. The database is read at
the end to see what the pages did.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from django.utils import timezone

from backoffice.ledger.models import EntryKind, JournalEntry
from backoffice.payments.models import Payment, PaymentStatus
from backoffice.payments.services import LineInput, Payer, payment_create
from integrations.sandbox.models import CardPaymentState, SandboxPayment
from plugins import online
from tests.factories import integration

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox(council, live_server, settings):
    # The card page and the return page are addressed from PUBLIC_BASE_URL: here, the live
    # server the browser talks to.
    settings.PUBLIC_BASE_URL = live_server.url
    return integration(
        council,
        plugin="sandbox",
        key="sandbox",
        title="Sandbox",
        settings={"display_name": "Barsetshire Parking Services"},
    )


@pytest.fixture
def begin(council, parking, sandbox):
    """``begin(pence)``: an online parking payment handed to the sandbox; its card page URL."""

    def make(pence):
        payment = payment_create(
            organisation=council,
            channel="online",
            method="card",
            lines=[LineInput(parking, pence, account_reference="PCN77")],
            payer=Payer(name="Pat Payer", email="pat@example.com"),
            provider=sandbox.key,
        )
        card_page = online.payment_begin(payment=payment, return_url=online.return_url(payment))
        payment.refresh_from_db()
        return payment, card_page

    return make


def enter_card(page, number, *, security_code="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").fill("04")
    page.get_by_label("Year").fill(str(timezone.localdate().year + 2))
    page.get_by_label("Name on card").fill("P PAYER")
    page.get_by_label("Card security code").fill(security_code)


def payment_entries(payment):
    return JournalEntry.objects.filter(kind=EntryKind.PAYMENT, source_id=payment.pk)


def test_a_payer_pays_with_the_test_card_and_gets_a_receipt_number(page, begin, axe):
    payment, card_page = begin(1_250)

    page.goto(card_page)
    expect(page.get_by_text("Sandbox — no real money")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter card details")
    assert axe(page, "html") == []
    enter_card(page, "4444 3333 2222 1111")
    page.get_by_role("button", name="Pay £12.50").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    expect(page.get_by_text(payment.receipt_number)).to_be_visible()
    assert payment_entries(payment).count() == 1
    assert axe(page, "html") == []


def test_a_declined_card_is_not_taken_and_nothing_is_posted(page, begin, axe):
    payment, card_page = begin(800)

    page.goto(card_page)
    enter_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay £8.00").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment was declined")
    expect(page.get_by_text("Your card was declined")).to_be_visible()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert payment.receipt_number is None
    assert not payment_entries(payment).exists()
    assert axe(page, "html") == []


def test_a_card_that_is_not_a_test_card_is_refused_on_the_form(page, begin, axe):
    payment, card_page = begin(800)

    page.goto(card_page)
    enter_card(page, "4111 1111 1111 1111", security_code="12")
    page.get_by_role("button", name="Pay £8.00").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("This is a test page: use test card 4444 3333 2222 1111")
    expect(summary).to_contain_text("Enter the card security code")
    expect(page.get_by_label("Card number")).to_have_value("")
    expect(page.get_by_label("Name on card")).to_have_value("P PAYER")
    assert axe(page, "html") == []
    # Each error in the summary leads to its field.
    summary.get_by_role("link", name=re.compile("This is a test page")).click()
    expect(page.get_by_label("Card number")).to_be_focused()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.IN_PROGRESS
    assert SandboxPayment.objects.get(pk=payment.provider_reference).state == (
        CardPaymentState.STARTED
    )


def test_a_payer_who_cancels_is_told_nothing_was_taken(page, begin):
    payment, card_page = begin(800)

    page.goto(card_page)
    page.get_by_role("button", name="Cancel payment").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_text("You cancelled the payment. No money has been taken.")).to_be_visible()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
