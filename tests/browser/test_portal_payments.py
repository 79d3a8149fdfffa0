"""A member of the public pays on the council's payment pages, in a real browser.

From the payments home through the basket, their details and "Check your
answers" to the sandbox provider's card page and back to the outcome: a
replacement bin paid with the sandbox's succeeding card through to the PDF
receipt and the payment found by staff; a declined card; a cancelled payment; a
basket of two funds; and the whole journey by keyboard alone.
"""

import io
import re
from pathlib import Path

import pypdf
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from django.core import mail
from django.utils import timezone

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.ledger.models import EntryKind, JournalEntry
from backoffice.payments.models import Payment, PaymentStatus
from backoffice.receipts.models import IssueMethod, ReceiptIssue
from tests.factories import staff
from tests.portal.site import public_site

pytestmark = pytest.mark.slow

SUCCEEDING_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def site(council, ctax, parking, outside_scope, live_server, settings, frontend_built):
    # The sandbox's card page is addressed from PUBLIC_BASE_URL: here, the live server.
    settings.PUBLIC_BASE_URL = live_server.url
    council.vat_registration_number = "GB 123 4567 82"
    council.receipt_prefix = "BAR"
    council.save()
    return public_site(council, ctax=ctax, parking=parking, outside_scope=outside_scope)


def enter_card(page, number):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").fill("04")
    page.get_by_label("Year").fill(str(timezone.localdate().year + 2))
    page.get_by_label("Name on card").fill("P PAYER")
    page.get_by_label("Card security code").fill("123")


def add_bin(page):
    page.goto("/")
    page.get_by_role("link", name="Order a replacement wheelie bin").click()
    page.get_by_role("button", name="Start now").click()
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your basket")


def give_details(page, *, address=True):
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Full name").fill("Pat Payer")
    page.get_by_label("Email address").fill("pat@example.com")
    if address:
        page.get_by_label("Address line 1").fill("1 High Street")
        page.get_by_label("Town or city").fill("Barchester")
        page.get_by_label("Postcode").fill("ba1 1aa")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before paying")


def test_a_replacement_bin_paid_with_the_test_card_through_to_the_pdf_receipt_and_admin_search(
    page, site, council, screenshot, sign_in
):
    add_bin(page)
    give_details(page)
    expect(page.get_by_text("BA1 1AA")).to_be_visible()
    page.get_by_role("button", name="Pay £30.00").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter card details")
    enter_card(page, SUCCEEDING_CARD)
    page.get_by_role("button", name="Pay £30.00").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCESS
    expect(page.locator(".govuk-panel__body")).to_contain_text(payment.receipt_number)
    expect(page.get_by_text("We have sent your receipt to pat@example.com")).to_be_visible()
    assert len(mail.outbox) == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT, source_id=payment.pk).count() == 1
    screenshot(page, "receipt")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your receipt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{payment.receipt_number}.pdf"
    words = "".join(
        sheet.extract_text()
        for sheet in pypdf.PdfReader(io.BytesIO(Path(download.path()).read_bytes())).pages
    )
    assert payment.receipt_number in words and "Replacement wheelie bin" in words
    assert ReceiptIssue.objects.filter(payment=payment, how=IssueMethod.DOWNLOAD).count() == 1

    # Staff find the payment by its receipt number.
    staff(council, roles=(INCOME_OFFICER,), username="income.officer", password=PASSWORD)
    sign_in(page, "income.officer", PASSWORD)
    page.goto("/admin/transactions/search/")
    page.get_by_label("Receipt number").fill(payment.receipt_number)
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=payment.receipt_number, exact=True).click()
    expect(page.get_by_text("Pat Payer").first).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/admin/transactions/payments/inspect/{payment.pk}/$"))
    expect(page.get_by_text("BINS").first).to_be_visible()


def test_a_declined_card_takes_nothing_and_the_same_basket_can_be_paid_again(page, site):
    add_bin(page)
    give_details(page)
    page.get_by_role("button", name="Pay £30.00").click()
    enter_card(page, DECLINED_CARD)
    page.get_by_role("button", name="Pay £30.00").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment was declined")
    expect(page.get_by_text("Your card was declined. No money was taken.")).to_be_visible()
    declined = Payment.objects.get()
    assert declined.status == PaymentStatus.FAILED and declined.receipt_number is None

    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before paying")
    page.get_by_role("button", name="Pay £30.00").click()
    enter_card(page, SUCCEEDING_CARD)
    page.get_by_role("button", name="Pay £30.00").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    assert Payment.objects.get(pk=declined.pk).status == PaymentStatus.FAILED
    assert Payment.objects.exclude(pk=declined.pk).get().status == PaymentStatus.SUCCESS


