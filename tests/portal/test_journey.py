"""The payer's journey: the payments home, a service's pages, the basket, their details,
"Check your answers" and "Pay", which sends them to the provider's card page.

And its safety: the same basket paid twice (a double click, the back button) is
one payment sent to the provider once; every item is checked again before it is
paid for; a changed price is shown before it is taken; the payer can find their
way back to a payment they left.
"""

from urllib.parse import urlsplit

import pytest

from backoffice.payments.models import Payment, PaymentStatus
from backoffice.portal.models import Checkout
from integrations.sandbox.models import SandboxPayment
from plugins import online

from .site import payments_home, text


def card_page_path(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response["Location"]).path


# Finding what to pay for ---------------------------------------------------------------------


def test_the_payments_home_lists_what_can_be_paid(client, home, bin_page, ctax_page):
    page = text(client.get("/"))

    assert "Order a replacement wheelie bin" in page and "Pay your council tax" in page


def test_a_draft_page_is_not_listed_and_cannot_be_paid(client, home, bin_page, journey):
    bin_page.unpublish()

    assert "Order a replacement wheelie bin" not in text(client.get("/"))
    assert client.get("/replacement-bin/").status_code == 404
    assert journey.add(bin_page).status_code == 404


def test_a_service_page_says_what_the_payer_needs_and_the_price(client, bin_page, bins):
    bins.payer_message = "Bins are delivered on weekdays."
    bins.save()

    page = text(client.get("/replacement-bin/"))

    assert "It costs £30.00" in page
    assert "Bins are delivered on weekdays." in page
    assert "Start now" in page


def test_each_council_sees_only_its_own_site(client, home, ctax_page, other_council):
    payments_home(other_council, slug="wessex", title="Pay Wessex", hostname="pay.wessex.example")

    theirs = client.get("/", HTTP_HOST="pay.wessex.example")

    assert "Pay Wessex" in text(theirs) and "Pay your council tax" not in text(theirs)
    assert client.get("/council-tax/", HTTP_HOST="pay.wessex.example").status_code == 404


# Filling the basket --------------------------------------------------------------------------


def test_a_good_item_goes_in_the_basket(client, ctax_page, journey, valid_reference):
    reference = valid_reference(ctax_page.fund)

    response = journey.add(ctax_page, reference=reference, amount="£12.5")

    assert response.status_code == 302 and response["Location"] == "/basket/"
    basket = text(client.get("/basket/"))
    assert reference in basket and "£12.50" in basket and "Total to pay: £12.50" in basket


def test_a_bad_item_is_shown_again_with_the_gov_uk_error_summary(client, ctax_page, journey):
    response = journey.add(ctax_page, reference="12345670", amount="12.505")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: Pay your council tax" in html
    assert 'class="govuk-error-summary"' in html
    assert 'href="#id_reference"' in html and 'href="#id_amount"' in html
    assert "Enter an amount in pounds and pence, like 12.50" in html
    assert 'value="12345670"' in html  # what was typed stays, to be corrected
    assert text(client.get("/basket/")).count("Your basket is empty") == 1


def test_a_posted_price_for_a_fixed_price_service_is_refused(client, bin_page, journey):
    response = journey.add(bin_page, amount="0.01")

    assert response.status_code == 200
    assert "The price of Replacement wheelie bin is £30.00. It cannot be changed." in text(response)
    assert "Your basket is empty" in text(client.get("/basket/"))


def test_an_item_is_changed_in_place(client, ctax_page, journey, valid_reference):
    reference = valid_reference(ctax_page.fund)
    journey.add(ctax_page, reference=reference, amount="10")
    change_url = client.get("/basket/").context["rows"][0]["change_url"]

    assert 'value="10.00"' in client.get(change_url).content.decode()
    client.post(change_url, {"reference": reference, "amount": "15"})

    rows = client.get("/basket/").context["rows"]
    assert [row["amount"] for row in rows] == ["£15.00"]


