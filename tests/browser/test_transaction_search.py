"""An income officer finds a payment by part of its reference in Transactions > Search.

A real browser: the officer signs in through the login form, opens the search from the
Transactions menu, types part of a reference a caller read out, and opens the payment.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.payments.services import LineInput, Payer, payment_take
from tests.factories import staff

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"
OFFICER = "income.officer"


@pytest.fixture
def officer(council):
    return staff(council, roles=(INCOME_OFFICER,), username=OFFICER, password=PASSWORD)


def counter_payment(council, fund, pence, reference, name):
    return payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(fund, pence, account_reference=reference)],
        payer=Payer(name=name, postcode="BA1 1AA"),
    )


def test_officer_finds_a_payment_by_part_of_its_reference_and_opens_it(
    page, sign_in, axe, officer, council, parking
):
    wanted = counter_payment(council, parking, 4_550, "PP481516", "Ann Example")
    other = counter_payment(council, parking, 9_900, "PP999999", "Bo Other")
    sign_in(page, OFFICER, PASSWORD)

    page.get_by_role("button", name="Transactions").click()
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/transactions/search/$"))
    assert axe(page, "main") == []

    page.get_by_label("Account reference").fill("8151")
    page.get_by_label("Part of the reference").check()
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page.get_by_role("link", name=wanted.receipt_number, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=other.receipt_number, exact=True)).to_have_count(0)
    expect(page.get_by_text("Showing 1 payment: there are no more.")).to_be_visible()
    assert axe(page, "main") == []

    # Too short a fragment is explained, next to the field.
    page.get_by_label("Payer's name").fill("An")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Type at least 3 letters or digits in a row")).to_be_visible()
    assert axe(page, "main") == []

    page.get_by_label("Payer's name").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=wanted.receipt_number, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/transactions/payments/inspect/{wanted.pk}/$"))
    expect(page.get_by_text("PP481516")).to_be_visible()
