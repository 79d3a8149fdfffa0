"""Turning a payment into a receipt: its content, its HTML and its PDF.

Nothing here writes to the database; ``services`` records each issue.

Three rules keep a receipt true and safe whatever a template says:

- the VAT content (supplier, VAT number, receipt number, time of supply, lines,
  VAT per rate, total, refunds) comes from ``receipts/receipt.html``, a file
  in the code, never from staff-entered text;
- staff-entered text is cleaned to a few harmless tags and its placeholders
  are replaced from a fixed list, each value HTML-escaped: it is never
  rendered as a Django template;
- WeasyPrint (``pdf.py``) fetches nothing but the template's logo, from the council's own
  file storage: no web address, no local file, nothing else.
"""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from wagtail.rich_text import expand_db_html

from backoffice.funds.models import VatCategory
from backoffice.money import format_pence
from backoffice.payments.models import RefundStatus

from .models import DEFAULT_COLOUR, PLACEHOLDER_PATTERN, colour_validator

UK = ZoneInfo("Europe/London")
LOGO_URL = "receipt-asset:logo"


# The content of a receipt --------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    account_reference: str
    narrative: str
    vat_rate: str
    net_pence: int
    vat_pence: int
    gross_pence: int


@dataclass(frozen=True)
class VatSummaryRow:
    vat_rate: str
    net_pence: int
    vat_pence: int
    gross_pence: int


@dataclass(frozen=True)
class ReceiptRefund:
    refunded_on: datetime.date
    amount_pence: int


@dataclass(frozen=True)
class ReceiptContent:
    """Everything a receipt says about a payment, read once from the database."""

    council: object  # an Organisation
    receipt_number: str
    supplied_at: datetime.datetime  # UK time
    payer_name: str
    payer_address: str
    payment_method: str
    lines: list[ReceiptLine]
    refunds: list[ReceiptRefund] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(line.gross_pence for line in self.lines)

    @property
    def total_net_pence(self) -> int:
        return sum(line.net_pence for line in self.lines)

    @property
    def total_vat_pence(self) -> int:
        return sum(line.vat_pence for line in self.lines)

    @property
    def refunded_pence(self) -> int:
        return sum(refund.amount_pence for refund in self.refunds)

    @property
    def vat_summary(self) -> list[VatSummaryRow]:
        """Net, VAT and gross per VAT rate, in the order the rates first appear."""
        totals: dict[str, list[int]] = {}
        for line in self.lines:
            row = totals.setdefault(line.vat_rate, [0, 0, 0])
            row[0] += line.net_pence
            row[1] += line.vat_pence
            row[2] += line.gross_pence
        return [VatSummaryRow(rate, *amounts) for rate, amounts in totals.items()]


def vat_rate_label(vat_rate, tax_point: datetime.date) -> str:
    """How a line's VAT treatment is printed: '20%', '0% (zero rate)', 'Exempt'...

    HMRC asks that zero-rated and exempt supplies be told apart on an
    invoice, so those say which they are rather than just '0%'.
    """
    if vat_rate.category == VatCategory.EXEMPT:
        return "Exempt"
    if vat_rate.category == VatCategory.OUTSIDE_SCOPE:
        return "Outside the scope of VAT"
    percentage = f"{vat_rate.percentage_on(tax_point).normalize():f}%"
    if vat_rate.category == VatCategory.ZERO:
        return f"{percentage} (zero rate)"
    return percentage


def _line_description(line) -> str:
    if line.service is not None:
        return line.service.name
    # A line in suspense was meant for another fund: the payer paid for that.
    fund = line.intended_fund_code if line.in_suspense else line.fund_code
    return fund.display_name


def receipt_content(payment) -> ReceiptContent:
    """What the receipt of a taken payment says, from the payment, its lines and refunds."""
    lines = payment.lines.select_related(
        "fund_code", "intended_fund_code", "service", "vat_rate"
    ).prefetch_related("vat_rate__periods")
    refunds = payment.refunds.filter(status=RefundStatus.SUCCEEDED).order_by("completed_at", "pk")
    address = [payment.address_line_1, payment.address_line_2, payment.town, payment.postcode]
    return ReceiptContent(
        council=payment.organisation,
        receipt_number=payment.receipt_number,
        supplied_at=timezone.localtime(payment.completed_at, UK),
        payer_name=payment.payer_name,
        payer_address=", ".join(part for part in address if part),
        payment_method=payment.get_method_display(),
        lines=[
            ReceiptLine(
                description=_line_description(line),
                account_reference=line.account_reference,
                narrative=line.narrative,
                vat_rate=vat_rate_label(line.vat_rate, payment.tax_point),
                net_pence=line.net_pence,
                vat_pence=line.vat_pence,
                gross_pence=line.gross_pence,
            )
            for line in lines
        ],
        refunds=[
            ReceiptRefund(
                refunded_on=timezone.localtime(
                    refund.completed_at or refund.requested_at, UK
                ).date(),
                amount_pence=refund.amount_pence,
            )
            for refund in refunds
        ],
    )


