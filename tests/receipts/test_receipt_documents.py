"""A receipt, as the payer reads it: every VAT field, the right amounts, originals and copies.

PDFs are read back with pypdf (the text a reader or screen reader gets) and
drawn with pdfium, as a person would see them.
"""

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pypdfium2
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from backoffice.payments.services import (
    LineInput,
    Payer,
    payment_close,
    payment_create,
    payment_take,
    refund_request,
)
from backoffice.receipts import rendering, services
from backoffice.receipts.models import AppendOnlyError, IssueMethod, ReceiptIssue, ReceiptTemplate
from backoffice.receipts.pdf import LocalOnlyURLFetcher, write_pdf
from tests.receipts.conftest import VAT_NUMBER, pdf_text, red_png

pytestmark = pytest.mark.django_db


def today_in_london():
    return timezone.localdate(timezone.now(), rendering.UK)


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


# What every receipt says ---------------------------------------------------------------


def test_a_receipt_shows_every_field_hmrc_asks_of_a_vat_receipt(payment, finance_admin):
    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))
    supplied = timezone.localtime(payment.completed_at, rendering.UK)

    # The supplier: name, address and VAT registration number.
    assert "Barsetshire Borough Council" in text
    assert "Guildhall, High Street, Barchester, BA1 1AA" in text
    assert f"VAT registration number {VAT_NUMBER}" in text
    # A unique number, and the date and time of supply in UK time.
    assert f"Receipt number {payment.receipt_number}" in text
    assert payment.receipt_number.startswith("BAR-")
    assert f"Date and time of supply {long_date(supplied.date())} at {supplied:%H:%M}" in text
    assert "VAT receipt" in text
    # Each line: what it was for, its reference and narrative, VAT rate, net, VAT and gross.
    assert "Parking" in text and "Reference: PCN00012345" in text
    assert "Council Tax" in text
    assert "Library book sales" in text and "Reference: ISBN9780140449136" in text
    assert "Admin fee" in text
    assert "20% £200.00 £40.00 £240.00" in text
    assert "20% £8.34 £1.67 £10.01" in text
    assert "Outside the scope of VAT £100.00 £0.00 £100.00" in text
    assert "0% (zero rate) £15.00 £0.00 £15.00" in text
    # The VAT summary per rate, and the totals.
    summary = text[text.index("VAT summary") :]
    assert "20% £208.34 £41.67 £250.01" in summary
    assert "Outside the scope of VAT £100.00 £0.00 £100.00" in summary
    assert "0% (zero rate) £15.00 £0.00 £15.00" in summary
    assert "Total £323.34 £41.67 £365.01" in summary
    assert "Total paid £365.01" in text
    # Who paid, and how.
    assert "Paid by Ann Example" in text
    assert "Payment method Cash" in text
    assert "COPY" not in text


