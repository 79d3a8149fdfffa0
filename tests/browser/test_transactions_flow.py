"""Income officers and approvers work on payments in a real browser: find, refund, move, approve.

The people sign in through the login form and use the Transactions menu, the payment's page and
its forms as they would. The starting point (a council, its funds, its staff and payments taken
at the counter) is made with factories and the payment service, and the database is read at the
end to see what the pages did.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.accounts.roles import APPROVER, INCOME_OFFICER
from backoffice.funds.references import with_check_character
from backoffice.ledger.models import Journal, JournalStatus
from backoffice.ledger.services import fund_account, journal_request
from backoffice.payments.models import PaymentStatus, Refund, RefundStatus
from backoffice.payments.services import LineInput, Payer, payment_take
from tests.browser.conftest import TIMEOUT_MS
from tests.factories import FundCodeFactory, staff

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"
OFFICER = "income.officer"
APPROVER_USERNAME = "journal.approver"
# Cash at the counter: the refund is paid back by hand, so no payment provider is involved.
AT_THE_COUNTER = {"channel": "face_to_face", "method": "cash"}
# £10.00, well under the £60.00 the journals below move, so that each needs a second person.
JOURNAL_LIMIT_PENCE = 1_000


@pytest.fixture
def nndr(council, outside_scope):
    return FundCodeFactory(
        organisation=council,
        code="NNDR",
        name="Business Rates",
        default_vat_rate=outside_scope,
        allowed_channels=["face_to_face"],
    )


def account_reference(fund, body):
    return with_check_character(body, fund.reference_rule.spec.check_digit)


@pytest.fixture
def payment(council, ctax):
    """£125.00 of council tax, paid in cash at the counter."""
    return payment_take(
        organisation=council,
        lines=[LineInput(ctax, 12_500, account_reference=account_reference(ctax, "5000001"))],
        payer=Payer(name="Ann Example", postcode="BA1 1AA"),
        **AT_THE_COUNTER,
    )


@pytest.fixture
def another_payment(council, ctax):
    """Someone else's council tax, so that a search has something to leave out."""
    return payment_take(
        organisation=council,
        lines=[LineInput(ctax, 9_900, account_reference=account_reference(ctax, "7000002"))],
        payer=Payer(name="Bo Other", postcode="BA2 2BB"),
        **AT_THE_COUNTER,
    )


def person(council, username, *roles):
    return staff(council, roles=roles, username=username, password=PASSWORD)


@pytest.fixture
def officer(council):
    return person(council, OFFICER, INCOME_OFFICER)


@pytest.fixture
def approver(council):
    return person(council, APPROVER_USERNAME, APPROVER)