def test_removing_an_item_asks_first(client, bin_page, ctax_page, journey, valid_reference):
    journey.add(bin_page)
    journey.add(ctax_page, reference=valid_reference(ctax_page.fund), amount="10")
    bin_item = client.get("/basket/").context["rows"][0]["item"]

    question = client.get(f"/basket/remove/?item={bin_item.id}")
    assert "Are you sure you want to remove Replacement wheelie bin (£30.00)" in text(question)
    assert len(client.get("/basket/").context["rows"]) == 2

    client.post("/basket/remove/", {"item": bin_item.id})
    basket = client.get("/basket/")
    assert [row["item"].description for row in basket.context["rows"]] == ["Council Tax"]
    assert "Replacement wheelie bin has been removed from your basket." in text(basket)


# The payer's details -------------------------------------------------------------------------


def test_the_address_is_asked_for_only_when_a_fund_collects_it(
    client, bin_page, ctax_page, journey, valid_reference
):
    journey.add(ctax_page, reference=valid_reference(ctax_page.fund), amount="10")
    assert "address_line_1" not in client.get("/your-details/").context["form"].fields

    journey.add(bin_page)
    assert "address_line_1" in client.get("/your-details/").context["form"].fields


def test_details_are_checked_in_the_gov_uk_words(client, bin_page, journey):
    journey.add(bin_page)

    response = journey.give_details(name="", email="pat@", postcode="nowhere")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["Enter your full name"],
        "email": ["Enter an email address in the correct format, like name@example.com"],
        "postcode": ["Enter a full UK postcode, like AA3 1AB"],
    }


def test_details_too_long_to_keep_are_refused_in_words(client, bin_page, journey):
    journey.add(bin_page)

    response = journey.give_details(name="P" * 201)

    assert response.context["form"].errors == {
        "name": ["Full name must be 200 characters or fewer"]
    }


def test_check_your_answers_shows_every_item_and_the_payer(
    client, bin_page, ctax_page, journey, valid_reference
):
    reference = valid_reference(ctax_page.fund)
    journey.add(bin_page)
    journey.add(ctax_page, reference=reference, amount="12.50")
    assert journey.give_details(postcode="ba11aa")["Location"] == "/check-your-answers/"

    page = text(journey.check_answers())

    assert "Replacement wheelie bin" in page and reference in page
    assert "Total to pay £42.50" in page
    assert "Pat Payer" in page and "pat@example.com" in page and "BA1 1AA" in page
    assert "Pay £42.50" in page


def test_check_your_answers_needs_a_basket_and_details_first(client, home, bin_page, journey):
    assert client.get("/check-your-answers/")["Location"] == "/basket/"
    journey.add(bin_page)
    assert client.get("/check-your-answers/")["Location"] == "/your-details/"


# Paying --------------------------------------------------------------------------------------


@pytest.fixture
def two_items(bin_page, ctax_page, journey, valid_reference):
    journey.add(bin_page)
    journey.add(ctax_page, reference=valid_reference(ctax_page.fund), amount="12.50")
    journey.give_details()
    return journey


def test_pay_makes_one_online_payment_of_the_basket_and_sends_the_payer_to_the_card_page(
    council, two_items, ctax
):
    response = two_items.pay()

    payment = Payment.objects.get()
    assert card_page_path(response) == f"/plugins/sandbox/pay/{payment.provider_reference}/"
    assert (payment.channel, payment.status, payment.provider) == (
        "online",
        PaymentStatus.IN_PROGRESS,
        "sandbox",
    )
    assert payment.total_pence == 4_250 and payment.payer_email == "pat@example.com"
    assert [(line.fund_code.code, line.gross_pence) for line in payment.lines.all()] == [
        ("BINS", 3_000),
        ("CTAX", 1_250),
    ]
    assert payment.lines.first().service.name == "Replacement wheelie bin"
    assert Checkout.objects.get(payment=payment).provider_url.endswith(
        f"/plugins/sandbox/pay/{payment.provider_reference}/"
    )


def test_pressing_pay_twice_is_one_payment_and_one_card_page(two_items):
    token = two_items.basket_token()

    first = two_items.pay(token)
    second = two_items.pay(token)

    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    assert SandboxPayment.objects.count() == 1