def test_the_time_of_supply_is_printed_in_uk_time_in_summer(council, parking, finance_admin):
    # The clock is set, not waited for: 12:05 UTC on 1 July is 13:05 in London (BST).
    moment = datetime.datetime(2025, 7, 1, 12, 5, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        payment = payment_take(
            organisation=council,
            channel="face_to_face",
            method="card",
            lines=[LineInput(parking, 600, account_reference="P1")],
            tax_point=datetime.date(2025, 7, 1),
        )

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "Date and time of supply 1 July 2025 at 13:05" in text


def test_a_line_in_suspense_is_described_by_what_the_payer_meant_to_pay(
    council, ctax, suspense_fund, finance_admin
):
    payment = payment_take(
        organisation=council,
        channel="telephone",
        method="card",
        lines=[LineInput(ctax, 5_000, account_reference="99999999")],
    )
    assert payment.lines.get().in_suspense

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "Council Tax" in text
    assert "Suspense" not in text
    assert "Reference: 99999999" in text


def test_refunds_to_date_are_listed_under_what_was_paid(payment, officer, finance_admin):
    refund_request(
        payment=payment, amount_pence=4_000, reason="Permit cancelled", requested_by=officer
    )

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    refunds = text[text.index("Refunds to date") :]
    assert f"{long_date(today_in_london())} £40.00" in refunds
    assert "Total refunded £40.00" in refunds
    # What was paid is unchanged: the refund is listed, not netted off.
    assert "Total paid £365.01" in text


def test_a_council_not_registered_for_vat_issues_a_receipt_that_is_not_a_vat_invoice(
    council, payment, finance_admin
):
    council.vat_registration_number = ""
    council.save()
    payment.refresh_from_db()

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "VAT registration number Not VAT registered" in text
    assert "This is not a VAT invoice" in text
    assert "VAT receipt" not in text
    assert "VAT summary" not in text
    assert "£240.00" in text and "Total paid £365.01" in text


# Originals, copies and the record of each issue -------------------------------------------


def test_the_first_receipt_is_the_original_and_every_later_one_a_dated_copy(
    payment, finance_admin, officer
):
    first = pdf_text(services.receipt_pdf(payment, user=finance_admin))
    second = pdf_text(services.receipt_pdf(payment, user=officer))
    third = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "COPY" not in first
    copy_line = f"COPY — re-issued on {long_date(today_in_london())}"
    assert copy_line in second
    assert copy_line in third
    # A copy carries the same receipt number and amounts as the original.
    assert f"Receipt number {payment.receipt_number}" in second
    assert "Total paid £365.01" in second


def test_every_issue_is_recorded_with_who_how_when_and_whether_a_copy(
    payment, finance_admin, officer
):
    before = timezone.now()
    services.receipt_pdf(payment, user=finance_admin)
    services.receipt_email(payment, "ann@example.com", user=officer)
    services.receipt_pdf(payment, user=None)

    issues = list(ReceiptIssue.objects.filter(payment=payment))
    assert [(i.how, i.is_copy, i.issued_by, i.to_email) for i in issues] == [
        (IssueMethod.DOWNLOAD, False, finance_admin, ""),
        (IssueMethod.EMAIL, True, officer, "ann@example.com"),
        (IssueMethod.DOWNLOAD, True, None, ""),
    ]
    assert all(issue.issued_at >= before for issue in issues)
    assert {issue.template_name for issue in issues} == {"Built-in receipt"}
    assert {issue.organisation_id for issue in issues} == {payment.organisation_id}


def test_a_receipt_issue_is_never_changed_or_deleted(payment, finance_admin):
    services.receipt_pdf(payment, user=finance_admin)
    issue = ReceiptIssue.objects.get()

    issue.to_email = "someone@example.com"
    with pytest.raises(AppendOnlyError):
        issue.save()
    with pytest.raises(AppendOnlyError):
        issue.delete()
    issue.refresh_from_db()
    assert issue.to_email == ""


def test_the_database_allows_only_one_original_per_payment(payment, finance_admin):
    services.receipt_pdf(payment, user=finance_admin)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReceiptIssue.objects.create(
            organisation=payment.organisation,
            payment=payment,
            issued_at=timezone.now(),
            how=IssueMethod.DOWNLOAD,
            is_copy=False,
            template_name="Built-in receipt",
        )


def test_a_second_original_lost_to_a_race_is_issued_as_a_copy(payment, finance_admin, officer):
    # Another member of staff issues the original between this issue's look at the
    # record and its insert: the database refuses a second original, and this one
    # is rendered again as a copy.
    services.receipt_pdf(payment, user=officer)
    real_filter = ReceiptIssue.objects.filter

    def nothing_issued_yet(*args, **kwargs):
        return real_filter(pk=None)

    with mock.patch.object(ReceiptIssue.objects, "filter", side_effect=nothing_issued_yet):
        text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "COPY — re-issued on" in text
    assert list(ReceiptIssue.objects.values_list("is_copy", flat=True)) == [False, True]


# Email ----------------------------------------------------------------------------------


def test_an_emailed_receipt_arrives_with_the_pdf_attached(settings, payment, officer):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    issue = services.receipt_email(payment, " ann@example.com ", user=officer)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann@example.com"]
    assert message.reply_to == ["income@barsetshire.example"]
    assert payment.receipt_number in message.subject
    assert "Barsetshire Borough Council" in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"receipt-{payment.receipt_number}.pdf"
    assert mimetype == "application/pdf"
    assert content.startswith(b"%PDF-")
    assert "Total paid £365.01" in pdf_text(content)
    assert (issue.how, issue.to_email, issue.is_copy) == (
        IssueMethod.EMAIL,
        "ann@example.com",
        False,
    )


def test_a_receipt_emailed_after_the_original_says_it_is_a_copy(settings, payment, officer):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.receipt_pdf(payment, user=officer)

    services.receipt_email(payment, "ann@example.com", user=officer)

    message = mail.outbox[0]
    assert message.subject.startswith("A copy of your receipt")
    assert "COPY — re-issued on" in pdf_text(message.attachments[0][1])


@pytest.mark.parametrize("address", ["", "not an address", "ann@"])
def test_a_receipt_is_not_emailed_to_something_that_is_not_an_address(
    settings, payment, officer, address
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with pytest.raises(ValidationError, match="is not an email address") as caught:
        services.receipt_email(payment, address, user=officer)

    assert caught.value.code == "invalid_email"
    assert mail.outbox == []
    assert not ReceiptIssue.objects.exists()


def test_an_email_that_cannot_be_sent_leaves_no_record_of_being_sent(settings, payment, officer):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=ConnectionRefusedError("mail server down"),
        ),
        pytest.raises(ConnectionRefusedError),
    ):
        services.receipt_email(payment, "ann@example.com", user=officer)

    assert not ReceiptIssue.objects.exists()


