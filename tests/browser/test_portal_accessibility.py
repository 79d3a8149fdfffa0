"""Every state of the public payment pages passes axe-core at WCAG 2.2 AA and fits a
320-pixel-wide screen without scrolling sideways.

Each state is visited as the payer meets it (the home, a service's start page, the
question with and without errors, the basket, removing an item, their details
with errors, "Check your answers", and the outcome for every provider status);
its screenshot is saved at desktop and mobile width (var/screenshots/).
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from django.utils import timezone

from backoffice.payments.models import Payment, PaymentStatus
from backoffice.payments.services import payment_close
from plugins import online
from tests.portal.site import public_site

pytestmark = pytest.mark.slow

NARROWEST = {"width": 320, "height": 640}


@pytest.fixture
def site(council, ctax, parking, outside_scope, live_server, settings, frontend_built):
    settings.PUBLIC_BASE_URL = live_server.url
    council.email = "income@barsetshire.example"
    council.telephone = "01632 960000"
    council.save()
    return public_site(council, ctax=ctax, parking=parking, outside_scope=outside_scope)


def overflow(page) -> int:
    """How many pixels the page is wider than the window: anything above 0 scrolls sideways."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


@pytest.fixture
def check(page, axe, screenshot):
    """``check(label)``: axe finds nothing, at desktop width and at 320 pixels, and nothing
    scrolls sideways at 320 pixels; then the screenshots."""
    checked = []

    def run(label):
        page.wait_for_load_state("load")
        assert axe(page, "html") == [], label
        desktop = page.viewport_size
        page.set_viewport_size(NARROWEST)
        try:
            assert overflow(page) <= 0, f"{label}: {overflow(page)}px wider than 320px"
            assert axe(page, "html") == [], f"{label} at 320px"
        finally:
            page.set_viewport_size(desktop)
        screenshot(page, label)
        checked.append(label)

    run.checked = checked
    return run


def enter_card(page, number):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").fill("04")
    page.get_by_label("Year").fill(str(timezone.localdate().year + 2))
    page.get_by_label("Name on card").fill("P PAYER")
    page.get_by_label("Card security code").fill("123")


def to_check_answers(page, valid_reference, ctax, check=None):
    """Through every page before paying, to "Check your answers"; ``check`` each on the way."""
    look = check or (lambda label: None)
    page.goto("/")
    look("home")
    page.get_by_role("link", name="Pay your council tax").click()
    look("service-start")
    page.get_by_role("button", name="Start now").click()
    look("question")
    page.get_by_label("Council tax account number").fill("1234567")
    page.get_by_label("Amount to pay, in pounds").fill("0.5")
    page.get_by_role("button", name="Add to basket").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    look("question-errors")
    page.get_by_label("Council tax account number").fill(valid_reference(ctax))
    page.get_by_label("Amount to pay, in pounds").fill("120")
    page.get_by_role("button", name="Add to basket").click()
    page.get_by_role("button", name="Add another payment").click()
    page.get_by_role("link", name="Order a replacement wheelie bin").click()
    page.get_by_role("button", name="Start now").click()
    look("question-fixed-price")
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your basket")
    look("basket")
    if check:
        page.get_by_role("link", name=re.compile("^Remove payment 2")).click()
        check("remove")
        page.get_by_role("link", name="No, keep it").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    look("your-details-errors")
    page.get_by_label("Full name").fill("Pat Payer")
    page.get_by_label("Email address").fill("pat.payer.with.a.long.address@example.com")
    page.get_by_label("Address line 1").fill("Flat 12, Cathedral Close Chambers")
    page.get_by_label("Town or city").fill("Barchester")
    page.get_by_label("Postcode").fill("BA1 1AA")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before paying")
    look("check-your-answers")


def test_every_state_before_paying_passes_axe_and_fits_320_pixels(
    page, site, check, valid_reference, ctax
):
    to_check_answers(page, valid_reference, ctax, check)

    assert len(check.checked) == 9


def test_every_outcome_passes_axe_and_fits_320_pixels(page, site, check, valid_reference, ctax):
    def paid_with(card=None, *, cancel=False):
        page.context.clear_cookies()  # a new payer, with an empty basket
        to_check_answers(page, valid_reference, ctax)
        page.get_by_role("button", name=re.compile(r"^Pay £")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter card details")
        if cancel:
            page.get_by_role("button", name="Cancel payment").click()
        elif card:
            enter_card(page, card)
            page.get_by_role("button", name=re.compile(r"^Pay £")).click()
        return Payment.objects.order_by("-pk").first()

    paid_with("4444333322221111")
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment complete")
    check("outcome-success")

    paid_with("4000000000000002")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment was declined")
    check("outcome-declined")

    paid_with(cancel=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment was cancelled")
    check("outcome-cancelled")

    # Left at the card page: still in progress, then closed by the provider or the check.
    waiting = paid_with()
    page.goto(f"/pay/return/{online.return_token(waiting)}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("We are checking your payment")
    check("outcome-pending")
    page.goto("/")
    expect(page.get_by_text("You have started a payment of £150.00")).to_be_visible()
    check("home-payment-in-progress")

    payment_close(payment=waiting, status=PaymentStatus.ERROR, actor="sandbox")
    page.goto(f"/pay/return/{online.return_token(waiting)}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sorry, there is a problem with the payment service"
    )
    check("outcome-error")

    expired = paid_with()
    payment_close(payment=expired, status=PaymentStatus.EXPIRED, actor="periodic-check")
    page.goto(f"/pay/return/{online.return_token(expired)}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your payment timed out")
    check("outcome-expired")