def test_a_cancelled_payment_takes_nothing(page, site):
    add_bin(page)
    give_details(page)
    page.get_by_role("button", name="Pay £30.00").click()
    page.get_by_role("button", name="Cancel payment").click()

    page.wait_for_url(re.compile(r"/pay/return/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment was cancelled")
    expect(page.get_by_text("You cancelled the payment. No money has been taken.")).to_be_visible()
    assert Payment.objects.get().status == PaymentStatus.CANCELLED


def test_a_basket_of_two_funds_is_one_payment_of_two_lines(page, site, valid_reference, ctax):
    reference = valid_reference(ctax)
    add_bin(page)
    page.get_by_role("button", name="Add another payment").click()
    page.get_by_role("link", name="Pay your council tax").click()
    expect(page.get_by_text("Your account number is the 8-digit number")).to_be_visible()
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Council tax account number").fill(reference)
    page.get_by_label("Amount to pay, in pounds").fill("£45.5")
    page.get_by_role("button", name="Add to basket").click()

    expect(page.get_by_text("Total to pay: £75.50")).to_be_visible()
    give_details(page)
    expect(page.get_by_text(reference)).to_be_visible()
    page.get_by_role("button", name="Pay £75.50").click()
    enter_card(page, SUCCEEDING_CARD)
    page.get_by_role("button", name="Pay £75.50").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    payment = Payment.objects.get()
    assert [
        (line.fund_code.code, line.account_reference, line.gross_pence)
        for line in payment.lines.order_by("pk")
    ] == [("BINS", "", 3_000), ("CTAX", reference, 4_550)]
    expect(page.get_by_role("cell", name=re.compile("Council Tax"))).to_be_visible()


# By keyboard alone --------------------------------------------------------------------------


def tab_to(page, locator, *, presses=60):
    """Press Tab until ``locator`` has the focus, as a keyboard user moves through a page."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} was never reached with the Tab key")


def focused_outline(page) -> str:
    """The focused element's outline or box shadow: GOV.UK's focus state must show."""
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.outlineStyle !== 'none' ? style.outlineStyle : style.boxShadow;
        }"""
    )


def test_the_whole_journey_by_keyboard_alone(page, site, valid_reference, ctax):
    reference = valid_reference(ctax)
    page.goto("/")

    # The first stop is the skip link, which leads to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert focused_outline(page) not in ("", "none")

    tab_to(page, page.get_by_role("link", name="Pay your council tax"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Start now"))
    page.keyboard.press("Enter")

    # A mistake first: the error summary takes the focus, and its link leads to the field.
    tab_to(page, page.get_by_label("Council tax account number"))
    page.keyboard.type("12345670")
    page.keyboard.press("Tab")
    page.keyboard.type("20")
    tab_to(page, page.get_by_role("button", name="Add to basket"))
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    tab_to(page, summary.get_by_role("link", name=re.compile("does not add up")))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Council tax account number")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(reference)
    tab_to(page, page.get_by_role("button", name="Add to basket"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your basket")
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Full name"))
    page.keyboard.type("Kay Board")
    page.keyboard.press("Tab")
    page.keyboard.type("kay@example.com")
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before paying")
    tab_to(page, page.get_by_role("button", name="Pay £20.00"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter card details")
    tab_to(page, page.get_by_label("Card number"))
    page.keyboard.type(SUCCEEDING_CARD)
    for label, value in (
        ("Month", "04"),
        ("Year", str(timezone.localdate().year + 2)),
        ("Name on card", "K BOARD"),
        ("Card security code", "123"),
    ):
        tab_to(page, page.get_by_label(label))
        page.keyboard.type(value)
    tab_to(page, page.get_by_role("button", name="Pay £20.00"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    tab_to(page, page.get_by_role("link", name="Download your receipt (PDF)"))
    assert Payment.objects.get().status == PaymentStatus.SUCCESS