# No receipt without money taken ------------------------------------------------------------


def test_a_payment_not_yet_taken_has_no_receipt(council, parking, finance_admin):
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 600, account_reference="P1")],
    )

    for issue in (
        lambda: services.receipt_pdf(payment, user=finance_admin),
        lambda: services.receipt_email(payment, "ann@example.com", user=finance_admin),
        lambda: services.receipt_render_html(payment),
    ):
        with pytest.raises(ValidationError, match="has no receipt") as caught:
            issue()
        assert caught.value.code == "no_receipt"
    assert not ReceiptIssue.objects.exists()


def test_a_failed_payment_has_no_receipt(council, parking, finance_admin):
    payment = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 600, account_reference="P1")],
    )
    payment = payment_close(payment=payment, status="failed", reason="Card declined")

    with pytest.raises(ValidationError, match="this one is failed"):
        services.receipt_pdf(payment, user=finance_admin)
    assert not ReceiptIssue.objects.exists()


# Templates and placeholders -----------------------------------------------------------------


def template(council, **fields):
    defaults = {"name": "Standard", "is_default": True}
    return ReceiptTemplate.objects.create(organisation=council, **{**defaults, **fields})


def test_the_councils_default_template_is_used_with_its_placeholders_filled_in(
    council, payment, finance_admin
):
    template(
        council,
        heading="{council_name} receipt",
        body="<p>Thank you, <b>{payer_name}</b>, for paying {total} by {payment_method}.</p>",
        footer="<p>Receipt {receipt_number} of {date}. Questions: {council_email}</p>",
    )

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    assert "Barsetshire Borough Council receipt" in text
    assert "Thank you, Ann Example, for paying £365.01 by Cash." in text
    supplied = timezone.localtime(payment.completed_at, rendering.UK).date()
    assert f"Receipt {payment.receipt_number} of {long_date(supplied)}." in text
    assert "Questions: income@barsetshire.example" in text
    assert ReceiptIssue.objects.get().template_name == "Standard"


def test_whatever_the_template_says_the_vat_content_is_all_there(council, payment, finance_admin):
    template(council, heading="Thanks", body="", footer="")

    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))

    for required in (
        f"VAT registration number {VAT_NUMBER}",
        f"Receipt number {payment.receipt_number}",
        "Date and time of supply",
        "Guildhall, High Street, Barchester, BA1 1AA",
        "Total £323.34 £41.67 £365.01",
        "Total paid £365.01",
    ):
        assert required in text


def test_placeholder_values_are_escaped_not_read_as_html(council, parking, finance_admin):
    payment = payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 600, account_reference="P1")],
        payer=Payer(name='<img src="http://127.0.0.1:9/x.png"> Bob & <b>Co</b>'),
    )
    template(council, heading="For {payer_name}", body="<p>Dear {payer_name},</p>")

    html = services.receipt_render_html(payment)

    assert "<img" not in html
    assert "<b>Co</b>" not in html
    assert "Dear &lt;img src=&quot;http://127.0.0.1:9/x.png&quot;&gt; Bob &amp; &lt;b&gt;Co" in html
    text = pdf_text(services.receipt_pdf(payment, user=finance_admin))
    assert 'Dear <img src="http://127.0.0.1:9/x.png"> Bob & <b>Co</b>,' in text


def test_staff_text_is_never_run_as_a_django_template(settings, council, payment):
    settings.SECRET_KEY = "a-secret-that-must-not-be-printed"
    template(
        council,
        heading="{{ settings.SECRET_KEY }}",
        body="<p>{% load static %}{{ request }} {{ payment.payer_email }} {receipt_number}</p>",
    )

    html = services.receipt_render_html(payment)

    assert settings.SECRET_KEY not in html
    assert "{{ settings.SECRET_KEY }}" in html
    assert "{% load static %}{{ request }} {{ payment.payer_email }}" in html
    assert "ann@example.com" not in html
    assert payment.receipt_number in html


def test_a_template_naming_a_placeholder_that_does_not_exist_is_refused(council):
    draft = ReceiptTemplate(
        organisation=council, name="Typo", heading="Hi {payer}", body="<p>{council_nmae}</p>"
    )

    with pytest.raises(ValidationError) as caught:
        draft.full_clean()

    assert "There is no placeholder {payer}" in caught.value.message_dict["heading"][0]
    assert "{council_nmae}" in caught.value.message_dict["body"][0]
    assert "{payer_name}" in caught.value.message_dict["body"][0]


