"""The receipt screens as staff meet them: re-issuing from a payment's page, and templates."""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice.accounts.roles import AUDITOR, CASHIER, FINANCE_ADMINISTRATOR, INCOME_OFFICER
from backoffice.payments.services import LineInput, payment_create, payment_take
from backoffice.receipts.models import IssueMethod, ReceiptIssue, ReceiptTemplate
from tests.conftest import assert_permission_denied
from tests.factories import FundCodeFactory, staff
from tests.receipts.conftest import pdf_text, red_png

pytestmark = pytest.mark.django_db

READERS = [INCOME_OFFICER, AUDITOR, FINANCE_ADMINISTRATOR]


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def payment_url(payment):
    return reverse("payments_payment:inspect", args=[payment.pk])


def download_url(payment):
    return reverse("payments_payment:receipt_download", args=[payment.pk])


def email_url(payment):
    return reverse("payments_payment:receipt_email", args=[payment.pk])


@pytest.fixture
def theirs(other_council):
    """A payment taken by another council."""
    fund = FundCodeFactory(organisation=other_council, allowed_channels=["face_to_face"])
    return payment_take(
        organisation=other_council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(fund, 1_000, account_reference="THEIRS1")],
    )


# Re-issuing from the payment's page ------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_who_can_view_a_payment_see_its_receipt_actions(client, council, payment, role):
    response = signed_in(client, staff(council, roles=(role,))).get(payment_url(payment))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Download receipt (PDF)" in content
    assert f'action="{download_url(payment)}"' in content
    assert f'href="{email_url(payment)}"' in content
    assert "No receipt has been issued from here yet." in content


@pytest.mark.parametrize("role", READERS)
def test_staff_who_can_view_a_payment_can_download_its_receipt(client, council, payment, role):
    person = staff(council, roles=(role,))

    response = signed_in(client, person).post(download_url(payment))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{payment.receipt_number}.pdf"'
    )
    assert f"Receipt number {payment.receipt_number}" in pdf_text(response.content)
    issue = ReceiptIssue.objects.get()
    assert (issue.issued_by, issue.how, issue.is_copy) == (person, IssueMethod.DOWNLOAD, False)


def test_a_download_is_a_post_so_that_a_link_prefetch_records_nothing(admin_client, payment):
    assert admin_client.get(download_url(payment)).status_code == 405
    assert not ReceiptIssue.objects.exists()


def test_the_payments_page_lists_every_issue_of_its_receipt(client, officer, payment):
    signed_in(client, officer).post(download_url(payment))
    client.post(email_url(payment), {"to_email": "ann@example.com"})

    content = client.get(payment_url(payment)).content.decode()

    assert "Receipts issued" in content
    assert "Original" in content and "Copy" in content
    assert "Downloaded" in content and "Emailed" in content
    assert "ann@example.com" in content
    assert "Built-in receipt" in content


def test_the_email_form_offers_the_payers_address(client, officer, payment):
    response = signed_in(client, officer).get(email_url(payment))

    assert response.status_code == 200
    assert response.context["form"].initial["to_email"] == "ann@example.com"
    assert "Send receipt" in response.content.decode()


def test_emailing_a_receipt_sends_it_and_says_so(client, officer, payment):
    response = signed_in(client, officer).post(email_url(payment), {"to_email": "bob@example.com"})

    assert response.status_code == 302
    assert response.url == payment_url(payment)
    assert messages_of(response) == [
        f"The receipt {payment.receipt_number} was emailed to bob@example.com."
    ]
    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    issue = ReceiptIssue.objects.get()
    assert (issue.issued_by, issue.how, issue.to_email) == (officer, "email", "bob@example.com")


def test_a_bad_address_is_shown_on_the_form_and_nothing_is_sent(client, officer, payment):
    response = signed_in(client, officer).post(email_url(payment), {"to_email": "not-an-address"})

    assert response.status_code == 200
    assert response.context["form"].errors["to_email"]
    assert mail.outbox == []
    assert not ReceiptIssue.objects.exists()


def test_a_payment_not_taken_offers_no_receipt_and_refuses_one(client, officer, council, parking):
    unpaid = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 600, account_reference="P1")],
    )
    client = signed_in(client, officer)

    page = client.get(payment_url(unpaid)).content.decode()
    download = client.post(download_url(unpaid))
    email_form = client.get(email_url(unpaid))

    assert "This payment has no receipt: its money was not taken." in page
    assert "Download receipt (PDF)" not in page
    assert download.status_code == 302 and download.url == payment_url(unpaid)
    assert any("has no receipt" in text for text in messages_of(download))
    assert email_form.status_code == 302
    assert not ReceiptIssue.objects.exists()


def test_another_councils_receipt_is_not_found(client, officer, theirs):
    client = signed_in(client, officer)

    assert client.post(download_url(theirs)).status_code == 404
    assert client.get(email_url(theirs)).status_code == 404
    assert client.post(email_url(theirs), {"to_email": "me@example.com"}).status_code == 404
    assert mail.outbox == []
    assert not ReceiptIssue.objects.exists()


def test_a_cashier_who_cannot_view_payments_cannot_issue_their_receipts(client, council, payment):
    client = signed_in(client, staff(council, roles=(CASHIER,)))

    assert_permission_denied(client.post(download_url(payment)))
    assert_permission_denied(client.post(email_url(payment), {"to_email": "me@example.com"}))
    assert mail.outbox == []
    assert not ReceiptIssue.objects.exists()


