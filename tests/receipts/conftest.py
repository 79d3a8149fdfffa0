"""A VAT-registered council and a payment of several lines at different VAT rates."""

import io

import pypdf
import pytest
from PIL import Image

from backoffice.funds.models import VatCategory
from backoffice.payments.services import LineInput, Payer, payment_take
from tests.factories import FundCodeFactory, VatRateFactory

VAT_NUMBER = "GB 123 4567 82"


@pytest.fixture
def council(council):
    council.vat_registration_number = VAT_NUMBER
    council.receipt_prefix = "BAR"
    council.address_line_1 = "Guildhall"
    council.address_line_2 = "High Street"
    council.town = "Barchester"
    council.postcode = "BA1 1AA"
    council.email = "income@barsetshire.example"
    council.save()
    return council


@pytest.fixture
def zero_rated(council):
    """Books: zero-rated, any reference."""
    rate = VatRateFactory(organisation=council, code="Z", name="Zero", category=VatCategory.ZERO)
    return FundCodeFactory(
        organisation=council,
        code="BOOKS",
        name="Library book sales",
        default_vat_rate=rate,
        allowed_channels=["face_to_face"],
    )


@pytest.fixture
def payment(council, parking, ctax, zero_rated, valid_reference):
    """£365.01 in cash: two parking lines at 20%, council tax (outside scope), a zero-rated book.

    Parking £240.00 is £200.00 + £40.00 VAT; parking £10.01 is £8.34 + £1.67 VAT
    (the VAT fraction 1/6 of £10.01 is 166.83p, rounded half up).
    """
    return payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[
            LineInput(parking, 24_000, account_reference="PCN00012345"),
            LineInput(ctax, 10_000, account_reference=valid_reference(ctax)),
            LineInput(parking, 1_001, account_reference="PCN00099999", narrative="Admin fee"),
            LineInput(zero_rated, 1_500, account_reference="ISBN9780140449136"),
        ],
        payer=Payer(name="Ann Example", email="ann@example.com", postcode="BA2 2BB"),
    )


def pdf_text(pdf: bytes) -> str:
    """Every page's text, as a reader of the PDF (or a screen reader) gets it."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def red_png() -> bytes:
    """A small red logo."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (220, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()