@pytest.fixture
def second_page(browser, live_server):
    """A second browser, with its own cookies: someone else at another desk."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def open_transactions_menu_item(page, label):
    page.get_by_role("button", name="Transactions").click()
    page.get_by_role("link", name=label, exact=True).click()


def summary_value(page, label):
    """The value shown beside ``label`` in the payment's or journal's summary."""
    return (
        page.locator("main dt")
        .filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        .locator("xpath=following-sibling::dd[1]")
    )


def main_violations(page, axe):
    """axe's violations in the page's own content, once the page has loaded and settled."""
    page.wait_for_load_state()
    messages = page.get_by_role("status").locator("ul")
    if messages.locator("li").count():
        # Wagtail fades its messages in, and axe measuring contrast mid-fade reports colours
        # that are gone half a second later.
        expect(messages).to_have_css("opacity", "1")
    # Only our page's content is checked: the admin's own chrome (menu, header) is Wagtail's.
    return axe(page, "main")


def payment_url(payment):
    return f"/admin/transactions/payments/inspect/{payment.pk}/"


def test_income_officer_finds_a_payment_by_its_reference_and_refunds_part_of_it(
    page, sign_in, officer, payment, another_payment
):
    reference = payment.lines.get().account_reference
    sign_in(page, OFFICER, PASSWORD)

    open_transactions_menu_item(page, "Payments")
    expect(page).to_have_url(re.compile(r"/admin/transactions/payments/$"))
    others_link = page.get_by_role("link", name=another_payment.receipt_number, exact=True)
    expect(others_link).to_be_visible()
    # Part of the reference is enough: a caller often reads out only some of it.
    page.get_by_label("Search term").fill(reference[:5])
    expect(others_link).to_have_count(0)
    page.get_by_role("link", name=payment.receipt_number, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(payment_url(payment)) + "$"))

    lines = page.get_by_role("table", name="Lines").locator("tbody tr")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("CTAX")
    expect(lines).to_contain_text(reference)
    expect(lines).to_contain_text("£125.00")
    postings = page.get_by_role("table", name=f"Payment {payment.pk}").locator("tbody tr")
    expect(postings).to_have_count(2)
    expect(postings.filter(has_text="Cash in transit")).to_contain_text("£125.00")
    expect(postings.filter(has_text="FUND-CTAX")).to_contain_text("£125.00")

    page.get_by_role("link", name="Refund", exact=True).click()
    page.get_by_label("Amount to refund").fill("40.00")
    page.get_by_label("Reason").fill("Paid twice for April")
    page.get_by_role("button", name="Refund", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text(f"£40.00 of {payment} refunded.")
    expect(page).to_have_url(re.compile(re.escape(payment_url(payment)) + "$"))
    expect(summary_value(page, "Status")).to_have_text("Partially refunded")
    expect(summary_value(page, "Left to refund")).to_have_text("£85.00")
    refunds = page.get_by_role("table", name="Refunds").locator("tbody tr")
    expect(refunds).to_have_count(1)
    expect(refunds).to_contain_text("£40.00")
    expect(refunds).to_contain_text("Paid twice for April")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    refunds = [
        (refund.payment, refund.status, refund.amount_pence, refund.requested_by)
        for refund in Refund.objects.all()
    ]
    assert refunds == [(payment, RefundStatus.SUCCEEDED, 4_000, officer)]
    assert Refund.objects.get().entry is not None


def move_line_to(page, fund, amount, reason):
    page.get_by_role("table", name="Lines").get_by_role("link", name="Move to another fund").click()
    page.get_by_label("Move to fund").select_option(label=str(fund))
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Move the money").click()


def test_a_journal_above_the_councils_limit_waits_for_and_is_posted_by_a_different_person(
    page, second_page, sign_in, council, officer, approver, payment, ctax, nndr
):
    council.journal_approval_threshold_pence = JOURNAL_LIMIT_PENCE
    council.save()
    sign_in(page, OFFICER, PASSWORD)
    page.goto(payment_url(payment))

    move_line_to(page, nndr, "60.00", "Business rates paid against the council tax account")

    expect(page.get_by_role("status")).to_contain_text(
        "is waiting for approval: £60.00 from CTAX to NNDR moves once someone else approves it."
    )
    journal = Journal.objects.get(payment_line__payment=payment)
    assert (journal.status, journal.entry) == (JournalStatus.PENDING_APPROVAL, None)

    sign_in(second_page, APPROVER_USERNAME, PASSWORD)
    open_transactions_menu_item(second_page, "Journals")
    expect(second_page).to_have_url(re.compile(r"/admin/transactions/journals/$"))
    second_page.get_by_role("link", name=str(journal), exact=True).click()
    second_page.get_by_role("link", name="Approve or reject").click()
    second_page.get_by_label("Note").fill("Checked against the business rates bill")
    second_page.get_by_role("button", name="Approve and post").click()

    expect(second_page.get_by_role("status")).to_contain_text(
        f"{journal} approved and posted: £60.00 moved."
    )
    expect(summary_value(second_page, "Status")).to_have_text("Posted")
    journal.refresh_from_db()
    assert (journal.status, journal.decided_by) == (JournalStatus.POSTED, approver)
    assert journal.entry is not None
    moved = {posting.account: posting.amount_pence for posting in journal.entry.postings.all()}
    assert moved == {fund_account(ctax): 6_000, fund_account(nndr): -6_000}


@pytest.fixture
def ask_for_journal(council, payment, nndr):
    """``ask_for_journal(user)``: £60.00 of the payment to NNDR, above the limit, so waiting."""
    council.journal_approval_threshold_pence = JOURNAL_LIMIT_PENCE
    council.save()

    def ask(requested_by):
        line = payment.lines.get()
        return journal_request(
            organisation=council,
            from_fund_code=line.fund_code,
            to_fund_code=nndr,
            amount_pence=6_000,
            reason="Business rates paid against the council tax account",
            requested_by=requested_by,
            payment_line=line,
        )

    return ask


def test_the_income_officer_who_asked_for_a_journal_cannot_approve_it(
    page, sign_in, officer, ask_for_journal
):
    journal = ask_for_journal(officer)
    sign_in(page, OFFICER, PASSWORD)

    # Not offered the decision on the journal's page, and turned away from its address.
    page.goto(f"/admin/transactions/journals/inspect/{journal.pk}/")
    expect(summary_value(page, "Status")).to_have_text("Waiting for approval")
    expect(page.get_by_role("link", name="Approve or reject")).to_have_count(0)
    page.goto(f"/admin/transactions/journals/decide/{journal.pk}/")

    expect(page.get_by_role("status")).to_contain_text(
        "Sorry, you do not have permission to access this area"
    )
    journal.refresh_from_db()
    assert (journal.status, journal.entry) == (JournalStatus.PENDING_APPROVAL, None)


def test_someone_holding_both_roles_cannot_approve_a_journal_they_asked_for(
    page, sign_in, council, ask_for_journal
):
    # Someone may hold both roles; the second pair of eyes must still be another person's.
    both = person(council, "officer.and.approver", INCOME_OFFICER, APPROVER)
    journal = ask_for_journal(both)
    sign_in(page, both.username, PASSWORD)

    page.goto(f"/admin/transactions/journals/decide/{journal.pk}/")
    expect(page.locator("main")).to_contain_text("You asked for this journal")
    page.get_by_role("button", name="Approve and post").click()

    expect(page.get_by_role("status")).to_contain_text(
        "A journal must be approved by someone other than who asked for it."
    )
    journal.refresh_from_db()
    assert (journal.status, journal.entry) == (JournalStatus.PENDING_APPROVAL, None)


def test_payment_page_has_no_accessibility_violations(
    page, sign_in, axe, officer, payment, ask_for_journal
):
    sign_in(page, OFFICER, PASSWORD)
    page.goto(payment_url(payment))
    violations = {"just taken": main_violations(page, axe)}

    # Refunds and journals add their own tables to the page.
    ask_for_journal(officer)
    page.get_by_role("link", name="Refund", exact=True).click()
    page.get_by_label("Amount to refund").fill("10.00")
    page.get_by_label("Reason").fill("Overpaid")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("table", name="Refunds")).to_be_visible()
    expect(page.get_by_role("table", name="Journals")).to_be_visible()
    violations["refunded and journalled"] = main_violations(page, axe)

    assert violations == {state: [] for state in violations}


def test_refund_form_has_no_accessibility_violations(page, sign_in, axe, officer, payment):
    sign_in(page, OFFICER, PASSWORD)
    page.goto(f"/admin/transactions/payments/refund/{payment.pk}/")
    violations = {"empty form": main_violations(page, axe)}

    # More than was paid: the service refuses it, and the form says how much is left.
    page.get_by_label("Amount to refund").fill("500.00")
    page.get_by_label("Reason").fill("Overpaid")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.locator("main")).to_contain_text("can still be refunded, not £500.00")
    violations["amount too large"] = main_violations(page, axe)

    assert violations == {state: [] for state in violations}


def test_journal_forms_have_no_accessibility_violations(
    page, second_page, sign_in, axe, officer, approver, payment, ask_for_journal
):
    sign_in(page, OFFICER, PASSWORD)
    page.goto(payment_url(payment))
    page.get_by_role("table", name="Lines").get_by_role("link", name="Move to another fund").click()
    expect(page).to_have_url(re.compile(r"/move-line/\d+/$"))
    violations = {"move to another fund": main_violations(page, axe)}

    journal = ask_for_journal(officer)
    sign_in(second_page, APPROVER_USERNAME, PASSWORD)
    second_page.goto(f"/admin/transactions/journals/decide/{journal.pk}/")
    violations["approve or reject"] = main_violations(second_page, axe)
    # Rejecting without a note is refused, next to the note.
    second_page.get_by_role("button", name="Reject").click()
    expect(second_page.locator("main")).to_contain_text("Say why the journal is rejected.")
    violations["reject without a note"] = main_violations(second_page, axe)

    assert violations == {state: [] for state in violations}