def test_the_back_button_after_paying_never_pays_again(client, two_items):
    token = two_items.basket_token()
    payment_page = two_items.pay(token)
    payment = Payment.objects.get()
    sandbox_payment = SandboxPayment.objects.get()
    from integrations.sandbox import services as sandbox

    sandbox.sandbox_payment_pay(
        sandbox_payment=sandbox_payment, card_number=sandbox.SUCCEEDING_CARD.number
    )
    client.get(urlsplit(sandbox_payment.return_url).path)  # the payer comes back

    again = two_items.pay(token)  # back to "Check your answers", and "Pay" again

    assert again["Location"] == f"/pay/return/{online.return_token(payment)}/"
    assert Payment.objects.count() == 1 and SandboxPayment.objects.count() == 1
    assert payment_page["Location"] != again["Location"]
    assert "Your basket is empty" in text(client.get("/basket/"))


def test_a_changed_basket_is_a_new_payment(two_items, ctax_page, valid_reference):
    first = two_items.pay()
    two_items.add(ctax_page, reference=valid_reference(ctax_page.fund, "7654321"), amount="1")

    second = two_items.pay()

    assert Payment.objects.count() == 2
    assert first["Location"] != second["Location"]


def test_a_page_from_before_the_basket_changed_cannot_pay(
    client, two_items, ctax_page, valid_reference
):
    stale = two_items.basket_token()
    two_items.add(ctax_page, reference=valid_reference(ctax_page.fund, "7654321"), amount="1")

    response = two_items.pay(stale)

    assert response["Location"] == "/check-your-answers/"
    assert not Payment.objects.exists()
    assert "Your basket has changed since that page was shown." in text(
        client.get("/check-your-answers/")
    )


def test_every_item_is_checked_again_at_pay(client, two_items, ctax):
    token = two_items.basket_token()
    ctax.is_active = False
    ctax.save()

    response = two_items.pay(token)

    assert response["Location"] == "/check-your-answers/"
    assert not Payment.objects.exists()
    page = client.get("/check-your-answers/")
    assert "Council Tax: Council Tax cannot be paid for online at the moment." in text(page)
    assert "Pay £" not in text(page)


def test_a_price_changed_before_pay_is_shown_before_it_is_taken(client, two_items, bin_service):
    token = two_items.basket_token()
    bin_service.price_pence = 3_500
    bin_service.save()

    response = two_items.pay(token)

    assert response["Location"] == "/check-your-answers/"
    assert not Payment.objects.exists()
    page = text(client.get("/check-your-answers/"))
    assert "The price of Replacement wheelie bin is now £35.00." in page
    assert "Pay £47.50" in page
    two_items.pay()
    assert Payment.objects.get().total_pence == 4_750


def test_without_a_provider_nothing_is_taken_and_the_payer_is_told(client, two_items, sandbox):
    sandbox.is_enabled = False
    sandbox.save()

    response = two_items.pay()

    assert response["Location"] == "/check-your-answers/"
    assert not Payment.objects.exists()
    assert "Sorry, payments cannot be taken online at the moment." in text(
        client.get("/check-your-answers/")
    )


def test_a_provider_that_cannot_be_reached_leaves_a_payment_to_try_again(
    client, two_items, monkeypatch
):
    from plugins.types import ProviderError

    def unreachable(**kwargs):
        raise ProviderError("timed out")

    token = two_items.basket_token()
    monkeypatch.setattr(online, "payment_begin", unreachable)
    response = two_items.pay(token)

    assert response["Location"] == "/check-your-answers/"
    assert "we could not reach the payment service. No money has been taken." in text(
        client.get("/check-your-answers/")
    )
    assert Payment.objects.get().status == PaymentStatus.CREATED
    monkeypatch.undo()

    assert card_page_path(two_items.pay(token)).startswith("/plugins/sandbox/pay/")
    assert Payment.objects.get().status == PaymentStatus.IN_PROGRESS


# Coming back to a payment --------------------------------------------------------------------


def test_a_payer_who_closed_the_tab_is_offered_the_way_back(client, two_items):
    card_page = two_items.pay()["Location"]
    payment = Payment.objects.get()

    home_page = client.get("/")  # a new tab, later

    assert "You have started a payment of £42.50 that is not finished." in text(home_page)
    outcome = client.get(f"/pay/return/{online.return_token(payment)}/")
    assert "We are checking your payment" in text(outcome)
    assert outcome.context["continue_url"] == card_page
    assert "Continue your payment" in text(outcome)
