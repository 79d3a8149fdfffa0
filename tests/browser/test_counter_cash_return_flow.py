"""A department's cash return in a real browser: a clerk fills it in and submits it, finance
authorises it, and finance then puts it on a paying-in slip and marks it banked. The screens
are checked with axe on the way; the database is read at the end."""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.banking.models import PayingInSlip, SlipStatus
from backoffice.counter.models import CashReturn, ReturnStatus
from backoffice.funds.models import Channel
from backoffice.ledger.selectors import fund_income_pence
from tests.browser.conftest import TIMEOUT_MS
from tests.counter.conftest import DEPARTMENT_PERMISSIONS, SUPERVISOR_PERMISSIONS, person
from tests.factories import DepartmentFactory, FundCodeFactory

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def fines(council, outside_scope):
    department = DepartmentFactory(organisation=council, code="LIB", name="Libraries")
    return FundCodeFactory(
        organisation=council,
        code="LIBF",
        name="Library fines",
        department=department,
        default_vat_rate=outside_scope,
        allowed_channels=[Channel.CASH_RETURN],
    )


@pytest.fixture
def clerk(council):
    return person(council, "library.clerk", DEPARTMENT_PERMISSIONS, password=PASSWORD)


@pytest.fixture
def finance(council):
    return person(council, "finance.officer", SUPERVISOR_PERMISSIONS, password=PASSWORD)


@pytest.fixture
def second_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def field(page, label):
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def no_violations(page, axe):
    page.wait_for_load_state()
    messages = page.get_by_role("status").locator("ul")
    if messages.locator("li").count():
        expect(messages).to_have_css("opacity", "1")
    return axe(page, "main")


def test_a_clerk_submits_a_return_and_finance_authorises_and_banks_it(
    page, second_page, sign_in, axe, fines, clerk, finance
):
    sign_in(page, "library.clerk", PASSWORD)
    page.get_by_role("button", name="Counter").click()
    page.get_by_role("link", name="Cash returns").click()
    page.get_by_role("link", name="Start a cash return").click()
    assert no_violations(page, axe) == []
    field(page, "Department").select_option(label="Libraries")
    field(page, "Period").fill("Week ending 7 March")
    page.get_by_role("button", name="Start the return").click()

    expect(page.get_by_role("button", name="Save and submit to finance")).to_be_visible()
    assert no_violations(page, axe) == []
    field(page, "Fund, line 1").select_option(label="LIBF: Library fines")
    field(page, "Reference, line 1").fill("BORROWER 42")
    field(page, "Amount, line 1").fill("35.00")
    field(page, "£20 notes").fill("1")
    field(page, "£5 notes").fill("1")
    field(page, "Cheque number, cheque 1").fill("200001")
    field(page, "Sort code, cheque 1").fill("40-11-22")
    field(page, "Drawer, cheque 1").fill("B. Borrower")
    field(page, "Amount, cheque 1").fill("10.00")
    page.get_by_role("button", name="Save and submit to finance").click()
    expect(page.get_by_text(re.compile(r"submitted to finance: £35\.00"))).to_be_visible()
    assert no_violations(page, axe) == []

    cash_return = CashReturn.objects.get()
    sign_in(second_page, "finance.officer", PASSWORD)
    second_page.goto(f"/admin/counter/returns/inspect/{cash_return.pk}/")
    second_page.get_by_role("link", name="Authorise").click()
    assert no_violations(second_page, axe) == []
    field(second_page, "Note").fill("Bag counted with the clerk")
    second_page.get_by_role("button", name="Authorise and post").click()
    expect(second_page.get_by_text(re.compile(r"authorised and posted as"))).to_be_visible()

    second_page.get_by_role("button", name="Banking").click()
    second_page.get_by_role("link", name="Paying-in slips").click()
    second_page.get_by_role("link", name="Prepare a paying-in slip").click()
    assert no_violations(second_page, axe) == []
    second_page.get_by_role("button", name="Prepare the slip").click()
    expect(
        second_page.get_by_text(re.compile(r"PI-000001 prepared: £35\.00 to bank"))
    ).to_be_visible()
    assert no_violations(second_page, axe) == []
    second_page.get_by_role("link", name="Mark banked").click()
    second_page.get_by_role("button", name="Mark banked").click()
    expect(second_page.get_by_text(re.compile(r"banked: £35\.00 moved"))).to_be_visible()

    cash_return.refresh_from_db()
    assert cash_return.status == ReturnStatus.BANKED
    assert cash_return.authorised_by == finance
    assert fund_income_pence(fines) == 3_500
    assert PayingInSlip.objects.get().status == SlipStatus.BANKED
