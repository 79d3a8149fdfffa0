"""The till session screens as cashiers and supervisors use them, through the test client."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from backoffice.counter import services
from backoffice.counter.models import (
    Office,
    OfficeKind,
    PaymentKind,
    SessionDraft,
    SessionPayment,
    SessionStatus,
    Till,
)
from backoffice.payments.models import Payment
from backoffice.payments.services import LineInput
from tests.conftest import assert_permission_denied
from tests.counter.conftest import (
    CASHIER_PERMISSIONS,
    SUPERVISOR_PERMISSIONS,
    group_with,
    person,
)
from tests.factories import FundCodeFactory, staff

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def session_url(session):
    return reverse("counter_tillsession:inspect", args=[session.pk])


@pytest.fixture
def session(till, cashier):
    return services.till_session_open(till=till, opened_by=cashier)


@pytest.fixture
def cashier_client(client, cashier):
    return signed_in(client, cashier)


def take_form(fund, **fields):
    """What the take-payment form sends for a cash payment, changed by ``fields``."""
    return {
        "amount": "12.50",
        "fund_code": str(fund.pk),
        "account_reference": "PCN00012345",
        "kind": PaymentKind.CASH,
        "tendered": "20.00",
        "receipt": "none",
        "idempotency_key": "key-1",
        **fields,
    }


# Opening ------------------------------------------------------------------------------------


def test_a_cashier_opens_a_session_from_the_sessions_list(cashier_client, till, second_till):
    index = cashier_client.get(reverse("counter_tillsession:index"))
    assert index.status_code == 200
    assert b"Open a till session" in index.content

    form = cashier_client.get(reverse("counter_tillsession:open"))
    assert "Till 1" in form.content.decode() and "Till 2" in form.content.decode()

    response = cashier_client.post(reverse("counter_tillsession:open"), {"till": till.pk})

    session = till.sessions.get()
    assert response.status_code == 302
    assert response.url == session_url(session)
    assert session.status == SessionStatus.OPEN


def test_a_cashier_with_a_session_open_is_sent_back_to_it(cashier_client, session):
    response = cashier_client.get(reverse("counter_tillsession:open"))
    assert response.url == session_url(session)
    index = cashier_client.get(reverse("counter_tillsession:index"))
    assert b"Back to my open session" in index.content


def test_a_till_in_use_is_not_offered(client, session, second_till, council):
    other = person(council, "cashier.two", CASHIER_PERMISSIONS)
    page = signed_in(client, other).get(reverse("counter_tillsession:open")).content.decode()
    assert "Till 2" in page
    assert "Till 1" not in page


# Taking payments ----------------------------------------------------------------------------


def test_the_session_page_puts_the_cursor_in_the_amount(cashier_client, session, parking):
    page = cashier_client.get(session_url(session)).content.decode()
    assert re.search(r'<input[^>]*name="amount"[^>]*autofocus', page)
    assert 'name="idempotency_key"' in page
    assert "Take payment" in page


def test_cash_is_taken_and_the_change_is_told(cashier_client, session, parking):
    response = cashier_client.post(session_url(session), take_form(parking))

    record = SessionPayment.objects.get()
    assert response.status_code == 302
    assert response.url == session_url(session)
    assert (record.kind, record.amount_pence, record.change_pence) == ("cash", 1_250, 750)
    (message,) = messages_of(response)
    assert message == f"{record.payment.receipt_number} taken: £12.50, cash. Change to give: £7.50."


def test_the_same_form_sent_twice_takes_one_payment(cashier_client, session, parking):
    cashier_client.post(session_url(session), take_form(parking))
    again = cashier_client.post(session_url(session), take_form(parking))

    assert again.status_code == 302
    assert Payment.objects.count() == 1


def test_the_same_form_sent_again_changed_is_refused_and_nothing_doubles(
    cashier_client, session, parking
):
    cashier_client.post(session_url(session), take_form(parking))
    again = cashier_client.post(
        session_url(session), take_form(parking, amount="99.00", tendered="")
    )

    assert again.status_code == 200
    assert "already taken a payment" in again.content.decode()
    assert Payment.objects.count() == 1


def test_a_cheque_and_a_card_on_the_terminal_are_taken(cashier_client, session, parking):
    cashier_client.post(
        session_url(session),
        take_form(
            parking,
            kind=PaymentKind.CHEQUE,
            tendered="",
            cheque_number="100001",
            cheque_sort_code="123456",
            cheque_drawer="A. Payer",
            idempotency_key="k-cheque",
        ),
    )
    cashier_client.post(
        session_url(session),
        take_form(
            parking,
            kind=PaymentKind.CARD_TERMINAL,
            tendered="",
            terminal_reference="AUTH 1",
            idempotency_key="k-card",
        ),
    )
    assert sorted(SessionPayment.objects.values_list("kind", flat=True)) == [
        "card_terminal",
        "cheque",
    ]


def test_a_cheque_without_its_details_is_sent_back_with_what_is_missing(
    cashier_client, session, parking
):
    response = cashier_client.post(
        session_url(session), take_form(parking, kind=PaymentKind.CHEQUE, tendered="")
    )
    assert response.status_code == 200
    assert response.context["take_form"].errors.keys() >= {
        "cheque_number",
        "cheque_sort_code",
        "cheque_drawer",
    }
    assert not Payment.objects.exists()


def test_a_bad_reference_is_pointed_out_then_taken_into_suspense_when_the_cashier_says_so(
    cashier_client, session, ctax, suspense_fund
):
    first = cashier_client.post(
        session_url(session),
        take_form(ctax, account_reference="12345675", amount="100.00", tendered=""),
    )
    assert first.status_code == 200
    errors = first.context["take_form"].errors["account_reference"]
    assert "tick 'Take it into suspense'" in errors[0]
    assert 'name="accept_suspense"' in first.content.decode()
    assert not Payment.objects.exists()

    second = cashier_client.post(
        session_url(session),
        take_form(
            ctax, account_reference="12345675", amount="100.00", tendered="", accept_suspense="on"
        ),
    )
    (line,) = Payment.objects.get().lines.all()
    assert line.fund_code == suspense_fund
    assert "the money is in suspense" in messages_of(second)[0]


def test_an_emailed_receipt_goes_at_once(cashier_client, session, parking):
    response = cashier_client.post(
        session_url(session),
        take_form(parking, receipt="email", payer_email="ann@example.com"),
    )
    (sent,) = mail.outbox
    assert sent.to == ["ann@example.com"]
    assert sent.attachments[0][2] == "application/pdf"
    assert any("emailed to ann@example.com" in message for message in messages_of(response))


def test_a_form_sent_again_does_not_email_the_receipt_twice(cashier_client, session, parking):
    form = take_form(parking, receipt="email", payer_email="ann@example.com")
    cashier_client.post(session_url(session), form)
    cashier_client.post(session_url(session), form)
    assert len(mail.outbox) == 1
    assert Payment.objects.count() == 1


def test_a_printed_receipt_is_offered_straight_away_and_comes_as_a_pdf(
    cashier_client, session, parking
):
    response = cashier_client.post(session_url(session), take_form(parking, receipt="print"))
    record = SessionPayment.objects.get()
    assert response.url == f"{session_url(session)}?receipt={record.pk}"
    page = cashier_client.get(response.url).content.decode()
    assert "Print the receipt" in page

    pdf = cashier_client.post(reverse("counter_tillsession:receipt", args=[record.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline;")
    assert record.payment.receipt_issues.count() == 1


def test_what_is_typed_is_kept_and_shown_again_with_the_same_key(cashier_client, session, parking):
    response = cashier_client.post(
        reverse("counter_tillsession:draft", args=[session.pk]),
        {"amount": "7.25", "account_reference": "PCN9", "idempotency_key": "typed-key"},
    )
    assert response.status_code == 204

    # The browser was closed; the cashier signs in again.
    page = cashier_client.get(session_url(session))
    form = page.context["take_form"]
    assert form["amount"].value() == "7.25"
    assert form["account_reference"].value() == "PCN9"
    assert form["idempotency_key"].value() == "typed-key"


def test_the_draft_is_only_the_cashiers_own(client, session, council):
    other = person(council, "cashier.two", CASHIER_PERMISSIONS)
    response = signed_in(client, other).post(
        reverse("counter_tillsession:draft", args=[session.pk]), {"amount": "1"}
    )
    assert response.status_code == 403
    assert not SessionDraft.objects.exists()


def test_another_cashier_reads_the_session_but_cannot_take_payments_in_it(
    client, session, council, parking
):
    other = person(council, "cashier.two", CASHIER_PERMISSIONS)
    signed_in(client, other)
    page = client.get(session_url(session))
    assert page.status_code == 200
    assert page.context["take_form"] is None
    assert_permission_denied(client.post(session_url(session), take_form(parking)))
    assert not Payment.objects.exists()


# Closing and signing off --------------------------------------------------------------------


def close_form(**counts):
    data = {
        f"count_{value}": "" for value in (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)
    }
    data.update({f"count_{value}": str(number) for value, number in counts.items()})
    return data


@pytest.fixture
def with_takings(session, cashier, parking):
    services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(parking, 1_250)],
    )
    return session


def test_closing_with_a_difference_asks_why_then_records_it(cashier_client, with_takings):
    url = reverse("counter_tillsession:close", args=[with_takings.pk])
    short = close_form(**{"1000": 1, "50": 3})

    asked = cashier_client.post(url, short)
    assert asked.status_code == 200
    assert "£1.00 short of the £12.50 taken: say why" in asked.content.decode()

    closed = cashier_client.post(url, {**short, "variance_reason": "Change given wrongly"})
    assert closed.status_code == 302
    with_takings.refresh_from_db()
    assert with_takings.status == SessionStatus.CLOSED
    assert with_takings.variance_pence == -100
    assert with_takings.variance_reason == "Change given wrongly"


def test_a_supervisor_signs_off_a_closed_session(client, with_takings, cashier, supervisor):
    services.till_session_close(
        session=with_takings,
        closed_by=cashier,
        cash_counts={1000: 1, 200: 1, 50: 1},
        cheques_in_till=[],
    )
    signed_in(client, supervisor)
    page = client.get(session_url(with_takings)).content.decode()
    assert "Sign off" in page

    response = client.post(
        reverse("counter_tillsession:sign_off", args=[with_takings.pk]), {"note": "Checked"}
    )
    assert response.status_code == 302
    with_takings.refresh_from_db()
    assert with_takings.status == SessionStatus.SIGNED_OFF
    assert with_takings.signed_off_by == supervisor


def test_a_cashier_who_may_sign_off_still_cannot_sign_off_their_own(client, till, council, parking):
    both = person(council, "cashier.supervisor", CASHIER_PERMISSIONS + SUPERVISOR_PERMISSIONS)
    session = services.till_session_open(till=till, opened_by=both)
    services.till_session_close(session=session, closed_by=both, cash_counts={}, cheques_in_till=[])
    signed_in(client, both)
    assert "Sign off" not in client.get(session_url(session)).content.decode()

    response = client.post(reverse("counter_tillsession:sign_off", args=[session.pk]), {"note": ""})
    assert response.status_code == 200
    assert "someone other than the cashier" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED


def test_a_cashier_may_not_sign_off_at_all(cashier_client, with_takings, cashier):
    services.till_session_close(
        session=with_takings,
        closed_by=cashier,
        cash_counts={1000: 1, 200: 1, 50: 1},
        cheques_in_till=[],
    )
    assert_permission_denied(
        cashier_client.post(reverse("counter_tillsession:sign_off", args=[with_takings.pk]), {})
    )


# Who may see what ---------------------------------------------------------------------------


def test_another_councils_session_is_not_found(client, session, other_council):
    outsider = person(other_council, "their.cashier", CASHIER_PERMISSIONS)
    signed_in(client, outsider)
    for name in ("inspect", "close", "sign_off", "draft"):
        assert (
            client.get(reverse(f"counter_tillsession:{name}", args=[session.pk])).status_code == 404
        )


def test_another_councils_till_is_neither_offered_nor_opened(client, session, other_council, till):
    outsider = person(other_council, "their.cashier", CASHIER_PERMISSIONS)
    office = Office.objects.create(
        organisation=other_council,
        code="x",
        name="Their office",
        kind=OfficeKind.LIBRARY,
        variance_fund_code=FundCodeFactory(organisation=other_council),
    )
    Till.objects.create(organisation=other_council, office=office, code="x1", name="Their till")
    signed_in(client, outsider)

    page = client.get(reverse("counter_tillsession:open")).content.decode()
    assert "Their till" in page and "Till 1" not in page
    response = client.post(reverse("counter_tillsession:open"), {"till": till.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert till.sessions.get() == session


def test_staff_without_counter_rights_are_turned_away(client, council, session):
    nobody = staff(council, roles=(), username="no.rights")
    nobody.groups.add(group_with("admin only", ["wagtailadmin.access_admin"]))
    signed_in(client, nobody)
    assert_permission_denied(client.get(reverse("counter_tillsession:index")))
    assert_permission_denied(client.get(reverse("counter_tillsession:open")))
