"""A cashier's day at the counter in a real browser: open a till, take three payments (cash with
change, a cheque, a card on the terminal), close the till a little short, and a supervisor at
another desk signs it off. The counter screens are checked with axe on the way.

The starting point (a council, its fund, an office with a till, two members of staff) is made
with factories; the database is read at the end to see what the pages did.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.counter.models import Office, OfficeKind, SessionStatus, Till, TillSession
from backoffice.ledger.selectors import fund_income_pence
from tests.browser.conftest import TIMEOUT_MS
from tests.counter.conftest import CASHIER_PERMISSIONS, SUPERVISOR_PERMISSIONS, person
from tests.factories import FundCodeFactory

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def counter(council, parking):
    over_and_short = FundCodeFactory(organisation=council, code="OVSH", name="Cash over and short")
    office = Office.objects.create(
        organisation=council,
        code="town-hall",
        name="Town Hall",
        kind=OfficeKind.CASH_OFFICE,
        variance_fund_code=over_and_short,
    )
    till = Till.objects.create(organisation=council, office=office, code="th-1", name="Till 1")
    return till, over_and_short


@pytest.fixture
def cashier(council):
    return person(council, "cashier", CASHIER_PERMISSIONS, password=PASSWORD, first_name="Carol")


@pytest.fixture
def supervisor(council):
    return person(council, "supervisor", SUPERVISOR_PERMISSIONS, password=PASSWORD)


@pytest.fixture
def second_page(browser, live_server):
    """A second browser, with its own cookies: the supervisor at another desk."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def no_violations(page, axe):
    """axe's violations in the page's own content, once Wagtail's messages have faded in."""
    page.wait_for_load_state()
    messages = page.get_by_role("status").locator("ul")
    if messages.locator("li").count():
        expect(messages).to_have_css("opacity", "1")
    return axe(page, "main")


def field(page, label):
    """The field labelled ``label`` (a required field's label ends with Wagtail's *)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def take(page, amount, *, kind, reference, **fields):
    """Type a payment as a cashier would and press Enter to take it."""
    field(page, "Amount").fill(amount)
    field(page, "Fund").select_option(label="PARK: Parking")
    field(page, "Reference").fill(reference)
    field(page, kind).check()
    last = None
    for label, value in fields.items():
        last = field(page, label)
        last.fill(value)
    (last or field(page, "Reference")).press("Enter")


def test_a_cashier_takes_three_payments_closes_short_and_a_supervisor_signs_off(
    page, second_page, sign_in, axe, counter, cashier, supervisor, parking
):
    till, over_and_short = counter
    sign_in(page, "cashier", PASSWORD)

    page.get_by_role("button", name="Counter").click()
    page.get_by_role("link", name="Till sessions").click()
    page.get_by_role("link", name="Open a till session").click()
    assert no_violations(page, axe) == []
    field(page, "Till").select_option(label="Till 1 (Town Hall)")
    page.get_by_role("button", name="Open session").click()

    expect(page.get_by_role("heading", name="Take a payment")).to_be_visible()
    amount = field(page, "Amount")
    expect(amount).to_be_focused()
    assert no_violations(page, axe) == []

    # What is typed is kept as it is typed: a reload (or a browser closed) loses nothing.
    amount.fill("12.50")
    expect(page.get_by_text("Draft kept.")).to_be_visible()
    page.reload()
    expect(field(page, "Amount")).to_have_value("12.50")

    take(page, "12.50", kind="Cash", reference="PCN0001", **{"Cash handed over": "20.00"})
    expect(
        page.get_by_text(re.compile(r"taken: £12\.50, cash\. Change to give: £7\.50\."))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Print the receipt")).to_be_visible()

    take(
        page,
        "50.00",
        kind="Cheque",
        reference="PCN0002",
        **{
            "Cheque number": "100001",
            "Sort code": "12-34-56",
            "Drawer (who wrote the cheque)": "A. Payer",
        },
    )
    expect(page.get_by_text(re.compile(r"taken: £50\.00, cheque\."))).to_be_visible()

    take(
        page,
        "30.00",
        kind="Card on the terminal (chip and PIN)",
        reference="PCN0003",
        **{"Card terminal reference": "AUTH 774411"},
    )
    expect(page.get_by_text(re.compile(r"taken: £30\.00, card on the terminal"))).to_be_visible()
    payments = page.get_by_role("table", name="Payments taken in this session").locator("tbody tr")
    expect(payments).to_have_count(3)
    assert no_violations(page, axe) == []

    # Counted: a £10 note and a £2 coin, 50p short of the £12.50 cash; the cheque is there.
    page.get_by_role("link", name="Close session").click()
    assert no_violations(page, axe) == []
    field(page, "£10 notes").fill("1")
    field(page, "£2 coins").fill("1")
    page.get_by_role("button", name="Close session").click()
    expect(page.get_by_text("£0.50 short of the £62.50 taken: say why")).to_be_visible()
    assert no_violations(page, axe) == []
    field(page, "Reason for any difference").fill("Gave £8.00 change instead of £7.50")
    page.get_by_role("button", name="Close session").click()
    expect(page.get_by_text("Session closed with a variance of -£0.50")).to_be_visible()

    session = TillSession.objects.get(till=till)
    sign_in(second_page, "supervisor", PASSWORD)
    second_page.get_by_role("button", name="Counter").click()
    second_page.get_by_role("link", name="Till sessions").click()
    second_page.get_by_role("link", name=str(session)).click()
    assert no_violations(second_page, axe) == []
    second_page.get_by_role("link", name="Sign off").click()
    expect(second_page.get_by_text("Gave £8.00 change instead of £7.50")).to_be_visible()
    assert no_violations(second_page, axe) == []
    field(second_page, "Note").fill("Counted again with Carol")
    second_page.get_by_role("button", name="Sign off for banking").click()
    expect(second_page.get_by_text("signed off: ready for banking")).to_be_visible()

    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED_OFF
    assert (session.expected_pence, session.counted_pence, session.variance_pence) == (
        6_250,
        6_200,
        -50,
    )
    assert session.signed_off_by == supervisor
    assert session.payments.count() == 3
    assert fund_income_pence(over_and_short) == -50
