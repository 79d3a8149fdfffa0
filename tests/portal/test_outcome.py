"""The outcome page, where the provider sends the payer back: one for every status, each
saying whether money was taken and what to do next.

On success: the receipt number, the receipt itself, its PDF to download (every
download recorded as an issue of the receipt), and the receipt emailed, once.
"""

from urllib.parse import urlsplit

import pytest
from django.core import mail

from backoffice.payments.models import Payment, PaymentStatus
from backoffice.payments.services import payment_close
from backoffice.receipts.models import IssueMethod, ReceiptIssue
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxPayment
from plugins import online

from .site import text


@pytest.fixture
def paying(bin_page, ctax_page, journey, valid_reference):
    """A basket of a bin and £12.50 of council tax, sent to the sandbox's card page."""
    journey.add(bin_page)
    journey.add(ctax_page, reference=valid_reference(ctax_page.fund), amount="12.50")
    journey.give_details()
    journey.pay()
    return Payment.objects.get()


def at_the_sandbox(payment):
    return SandboxPayment.objects.get(pk=payment.provider_reference)


def come_back(client, payment):
    return client.get(urlsplit(at_the_sandbox(payment).return_url).path)


def test_the_payer_comes_back_to_the_host_they_paid_on(paying):
    assert at_the_sandbox(paying).return_url == (
        f"http://localhost/pay/return/{online.return_token(paying)}/"
    )


# Success -------------------------------------------------------------------------------------


def test_a_paid_basket_shows_the_receipt_number_and_the_receipt(client, paying):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.SUCCEEDING_CARD.number
    )

    response = come_back(client, paying)

    paying.refresh_from_db()
    page = text(response)
    assert paying.status == PaymentStatus.SUCCESS
    assert "Payment complete" in page
    assert f"Your receipt number is {paying.receipt_number}" in page
    assert "You paid £42.50 to Barsetshire Borough Council." in page
    assert "Replacement wheelie bin" in page and "Council Tax" in page
    assert "Total £42.50" in page
    assert "Download your receipt (PDF)" in page
    assert "We have sent your receipt to pat@example.com ." in page


def test_the_receipt_is_emailed_once_however_often_the_page_is_seen(client, paying):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.SUCCEEDING_CARD.number
    )

    first = come_back(client, paying)
    again = come_back(client, paying)

    assert first.content == again.content
    assert len(mail.outbox) == 1
    paying.refresh_from_db()
    assert mail.outbox[0].to == ["pat@example.com"]
    assert paying.receipt_number in mail.outbox[0].subject
    assert mail.outbox[0].attachments[0][0] == f"receipt-{paying.receipt_number}.pdf"
    issue = ReceiptIssue.objects.get(payment=paying)
    assert (issue.how, issue.is_copy, issue.issued_by) == (IssueMethod.EMAIL, False, None)


def test_an_email_that_cannot_be_sent_is_tried_again_next_time(client, paying, settings):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.SUCCEEDING_CARD.number
    )
    settings.EMAIL_BACKEND = "tests.portal.broken_mail.BrokenBackend"

    failed = text(come_back(client, paying))

    assert "We could not email your receipt just now." in failed
    assert not ReceiptIssue.objects.filter(payment=paying).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert "We have sent your receipt to pat@example.com" in text(come_back(client, paying))
    assert len(mail.outbox) == 1


def test_the_receipt_pdf_is_downloaded_and_each_download_recorded(client, paying):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.SUCCEEDING_CARD.number
    )
    come_back(client, paying)
    paying.refresh_from_db()

    response = client.get(f"/pay/receipt/{online.return_token(paying)}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{paying.receipt_number}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    download = ReceiptIssue.objects.get(payment=paying, how=IssueMethod.DOWNLOAD)
    assert download.issued_by is None and download.is_copy  # the email was the original


def test_there_is_no_receipt_before_the_money_is_taken(client, paying):
    assert client.get(f"/pay/receipt/{online.return_token(paying)}/").status_code == 404
    assert client.get("/pay/receipt/made-up/").status_code == 404


# Not taken -----------------------------------------------------------------------------------


def test_a_declined_card_takes_nothing_and_offers_to_try_again(client, paying):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.DECLINED_CARD.number
    )

    response = come_back(client, paying)

    page = text(response)
    assert "Your payment was declined" in page
    assert "Your card was declined. No money was taken." in page
    assert "try again with another card" in page
    assert "Try again" in page and response.context["retry_url"]
    assert not mail.outbox


def test_a_cancelled_payment_takes_nothing(client, paying):
    sandbox.sandbox_payment_cancel(at_the_sandbox(paying))

    page = text(come_back(client, paying))

    assert "Your payment was cancelled" in page
    assert "You cancelled the payment. No money has been taken." in page


def test_a_payment_not_finished_in_time_takes_nothing(client, paying):
    payment_close(payment=paying, status=PaymentStatus.EXPIRED, actor="periodic-check")

    page = text(client.get(f"/pay/return/{online.return_token(paying)}/"))

    assert "Your payment timed out" in page
    assert "The payment was not finished in time. No money has been taken." in page


def test_a_provider_error_takes_nothing_and_says_what_to_do(client, paying):
    payment_close(payment=paying, status=PaymentStatus.ERROR, actor="sandbox")

    page = text(client.get(f"/pay/return/{online.return_token(paying)}/"))

    assert "Sorry, there is a problem with the payment service" in page
    assert "Something went wrong with the payment. No money has been taken." in page
    assert "Try again later." in page


def test_a_payment_still_at_the_provider_says_do_not_pay_again(client, paying):
    response = come_back(client, paying)

    page = text(response)
    assert "We are checking your payment" in page
    assert "Do not pay again." in page
    assert response.context["continue_url"].endswith(
        f"/plugins/sandbox/pay/{paying.provider_reference}/"
    )


def test_a_provider_that_cannot_be_asked_leaves_the_payment_to_the_periodic_check(
    client, paying, sandbox
):
    sandbox.is_enabled = False
    sandbox.save()

    page = text(come_back(client, paying))

    assert "We are checking your payment" in page
    assert Payment.objects.get().status == PaymentStatus.IN_PROGRESS


def test_a_made_up_return_address_is_not_found(client, paying):
    assert client.get("/pay/return/not-a-real-token/").status_code == 404


# Trying again --------------------------------------------------------------------------------


def test_try_again_puts_the_same_basket_back_to_pay_as_a_new_payment(client, paying, journey):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.DECLINED_CARD.number
    )
    come_back(client, paying)

    response = client.post(f"/pay/retry/{online.return_token(paying)}/")

    assert response["Location"] == "/check-your-answers/"
    page = text(journey.check_answers())
    assert "Replacement wheelie bin" in page and "Pay £42.50" in page and "Pat Payer" in page
    journey.pay()
    retried = Payment.objects.exclude(pk=paying.pk).get()
    assert retried.total_pence == 4_250 and retried.status == PaymentStatus.IN_PROGRESS
    assert Payment.objects.get(pk=paying.pk).status == PaymentStatus.FAILED


def test_a_paid_basket_cannot_be_tried_again(client, paying):
    sandbox.sandbox_payment_pay(
        sandbox_payment=at_the_sandbox(paying), card_number=sandbox.SUCCEEDING_CARD.number
    )
    come_back(client, paying)

    response = client.post(f"/pay/retry/{online.return_token(paying)}/")

    assert response["Location"] == f"/pay/return/{online.return_token(paying)}/"
    assert "Your basket is empty" in text(client.get("/basket/"))
