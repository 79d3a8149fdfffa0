"""An income officer re-issues a receipt in a real browser: downloads it, then emails a copy."""

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.receipts.models import ReceiptIssue
from tests.factories import staff

# The receipts tests' council and mixed-VAT payment, used here as they are there.
from tests.receipts.conftest import council, payment, pdf_text, zero_rated  # noqa: F401

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"


def test_an_officer_downloads_the_receipt_then_emails_a_copy(
    settings,
    page,
    sign_in,
    axe,
    council,  # noqa: F811 - the fixture imported above
    payment,  # noqa: F811
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff(council, roles=(INCOME_OFFICER,), username="receipt.officer", password=PASSWORD)
    sign_in(page, "receipt.officer", PASSWORD)

    page.goto(f"/admin/transactions/payments/inspect/{payment.pk}/")
    assert axe(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download receipt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{payment.receipt_number}.pdf"
    with open(download.path(), "rb") as pdf:
        assert "COPY" not in pdf_text(pdf.read())

    page.get_by_role("link", name="Email receipt").click()
    expect(page.get_by_label("Send to")).to_have_value("ann@example.com")
    assert axe(page) == []
    page.get_by_role("button", name="Send receipt").click()

    expect(page.get_by_text("A copy of the receipt")).to_be_visible()
    issues = page.get_by_role("table", name="Receipts issued")
    expect(issues.get_by_role("row")).to_have_count(3)  # the header and two issues
    assert list(ReceiptIssue.objects.values_list("how", "is_copy")) == [
        ("download", False),
        ("email", True),
    ]