def sample_content(council) -> ReceiptContent:
    """A made-up payment to the council, for previewing a template without a real payer."""
    return ReceiptContent(
        council=council,
        receipt_number=f"{council.receipt_prefix}-00000000"
        if council.receipt_prefix
        else "00000000",
        supplied_at=timezone.localtime(timezone.now(), UK),
        payer_name="A. Sample Payer",
        payer_address="1 Example Street, Anytown, AN1 1AA",
        payment_method="Card",
        lines=[
            ReceiptLine("Parking permit", "PERMIT123", "Sample line", "20%", 5000, 1000, 6000),
            ReceiptLine("Council Tax", "12345678", "", "Outside the scope of VAT", 4000, 0, 4000),
        ],
    )


# Staff-entered text ---------------------------------------------------------------------

# Tags staff text may keep; anything else is unwrapped to its words, and these
# are dropped with their content. No attribute survives except a link's address.
_KEPT_TAGS = frozenset({"p", "br", "b", "strong", "i", "em", "h2", "h3", "h4", "ul", "ol", "li"})
_DROPPED_TAGS = frozenset(
    {"script", "style", "link", "meta", "iframe", "object", "embed", "img", "svg", "math",
     "template", "head", "title", "noscript", "form", "input", "button", "video", "audio"}
)  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def clean_rich_text(html: str) -> str:
    """Staff rich text cut down to words and simple structure: nothing that loads or styles."""
    soup = BeautifulSoup(html or "", "html.parser")
    for element in soup.find_all(True):
        if element.decomposed:
            continue
        if element.name in _DROPPED_TAGS:
            element.decompose()
        elif element.name == "a":
            href = element.get("href", "")
            element.attrs = {"href": href} if href.startswith(_LINK_SCHEMES) else {}
        elif element.name in _KEPT_TAGS:
            element.attrs = {}
        else:
            element.unwrap()
    return str(soup)


def placeholder_values(content: ReceiptContent) -> dict[str, str]:
    """The value of every placeholder in ``models.PLACEHOLDERS`` for this receipt."""
    council = content.council
    return {
        "payer_name": content.payer_name,
        "receipt_number": content.receipt_number,
        "council_name": council.name,
        "date": date_format(content.supplied_at, "j F Y"),
        "time": date_format(content.supplied_at, "H:i"),
        "total": format_pence(content.total_pence),
        "payment_method": content.payment_method,
        "council_email": council.email,
        "council_telephone": council.telephone,
        "council_website": council.website,
    }


def substitute(html: str, values: dict[str, str]) -> SafeString:
    """Replace each known ``{placeholder}`` in ``html`` by its value, HTML-escaped.

    ``html`` must already be safe (cleaned rich text, or escaped plain text).
    An unknown placeholder is left as typed, so a mistake shows on the receipt
    instead of vanishing.
    """

    def value_of(match):
        name = match[1]
        return escape(values[name]) if name in values else match[0]

    return mark_safe(PLACEHOLDER_PATTERN.sub(value_of, html))  # noqa: S308 - escaped above


# HTML and PDF -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateLook:
    """The parts of a receipt a council chooses. ``BUILT_IN`` is used when it has chosen none."""

    name: str
    heading: str
    body: str
    footer: str
    colour: str
    logo: object = None  # a FieldFile, or None

    @classmethod
    def of(cls, template) -> "TemplateLook":
        if template is None:
            return BUILT_IN
        return cls(
            name=template.name,
            heading=template.heading,
            body=template.body,
            footer=template.footer,
            colour=template.colour,
            logo=template.logo or None,
        )


BUILT_IN = TemplateLook(
    name="Built-in receipt",
    heading="Receipt",
    body="<p>Thank you for your payment. Please keep this receipt for your records.</p>",
    footer="",
    colour=DEFAULT_COLOUR,
)


def _safe_colour(colour: str) -> str:
    # Checked again here because it is written into the CSS.
    try:
        colour_validator(colour)
    except ValidationError:
        return DEFAULT_COLOUR
    return colour


def _rich_text(html: str, values: dict[str, str]) -> SafeString:
    return substitute(clean_rich_text(expand_db_html(html or "")), values)


def render_html(
    content: ReceiptContent,
    look: TemplateLook,
    *,
    copy_issued_on: datetime.date | None = None,
) -> str:
    """The receipt as an HTML document, ready for WeasyPrint."""
    values = placeholder_values(content)
    council = content.council
    is_vat_registered = bool(council.vat_registration_number)
    return render_to_string(
        "receipts/receipt.html",
        {
            "content": content,
            "council": council,
            "is_vat_registered": is_vat_registered,
            "heading": substitute(escape(look.heading), values),
            "body": _rich_text(look.body, values),
            "footer": _rich_text(look.footer, values),
            "colour": _safe_colour(look.colour),
            "logo_url": LOGO_URL if look.logo else "",
            "copy_issued_on": copy_issued_on,
            "supplied_on": date_format(content.supplied_at, "j F Y"),
            "supplied_time": date_format(content.supplied_at, "H:i"),
        },
    )


def render_pdf(html: str, look: TemplateLook) -> bytes:
    """The receipt's HTML as a PDF, fetching nothing but the logo."""
    # Imported here: WeasyPrint takes over a second to import, and every
    # process that loads the admin's URLs would otherwise pay for it.
    from .pdf import write_pdf

    return write_pdf(html, logo=look.logo)