def test_tags_that_load_or_style_anything_are_removed_from_staff_text(council, payment):
    template(
        council,
        body=(
            '<p class="x" style="display:none">Kept <a href="https://council.example" '
            'onclick="x()">link</a> <a href="javascript:alert(1)">bad</a></p>'
            "<style>table { display: none }</style><script>alert(1)</script>"
            '<img src="http://127.0.0.1:9/x.png"><iframe src="https://example.com"></iframe>'
            "<div><span>words kept</span></div>"
        ),
    )

    html = services.receipt_render_html(payment)
    body = html[html.index('<div class="words">') :]
    body = body[: body.index("</div>")]

    assert body == (
        '<div class="words"><p>Kept <a href="https://council.example">link</a> <a>bad</a></p>'
        "words kept"
    )


def test_only_one_template_of_a_council_is_its_default(council, other_council):
    template(council, name="First")
    template(other_council, name="Theirs")

    with pytest.raises(IntegrityError), transaction.atomic():
        template(council, name="Second")


def test_a_template_of_another_council_cannot_be_used(other_council, payment, finance_admin):
    theirs = template(other_council, name="Theirs")

    with pytest.raises(ValidationError, match="belongs to another council"):
        services.receipt_pdf(payment, user=finance_admin, template=theirs)
    assert not ReceiptIssue.objects.exists()


# The logo, and nothing else, is fetched ------------------------------------------------------


def test_the_templates_logo_is_printed_from_the_councils_file_storage(
    settings, tmp_path, council, payment, finance_admin
):
    settings.MEDIA_ROOT = tmp_path
    with_logo = template(council)
    with_logo.logo.save("logo.png", ContentFile(red_png()))

    pdf = services.receipt_pdf(payment, user=finance_admin)

    page = pypdfium2.PdfDocument(pdf)[0].render(scale=1).to_pil().convert("RGB")
    reds = sum(1 for r, g, b in page.get_flattened_data() if r > 200 and g < 40 and b < 40)
    assert reds > 1_000


class Recorder(BaseHTTPRequestHandler):
    """A real web server on 127.0.0.1 that remembers every request it gets."""

    requests: list[str] = []

    def do_GET(self):
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(red_png())

    def log_message(self, *args):
        pass


@pytest.fixture
def web_server():
    Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_rendering_never_fetches_a_web_address_even_when_the_html_asks(web_server, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    html = (
        f'<html><head><link rel="stylesheet" href="{web_server}/style.css">'
        f'<link rel="stylesheet" href="file://{secret}">'
        f"<style>@import url({web_server}/import.css); "
        f"p {{ background: url({web_server}/bg.png) }}</style></head>"
        f'<body><img src="{web_server}/logo.png"><p>Still rendered</p></body></html>'
    )

    pdf = write_pdf(html)

    assert Recorder.requests == []
    assert "Still rendered" in pdf_text(pdf)


def test_the_fetcher_serves_the_logo_and_refuses_every_other_address(
    settings, tmp_path, web_server, council
):
    settings.MEDIA_ROOT = tmp_path
    with_logo = template(council)
    with_logo.logo.save("logo.png", ContentFile(red_png()))
    fetcher = LocalOnlyURLFetcher(logo=with_logo.logo)

    response = fetcher.fetch(rendering.LOGO_URL)
    assert response.read() == red_png()
    assert response.headers.get_content_type() == "image/png"
    for url in (
        f"{web_server}/logo.png",
        f"file://{with_logo.logo.path}",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
    ):
        with pytest.raises(ValueError, match="Receipts load nothing from outside"):
            fetcher.fetch(url)
    with pytest.raises(ValueError):
        LocalOnlyURLFetcher(logo=None).fetch(rendering.LOGO_URL)
    assert Recorder.requests == []


# As a person sees it --------------------------------------------------------------------------


def test_page_one_draws_as_a_non_blank_a4_image(tmp_path, payment, finance_admin):
    pdf = services.receipt_pdf(payment, user=finance_admin)

    document = pypdfium2.PdfDocument(pdf)
    png_path = tmp_path / "receipt-page-1.png"
    document[0].render(scale=150 / 72).to_pil().save(png_path)

    with Image.open(png_path) as image:
        assert image.format == "PNG"
        # A4 is 210 x 297 mm: 1240 x 1754 pixels at 150 dots to the inch.
        assert abs(image.width - 1240) <= 2 and abs(image.height - 1754) <= 2
        grey = image.convert("L")
        histogram = grey.histogram()
        dark = sum(histogram[:128]) / (image.width * image.height)
        # Text and rules, on a mostly white page.
        assert 0.005 < dark < 0.3
        # Dark ink at the top: the heading and the council's details.
        top = grey.crop((0, 0, image.width, image.height // 4))
        assert top.getextrema()[0] < 64