# Receipt templates -----------------------------------------------------------------------


@pytest.fixture
def template_editor(council):
    """A finance administrator who may also edit receipt templates.

    Given through a group of its own, as docs/roles.md says extra rights are.
    """
    person = staff(council, roles=(FINANCE_ADMINISTRATOR,), username="receipt.editor")
    group = Group.objects.create(name="Receipt template editors")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="receipts", codename__endswith="template")
    )
    person.groups.add(group)
    return person


@pytest.fixture
def editor_client(client, template_editor):
    return signed_in(client, template_editor)


def templates_url(view="index", *args):
    return reverse(f"receipts_receipttemplate:{view}", args=args)


def draftail(*paragraphs):
    """Rich text as the admin's editor posts it (Draft.js content state)."""
    blocks = [
        {
            "key": f"b{number}",
            "type": "unstyled",
            "text": text,
            "depth": 0,
            "inlineStyleRanges": [],
            "entityRanges": [],
        }
        for number, text in enumerate(paragraphs)
    ]
    return json.dumps({"blocks": blocks, "entityMap": {}})


def form_data(**fields):
    return {
        "name": "Standard",
        "is_default": "on",
        "heading": "{council_name} receipt",
        "body": draftail("Thank you, {payer_name}."),
        "footer": draftail(),
        "colour": "#1d70b8",
        **fields,
    }


def test_a_finance_administrator_adds_a_template_with_a_logo(
    settings, tmp_path, editor_client, council, payment
):
    settings.MEDIA_ROOT = tmp_path
    logo = SimpleUploadedFile("crest.png", red_png(), content_type="image/png")

    response = editor_client.post(templates_url("add"), {**form_data(), "logo": logo})

    assert response.status_code == 302, response.context["form"].errors
    template = ReceiptTemplate.objects.get()
    assert template.organisation == council
    assert template.logo.name.startswith(f"receipts/logos/{council.pk}/")
    download = editor_client.post(download_url(payment))
    text = pdf_text(download.content)
    assert "Barsetshire Borough Council receipt" in text
    assert "Thank you, Ann Example." in text
    assert ReceiptIssue.objects.get().template == template


def test_the_template_form_explains_every_placeholder(editor_client):
    content = editor_client.get(templates_url("add")).content.decode()

    for placeholder in ("{payer_name}", "{receipt_number}", "{council_name}", "{date}"):
        assert placeholder in content


def test_a_template_with_an_unknown_placeholder_is_sent_back_with_the_reason(editor_client):
    response = editor_client.post(
        templates_url("add"), form_data(heading="For {payer}", body=draftail("{totl} paid"))
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "There is no placeholder {payer}" in str(errors["heading"])
    assert "There is no placeholder {totl}" in str(errors["body"])
    assert not ReceiptTemplate.objects.exists()


def test_a_second_default_template_is_a_form_error_not_a_crash(editor_client, council):
    ReceiptTemplate.objects.create(organisation=council, name="First", is_default=True)

    response = editor_client.post(templates_url("add"), form_data(name="Second"))

    assert response.status_code == 200
    assert "already used for every receipt" in str(response.context["form"].errors)
    assert ReceiptTemplate.objects.count() == 1


def test_a_colour_that_is_not_a_colour_is_refused(editor_client):
    response = editor_client.post(
        templates_url("add"), form_data(colour="red; } body { display: none")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["colour"]


def test_the_preview_is_a_pdf_of_a_made_up_payment(editor_client, council):
    template = ReceiptTemplate.objects.create(
        organisation=council, name="Standard", heading="Hello {payer_name}"
    )

    edit_page = editor_client.get(templates_url("edit", template.pk)).content.decode()
    response = editor_client.get(templates_url("preview", template.pk))

    assert templates_url("preview", template.pk) in edit_page
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Hello A. Sample Payer" in text
    assert "VAT summary" in text
    assert not ReceiptIssue.objects.exists()


def test_the_built_in_receipt_can_be_previewed_from_the_list(editor_client):
    index = editor_client.get(templates_url()).content.decode()
    response = editor_client.get(templates_url("preview_built_in"))

    assert templates_url("preview_built_in") in index
    assert "Thank you for your payment" in pdf_text(response.content)


@pytest.mark.parametrize("view", ["edit", "delete", "preview"])
def test_another_councils_template_is_not_found(editor_client, other_council, view):
    theirs = ReceiptTemplate.objects.create(organisation=other_council, name="Theirs")

    assert editor_client.get(templates_url(view, theirs.pk)).status_code == 404


def test_the_template_list_shows_only_the_councils_own(editor_client, council, other_council):
    ReceiptTemplate.objects.create(organisation=council, name="Ours")
    ReceiptTemplate.objects.create(organisation=other_council, name="Theirs")

    response = editor_client.get(templates_url())

    assert [template.name for template in response.context["object_list"]] == ["Ours"]


def test_staff_without_template_rights_cannot_open_or_add_templates(client, officer):
    client = signed_in(client, officer)

    assert_permission_denied(client.get(templates_url()))
    assert_permission_denied(client.post(templates_url("add"), form_data()))
    assert not ReceiptTemplate.objects.exists()
