"""The Transactions screens as staff meet them: finding a payment, refunds and journals."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from wagtail.admin.admin_url_finder import AdminURLFinder

from backoffice.accounts.roles import (
    APPROVER,
    AUDITOR,
    CASHIER,
    FINANCE_ADMINISTRATOR,
    INCOME_OFFICER,
)
from backoffice.ledger.models import Journal, JournalEntry, JournalStatus
from backoffice.ledger.services import journal_request
from backoffice.payments import providers
from backoffice.payments.models import PaymentStatus, Refund, RefundStatus
from backoffice.payments.services import (
    LineInput,
    Payer,
    RefundOutcome,
    payment_close,
    payment_create,
    payment_take,
)
from tests.conftest import assert_permission_denied
from tests.factories import FundCodeFactory, staff

pytestmark = pytest.mark.django_db

THRESHOLD = 10_000  # £100.00: journals of more need a second person


@pytest.fixture
def council(council):
    council.receipt_prefix = "BAR"
    council.journal_approval_threshold_pence = THRESHOLD
    council.save()
    return council


def take(council, *lines, channel="face_to_face", method="cash", **kwargs):
    """Money taken through the service, as the counter, telephone or a provider would."""
    return payment_take(
        organisation=council, channel=channel, method=method, lines=list(lines), **kwargs
    )


@pytest.fixture
def payment(council, parking):
    """£240.00 for parking (£200.00 + VAT), paid in cash at the counter."""
    return take(
        council,
        LineInput(parking, 24_000, account_reference="PCN00012345"),
        payer=Payer(name="Ann Example", email="ann@example.com", postcode="BA1 1AA"),
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response):
    return set(response.context["object_list"])


def payment_url(payment):
    return reverse("payments_payment:inspect", args=[payment.pk])


def refund_url(payment):
    return reverse("payments_payment:refund", args=[payment.pk])


def move_url(line):
    return reverse("payments_payment:move_line", args=[line.pk])


def decide_url(journal):
    return reverse("ledger_journal:decide", args=[journal.pk])


# Who sees what ------------------------------------------------------------------------

READERS = [INCOME_OFFICER, AUDITOR, FINANCE_ADMINISTRATOR]


@pytest.mark.parametrize("role", READERS)
def test_the_payments_list_renders_for_staff_who_read_transactions(client, council, payment, role):
    response = signed_in(client, staff(council, roles=(role,))).get(
        reverse("payments_payment:index")
    )

    assert response.status_code == 200
    assert payment.receipt_number.encode() in response.content
    assert "£240.00" in response.content.decode()


@pytest.mark.parametrize("role", READERS)
def test_the_payment_page_renders_for_staff_who_read_transactions(client, council, payment, role):
    response = signed_in(client, staff(council, roles=(role,))).get(payment_url(payment))

    assert response.status_code == 200
    content = response.content.decode()
    assert payment.receipt_number in content
    assert "PCN00012345" in content
    assert "Ledger postings" in content
    assert "Status history" in content


def test_the_payment_page_shows_each_ledger_posting_of_the_payment(admin_client, payment):
    response = admin_client.get(payment_url(payment))

    entries = response.context["entries"]
    assert [entry.description for entry, _table in entries] == [f"Payment {payment.pk}"]
    amounts = sorted(posting.amount_pence for posting in entries[0][0].postings.all())
    assert amounts == [-20_000, -4_000, 24_000]


@pytest.fixture
def theirs(other_council):
    """A payment to another council."""
    fund = FundCodeFactory(organisation=other_council, allowed_channels=["face_to_face"])
    return take(other_council, LineInput(fund, 1_000, account_reference="THEIRS1"))


def test_another_councils_payment_page_is_not_found(admin_client, theirs):
    assert admin_client.get(payment_url(theirs)).status_code == 404


def test_another_councils_payment_cannot_be_refunded(client, officer, theirs):
    response = signed_in(client, officer).post(
        refund_url(theirs), {"amount": "10.00", "reason": "Mine now", "idempotency_key": "k"}
    )

    assert response.status_code == 404
    assert not Refund.objects.exists()


def test_another_councils_payment_line_cannot_be_moved(client, officer, theirs, ctax):
    response = move(signed_in(client, officer), theirs.lines.get(), ctax, "1.00")

    assert response.status_code == 404
    assert not Journal.objects.exists()


def test_wagtails_links_to_a_payment_lead_to_its_page(finance_admin, payment):
    assert AdminURLFinder(finance_admin).get_edit_url(payment) == payment_url(payment)


def test_a_cashier_is_refused_the_payments_list(client, council, payment):
    response = signed_in(client, staff(council, roles=(CASHIER,))).get(
        reverse("payments_payment:index")
    )

    assert_permission_denied(response)


def test_the_transactions_menu_shows_for_an_income_officer_but_not_a_cashier(client, council):
    officer_home = signed_in(client, staff(council, roles=(INCOME_OFFICER,))).get(
        reverse("wagtailadmin_home")
    )
    cashier_home = signed_in(client, staff(council, roles=(CASHIER,))).get(
        reverse("wagtailadmin_home")
    )

    assert b"Transactions" in officer_home.content
    assert b"Transactions" not in cashier_home.content


@pytest.mark.parametrize("view", ["add", "edit", "delete", "copy", "history", "usage"])
def test_payments_are_never_added_edited_or_deleted_through_the_admin(view):
    with pytest.raises(NoReverseMatch):
        reverse(f"payments_payment:{view}", args=[] if view == "add" else [1])


@pytest.mark.parametrize("path", ["new/", "edit/{pk}/", "delete/{pk}/"])
def test_a_request_to_a_would_be_write_url_of_a_payment_is_not_found(admin_client, payment, path):
    url = reverse("payments_payment:index") + path.format(pk=payment.pk)

    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, {"total_pence": "1.00"}).status_code == 404
    payment.refresh_from_db()
    assert payment.total_pence == 24_000


def test_the_payments_list_runs_the_same_queries_for_30_payments_as_for_3(
    admin_client, council, parking, django_assert_num_queries
):
    def add_payments(count):
        for number in range(count):
            take(council, LineInput(parking, 1_200, account_reference=f"PCN{number}"))

    url = reverse("payments_payment:index")
    add_payments(3)
    admin_client.get(url)  # the session and the like settle on the first request
    with CaptureQueriesContext(connection) as for_three:
        assert len(listed(admin_client.get(url))) == 3
    add_payments(27)

    with django_assert_num_queries(len(for_three)):
        assert len(listed(admin_client.get(url))) == 30


# Finding a payment -----------------------------------------------------------------------


@pytest.fixture
def three_payments(council, parking, ctax, valid_reference):
    return {
        "parking": take(
            council,
            LineInput(parking, 6_000, account_reference="PCN77001234"),
            payer=Payer(name="Bea Driver", email="bea@example.com", postcode="BA2 2BB"),
        ),
        "ctax": take(
            council,
            LineInput(ctax, 15_000, account_reference=valid_reference(ctax)),
            payer=Payer(name="Cy Resident", email="cy@example.org", postcode="BA3 3CC"),
            channel="telephone",
            method="card",
        ),
        "failed": payment_close(
            payment=payment_create(
                organisation=council,
                channel="online",
                method="card",
                lines=[LineInput(parking, 3_000, account_reference="PCN99000001")],
                payer=Payer(name="Di Online", email="di@example.net"),
            ),
            status=PaymentStatus.FAILED,
        ),
    }


def test_search_finds_a_payment_by_its_receipt_number(admin_client, three_payments):
    wanted = three_payments["ctax"]

    response = admin_client.get(reverse("payments_payment:index"), {"q": wanted.receipt_number})

    assert listed(response) == {wanted}


def test_search_finds_a_payment_by_part_of_an_account_reference(admin_client, three_payments):
    response = admin_client.get(reverse("payments_payment:index"), {"q": "77001"})

    assert listed(response) == {three_payments["parking"]}


def test_search_finds_a_payment_by_the_payers_email(admin_client, three_payments):
    response = admin_client.get(reverse("payments_payment:index"), {"q": "di@example.net"})

    assert listed(response) == {three_payments["failed"]}


def test_search_lists_a_payment_once_however_many_of_its_lines_match(
    admin_client, council, parking
):
    payment = take(
        council,
        LineInput(parking, 1_000, account_reference="PCN55000001"),
        LineInput(parking, 2_000, account_reference="PCN55000002"),
    )

    response = admin_client.get(reverse("payments_payment:index"), {"q": "PCN55"})

    assert list(response.context["object_list"]) == [payment]


def test_filter_by_status_lists_only_payments_in_that_status(admin_client, three_payments):
    response = admin_client.get(reverse("payments_payment:index"), {"status": "failed"})

    assert listed(response) == {three_payments["failed"]}


def test_filter_by_channel_lists_only_payments_taken_on_it(admin_client, three_payments):
    response = admin_client.get(reverse("payments_payment:index"), {"channel": "telephone"})

    assert listed(response) == {three_payments["ctax"]}


def test_filter_by_fund_code_lists_payments_with_a_line_on_it(admin_client, three_payments, ctax):
    response = admin_client.get(reverse("payments_payment:index"), {"fund_code": ctax.pk})

    assert listed(response) == {three_payments["ctax"]}


def test_filter_by_created_date_range_lists_payments_created_in_it(admin_client, three_payments):
    today = three_payments["ctax"].created_at.date().isoformat()

    within = admin_client.get(
        reverse("payments_payment:index"), {"created_from": today, "created_to": today}
    )
    before = admin_client.get(
        reverse("payments_payment:index"),
        {"created_from": "2000-01-01", "created_to": "2000-01-31"},
    )

    assert listed(within) == set(three_payments.values())
    assert listed(before) == set()


def test_the_fund_code_filter_offers_only_the_councils_own_funds(admin_client, ctax, other_council):
    FundCodeFactory(organisation=other_council, code="THEIRS")

    response = admin_client.get(reverse("payments_payment:index"))

    offered = response.context["filters"].form.fields["fund_code"].queryset
    assert "THEIRS" not in {fund.code for fund in offered}
    assert ctax in offered


# Refunds ------------------------------------------------------------------------------------


def refund_form(client, payment):
    return client.get(refund_url(payment)).context["form"]


def test_an_income_officer_sees_the_refund_button_on_a_payment_with_money_left(
    client, officer, payment
):
    response = signed_in(client, officer).get(payment_url(payment))

    assert refund_url(payment).encode() in response.content


def test_the_refund_form_offers_all_that_is_left(client, officer, payment):
    form = refund_form(signed_in(client, officer), payment)

    assert form["amount"].value() == "240.00"
    assert form["idempotency_key"].value()


def test_a_refund_through_the_form_refunds_and_changes_the_status(client, officer, payment):
    client = signed_in(client, officer)
    key = refund_form(client, payment)["idempotency_key"].value()

    response = client.post(
        refund_url(payment),
        {"amount": "40.00", "reason": "Charged twice", "idempotency_key": key},
    )

    assert response.status_code == 302
    assert response.url == payment_url(payment)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert payment.refunded_pence == 4_000
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.requested_by) == (RefundStatus.SUCCEEDED, officer)
    assert "£40.00 of BAR-00000001 refunded." in messages_of(response)


def test_a_refund_form_submitted_twice_refunds_once(client, officer, payment):
    client = signed_in(client, officer)
    data = {
        "amount": "240.00",
        "reason": "Cancelled permit",
        "idempotency_key": refund_form(client, payment)["idempotency_key"].value(),
    }

    first = client.post(refund_url(payment), data)
    second = client.post(refund_url(payment), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert Refund.objects.filter(payment=payment).count() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_pence) == (PaymentStatus.REFUNDED, 24_000)


def test_a_refund_form_sent_back_changed_after_refunding_refunds_nothing_more(
    client, officer, payment
):
    client = signed_in(client, officer)
    key = refund_form(client, payment)["idempotency_key"].value()
    client.post(refund_url(payment), {"amount": "40.00", "reason": "Part", "idempotency_key": key})

    response = client.post(
        refund_url(payment), {"amount": "50.00", "reason": "Part", "idempotency_key": key}
    )

    assert response.status_code == 200
    assert "already been used to make a refund" in str(response.context["form"].non_field_errors())
    payment.refresh_from_db()
    assert payment.refunded_pence == 4_000


def test_a_refund_of_more_than_is_left_shows_why_and_writes_nothing(client, officer, payment):
    client = signed_in(client, officer)
    entries_before = JournalEntry.objects.count()

    response = client.post(
        refund_url(payment),
        {"amount": "240.01", "reason": "Too much", "idempotency_key": "one-key"},
    )

    assert response.status_code == 200
    assert "Only £240.00 of BAR-00000001 can still be refunded" in str(
        response.context["form"].errors["amount"]
    )
    assert not Refund.objects.exists()
    assert JournalEntry.objects.count() == entries_before
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_pence) == (PaymentStatus.SUCCESS, 0)


def test_a_refund_needs_a_reason(client, officer, payment):
    response = signed_in(client, officer).post(
        refund_url(payment), {"amount": "10.00", "reason": "", "idempotency_key": "k"}
    )

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not Refund.objects.exists()


@pytest.fixture
def declining_provider():
    providers.register_refund_gateway(
        "testpay", lambda refund: RefundOutcome(accepted=False, message="Card account closed.")
    )
    yield "testpay"
    providers.unregister_refund_gateway("testpay")


def test_a_refund_the_provider_rejects_is_shown_with_the_providers_reason(
    client, council, officer, parking, declining_provider
):
    card_payment = take(
        council,
        LineInput(parking, 6_000, account_reference="PCN00060000"),
        channel="online",
        method="card",
        provider=declining_provider,
    )

    response = signed_in(client, officer).post(
        refund_url(card_payment),
        {"amount": "60.00", "reason": "Goodwill", "idempotency_key": "k"},
    )

    assert response.status_code == 302
    assert any("Card account closed." in message for message in messages_of(response))
    card_payment.refresh_from_db()
    assert (card_payment.status, card_payment.refunded_pence) == (PaymentStatus.SUCCESS, 0)


def test_an_auditor_gets_no_refund_button(client, council, payment):
    response = signed_in(client, staff(council, roles=(AUDITOR,))).get(payment_url(payment))

    assert response.status_code == 200
    assert refund_url(payment).encode() not in response.content


def test_an_auditor_is_refused_the_refund_page(client, council, payment):
    client = signed_in(client, staff(council, roles=(AUDITOR,)))

    assert_permission_denied(client.get(refund_url(payment)))
    assert_permission_denied(
        client.post(refund_url(payment), {"amount": "1.00", "reason": "No", "idempotency_key": "k"})
    )
    assert not Refund.objects.exists()


def test_a_fully_refunded_payment_offers_no_refund(client, officer, payment):
    client = signed_in(client, officer)
    client.post(refund_url(payment), {"amount": "240.00", "reason": "All", "idempotency_key": "k"})

    assert refund_url(payment).encode() not in client.get(payment_url(payment)).content
    assert client.get(refund_url(payment)).url == payment_url(payment)


# Moving money between funds -------------------------------------------------------------------


def move(client, line, to_fund, amount, reason="Paid to the wrong fund"):
    return client.post(
        move_url(line), {"to_fund_code": to_fund.pk, "amount_pence": amount, "reason": reason}
    )


def test_the_move_form_offers_the_councils_other_active_funds(
    client, officer, payment, ctax, other_council
):
    FundCodeFactory(organisation=payment.organisation, code="OLD", is_active=False)
    FundCodeFactory(organisation=other_council, code="THEIRS")
    line = payment.lines.get()

    form = signed_in(client, officer).get(move_url(line)).context["form"]

    assert list(form.fields["to_fund_code"].queryset) == [ctax]
    assert form["amount_pence"].value() == "200.00"


def test_a_move_within_the_limit_posts_at_once(client, officer, payment, ctax):
    line = payment.lines.get()

    response = move(signed_in(client, officer), line, ctax, "100.00")

    journal = Journal.objects.get(payment_line=line)
    assert journal.status == JournalStatus.POSTED
    assert journal.entry is not None
    assert response.url == payment_url(payment)
    assert any("posted" in message for message in messages_of(response))


def test_a_move_above_the_limit_waits_for_approval(client, officer, payment, ctax):
    line = payment.lines.get()

    response = move(signed_in(client, officer), line, ctax, "200.00")

    journal = Journal.objects.get(payment_line=line)
    assert (journal.status, journal.entry, journal.requested_by) == (
        JournalStatus.PENDING_APPROVAL,
        None,
        officer,
    )
    assert any("waiting for approval" in message for message in messages_of(response))


def test_the_payment_page_lists_journals_of_its_lines(client, officer, payment, ctax):
    client = signed_in(client, officer)
    move(client, payment.lines.get(), ctax, "200.00")

    response = client.get(payment_url(payment))

    assert list(response.context["journals_table"].data) == list(Journal.objects.all())


def test_money_of_a_payment_that_was_not_taken_cannot_be_moved(
    client, officer, three_payments, ctax
):
    failed = three_payments["failed"]
    client = signed_in(client, officer)

    page = client.get(payment_url(failed))
    response = move(client, failed.lines.get(), ctax, "10.00")

    assert move_url(failed.lines.get()).encode() not in page.content
    assert response.url == payment_url(failed)
    assert not Journal.objects.exists()


def test_a_move_needs_a_reason(client, officer, payment, ctax):
    response = move(signed_in(client, officer), payment.lines.get(), ctax, "10.00", reason="")

    assert "reason" in response.context["form"].errors
    assert not Journal.objects.exists()


def test_an_auditor_is_refused_the_move_page(client, council, payment):
    client = signed_in(client, staff(council, roles=(AUDITOR,)))

    assert_permission_denied(client.get(move_url(payment.lines.get())))


@pytest.fixture
def pending_journal(client, officer, payment, ctax):
    move(signed_in(client, officer), payment.lines.get(), ctax, "200.00")
    client.logout()
    return Journal.objects.get()


def test_an_approver_approves_a_waiting_journal_and_it_posts(client, approver, pending_journal):
    response = signed_in(client, approver).post(
        decide_url(pending_journal), {"decision": "approve", "decision_note": "Checked"}
    )

    assert response.url == reverse("ledger_journal:inspect", args=[pending_journal.pk])
    pending_journal.refresh_from_db()
    assert (pending_journal.status, pending_journal.decided_by) == (JournalStatus.POSTED, approver)
    assert pending_journal.entry is not None


def test_the_requester_cannot_approve_their_own_journal(client, council, parking, ctax):
    both = staff(council, roles=(INCOME_OFFICER, APPROVER))
    client = signed_in(client, both)
    line = take(council, LineInput(parking, 24_000, account_reference="PCN1")).lines.get()
    move(client, line, ctax, "200.00")
    journal = Journal.objects.get()

    response = client.post(decide_url(journal), {"decision": "approve", "decision_note": ""})

    assert response.status_code == 200
    assert "A journal must be approved by someone other than who asked for it." in messages_of(
        response
    )
    journal.refresh_from_db()
    assert journal.status == JournalStatus.PENDING_APPROVAL


def test_rejecting_a_journal_needs_a_note(client, approver, pending_journal):
    response = signed_in(client, approver).post(
        decide_url(pending_journal), {"decision": "reject", "decision_note": ""}
    )

    assert "decision_note" in response.context["form"].errors
    pending_journal.refresh_from_db()
    assert pending_journal.status == JournalStatus.PENDING_APPROVAL


def test_an_approver_rejects_a_journal_with_a_note_and_nothing_posts(
    client, approver, pending_journal
):
    signed_in(client, approver).post(
        decide_url(pending_journal), {"decision": "reject", "decision_note": "Wrong fund"}
    )

    pending_journal.refresh_from_db()
    assert (pending_journal.status, pending_journal.entry) == (JournalStatus.REJECTED, None)


def test_an_income_officer_is_refused_the_approval_page(client, officer, pending_journal):
    assert_permission_denied(signed_in(client, officer).get(decide_url(pending_journal)))


def test_the_journal_page_offers_approval_to_an_approver(client, approver, pending_journal):
    response = signed_in(client, approver).get(
        reverse("ledger_journal:inspect", args=[pending_journal.pk])
    )

    assert response.status_code == 200
    assert decide_url(pending_journal).encode() in response.content


@pytest.mark.parametrize("role", [*READERS, APPROVER])
def test_the_journals_list_renders_for_staff_who_read_transactions(
    client, council, pending_journal, role
):
    response = signed_in(client, staff(council, roles=(role,))).get(reverse("ledger_journal:index"))

    assert response.status_code == 200
    assert listed(response) == {pending_journal}


def test_the_journals_list_filters_by_status(client, approver, pending_journal):
    client = signed_in(client, approver)

    waiting = client.get(reverse("ledger_journal:index"), {"status": "pending_approval"})
    posted = client.get(reverse("ledger_journal:index"), {"status": "posted"})

    assert (listed(waiting), listed(posted)) == ({pending_journal}, set())


def test_another_councils_journal_is_not_found(client, approver, other_council):
    theirs = journal_request(
        organisation=other_council,
        from_fund_code=FundCodeFactory(organisation=other_council),
        to_fund_code=FundCodeFactory(organisation=other_council),
        amount_pence=500_000,
        reason="Theirs",
        requested_by=staff(other_council, roles=(INCOME_OFFICER,)),
    )
    client = signed_in(client, approver)

    assert client.get(reverse("ledger_journal:inspect", args=[theirs.pk])).status_code == 404
    assert client.post(decide_url(theirs), {"decision": "approve"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == JournalStatus.PENDING_APPROVAL
