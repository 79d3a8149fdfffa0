"""A payment from creation to success or failure: its lines, VAT, receipt, entry and history."""

import datetime

import pytest
from django.utils import timezone

from backoffice.ledger.models import AccountKind, EntryKind, JournalEntry
from backoffice.ledger.selectors import fund_income_pence, ledger_total_pence
from backoffice.ledger.services import system_account
from backoffice.payments.models import Method, Payment, PaymentStatus, StatusChange
from backoffice.payments.services import (
    InvalidTransition,
    LineInput,
    Payer,
    payment_close,
    payment_create,
    payment_start,
    payment_succeed,
    payment_take,
    refund_request,
)
from tests.factories import FundCodeFactory, OrganisationFactory, VatRateFactory

UNSUCCESSFUL = [
    PaymentStatus.FAILED,
    PaymentStatus.CANCELLED,
    PaymentStatus.EXPIRED,
    PaymentStatus.ERROR,
]


@pytest.fixture
def council(council):
    council.receipt_prefix = "BAR"
    council.save()
    return council


def create(council, *lines, channel="online", method="card", **kwargs):
    return payment_create(
        organisation=council, channel=channel, method=method, lines=list(lines), **kwargs
    )


def take(council, *lines, channel="face_to_face", method="cash", **kwargs):
    return payment_take(
        organisation=council, channel=channel, method=method, lines=list(lines), **kwargs
    )


def parking_line(parking, amount_pence):
    return LineInput(parking, amount_pence, account_reference="PCN123")


def postings(entry):
    return sorted(entry.postings.values_list("account__code", "amount_pence"))


def payment_entries(payment):
    return JournalEntry.objects.filter(kind=EntryKind.PAYMENT, source_id=payment.pk)


def history(payment):
    return list(payment.status_changes.values_list("from_status", "to_status"))


# Creating -------------------------------------------------------------------------------


def test_a_new_payment_records_its_lines_and_posts_nothing(
    council, ctax, parking, valid_reference, officer
):
    reference = valid_reference(ctax)

    payment = create(
        council,
        LineInput(ctax, 15_000, account_reference=reference, narrative="Instalment"),
        parking_line(parking, 1_200),
        payer=Payer(name="A. Payer", email="payer@example.com"),
        created_by=officer,
    )

    assert payment.status == PaymentStatus.CREATED
    assert payment.total_pence == 16_200
    assert payment.receipt_number is None
    assert (payment.payer_name, payment.payer_email) == ("A. Payer", "payer@example.com")
    assert list(
        payment.lines.values_list("fund_code__code", "account_reference", "gross_pence")
    ) == [
        ("CTAX", reference, 15_000),
        ("PARK", "PCN123", 1_200),
    ]
    assert JournalEntry.objects.count() == 0


def test_the_vat_of_a_line_is_the_vat_fraction_of_what_the_payer_pays(council, parking, vat20):
    payment = create(council, parking_line(parking, 1_200))

    line = payment.lines.get()
    assert (line.gross_pence, line.net_pence, line.vat_pence) == (1_200, 1_000, 200)
    assert line.vat_rate == vat20


def test_the_vat_of_a_line_is_rounded_half_up_to_the_penny(council, parking):
    # £18.03 at 20% holds 300.5p of VAT: 301p, where rounding half to even would give 300p.
    payment = create(council, parking_line(parking, 1_803))

    line = payment.lines.get()
    assert (line.net_pence, line.vat_pence) == (1_502, 301)


def test_vat_is_worked_out_line_by_line_not_on_the_total(council, parking):
    # 3p holds 0.5p of VAT, which rounds to 1p on each line; on the 6p total it would be 1p.
    payment = create(council, parking_line(parking, 3), parking_line(parking, 3))

    assert list(payment.lines.values_list("vat_pence", flat=True)) == [1, 1]


def test_vat_is_worked_out_at_the_rate_in_force_on_the_tax_point_date(council):
    rate = VatRateFactory(
        organisation=council,
        code="S2",
        percentages=[(datetime.date(2010, 1, 1), "17.5"), (datetime.date(2011, 1, 4), "20")],
    )
    fund = FundCodeFactory(organisation=council, default_vat_rate=rate)

    payment = create(
        council,
        LineInput(fund, 1_175, account_reference="HIRE-1"),
        tax_point=datetime.date(2010, 6, 1),
    )

    assert payment.lines.get().vat_pence == 175
    assert payment.tax_point == datetime.date(2010, 6, 1)


def test_the_tax_point_is_today_unless_one_is_given(council, parking):
    payment = create(council, parking_line(parking, 1_200))

    assert payment.tax_point == timezone.localdate()


def test_a_new_payment_records_its_first_status_and_who_created_it(council, parking, officer):
    payment = create(council, parking_line(parking, 1_200), created_by=officer)

    change = StatusChange.objects.get(payment=payment)
    assert (change.from_status, change.to_status, change.changed_by) == (
        "",
        PaymentStatus.CREATED,
        officer,
    )


# Moving ---------------------------------------------------------------------------------


def test_starting_a_payment_puts_it_in_progress_with_the_providers_reference(council, parking):
    payment = create(council, parking_line(parking, 1_200), provider="govpay")

    payment = payment_start(payment=payment, provider_reference="pay_123", actor="govpay")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert payment.provider_reference == "pay_123"


def test_starting_a_payment_twice_records_one_move(council, parking):
    payment = create(council, parking_line(parking, 1_200))

    payment_start(payment=payment)
    payment_start(payment=payment)

    assert history(payment) == [
        ("", PaymentStatus.CREATED),
        (PaymentStatus.CREATED, PaymentStatus.IN_PROGRESS),
    ]


def test_every_move_is_recorded_with_who_or_what_moved_it_and_why(council, parking, officer):
    payment = create(council, parking_line(parking, 1_200), created_by=officer)

    payment_start(payment=payment, actor="govpay", reason="Payer sent to GOV.UK Pay")
    payment_succeed(payment=payment, changed_by=officer, reason="Confirmed by phone")

    moves = payment.status_changes.values_list(
        "from_status", "to_status", "changed_by", "actor", "reason"
    )
    assert list(moves) == [
        ("", PaymentStatus.CREATED, officer.pk, "", ""),
        (
            PaymentStatus.CREATED,
            PaymentStatus.IN_PROGRESS,
            None,
            "govpay",
            "Payer sent to GOV.UK Pay",
        ),
        (
            PaymentStatus.IN_PROGRESS,
            PaymentStatus.SUCCESS,
            officer.pk,
            "",
            "Confirmed by phone",
        ),
    ]


# Success --------------------------------------------------------------------------------


def test_success_issues_the_councils_first_receipt_number(council, parking):
    payment = payment_succeed(payment=create(council, parking_line(parking, 1_200)))

    assert payment.status == PaymentStatus.SUCCESS
    assert payment.receipt_number == "BAR-00000001"
    assert payment.completed_at is not None


def test_receipt_numbers_follow_on_from_the_last(council, parking):
    payment_succeed(payment=create(council, parking_line(parking, 1_200)))

    second = payment_succeed(payment=create(council, parking_line(parking, 500)))

    assert second.receipt_number == "BAR-00000002"


def test_each_council_numbers_its_receipts_from_one(council, parking, other_council):
    other_council.receipt_prefix = "WES"
    other_council.save()
    theirs = FundCodeFactory(organisation=other_council)
    payment_succeed(payment=create(council, parking_line(parking, 1_200)))

    payment = payment_succeed(payment=create(other_council, LineInput(theirs, 500, "A1")))

    assert payment.receipt_number == "WES-00000001"


def test_a_council_without_a_receipt_prefix_gets_the_bare_number(db):
    council = OrganisationFactory(code="plain", name="Plain Council")
    fund = FundCodeFactory(organisation=council)

    payment = payment_succeed(payment=create(council, LineInput(fund, 500, "A1")))

    assert payment.receipt_number == "00000001"


def test_success_posts_one_balanced_entry_crediting_each_fund_its_net_and_vat_its_vat(
    council, ctax, parking, valid_reference
):
    payment = create(
        council,
        LineInput(ctax, 15_000, account_reference=valid_reference(ctax)),
        parking_line(parking, 1_200),
        provider="govpay",
    )

    payment_succeed(payment=payment)

    entry = payment_entries(payment).get()
    assert entry.source == Payment.objects.get(pk=payment.pk)
    assert postings(entry) == [
        ("CLEARING-govpay", 16_200),
        ("FUND-CTAX", -15_000),
        ("FUND-PARK", -1_000),
        ("VAT-OUTPUT", -200),
    ]
    assert fund_income_pence(ctax) == 15_000
    assert fund_income_pence(parking) == 1_000
    assert ledger_total_pence(council) == 0


def test_a_payment_without_vat_posts_nothing_to_vat_output(council, ctax, valid_reference):
    payment = create(council, LineInput(ctax, 15_000, account_reference=valid_reference(ctax)))

    payment_succeed(payment=payment)

    assert "VAT-OUTPUT" not in dict(postings(payment_entries(payment).get()))


def test_success_repeated_keeps_the_receipt_number_and_posts_once(council, parking):
    payment = create(council, parking_line(parking, 1_200))
    first = payment_succeed(payment=payment, actor="govpay")

    again = payment_succeed(payment=payment, actor="govpay")

    assert again.receipt_number == first.receipt_number == "BAR-00000001"
    assert payment_entries(payment).count() == 1
    assert history(payment) == [("", PaymentStatus.CREATED), (PaymentStatus.CREATED, "success")]


@pytest.mark.parametrize(
    ("provider", "method", "account"),
    [
        ("govpay", Method.CARD, "CLEARING-govpay"),
        ("", Method.CASH, "CASH-IN-TRANSIT"),
        ("", Method.CHEQUE, "CASH-IN-TRANSIT"),
        ("", Method.BANK_TRANSFER, "BANK"),
    ],
)
def test_the_money_is_debited_to_where_it_is_until_banked(
    council, parking, provider, method, account
):
    payment = create(
        council,
        parking_line(parking, 1_200),
        channel="telephone",
        method=method,
        provider=provider,
    )

    payment_succeed(payment=payment)

    assert (account, 1_200) in postings(payment_entries(payment).get())


def test_a_provider_payment_is_debited_to_that_providers_own_clearing_account(council, parking):
    for provider in ("govpay", "stripe"):
        payment_succeed(payment=create(council, parking_line(parking, 1_200), provider=provider))

    govpay = system_account(council, AccountKind.PROVIDER_CLEARING, provider="govpay")
    stripe = system_account(council, AccountKind.PROVIDER_CLEARING, provider="stripe")
    assert govpay != stripe
    assert govpay.postings.count() == stripe.postings.count() == 1


# Not taken ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", UNSUCCESSFUL)
def test_a_payment_that_did_not_happen_posts_nothing_and_has_no_receipt(council, parking, status):
    payment = create(council, parking_line(parking, 1_200))

    payment = payment_close(payment=payment, status=status, actor="govpay", reason="Timed out")

    payment.refresh_from_db()
    assert payment.status == status
    assert payment.receipt_number is None
    assert JournalEntry.objects.count() == 0
    assert history(payment)[-1] == (PaymentStatus.CREATED, status)


@pytest.mark.parametrize("status", UNSUCCESSFUL)
def test_a_payment_in_progress_can_end_unsuccessfully(council, parking, status):
    payment = payment_start(payment=create(council, parking_line(parking, 1_200)))

    assert payment_close(payment=payment, status=status).status == status


def test_closing_a_payment_twice_with_the_same_status_records_one_move(council, parking):
    payment = create(council, parking_line(parking, 1_200))

    payment_close(payment=payment, status=PaymentStatus.FAILED)
    payment_close(payment=payment, status=PaymentStatus.FAILED)

    assert history(payment) == [("", "created"), ("created", "failed")]


def test_closing_is_only_for_statuses_in_which_the_payment_did_not_happen(council, parking):
    payment = create(council, parking_line(parking, 1_200))

    with pytest.raises(ValueError, match="not 'success'"):
        payment_close(payment=payment, status=PaymentStatus.SUCCESS)


# Forbidden moves ------------------------------------------------------------------------


def test_a_failed_payment_cannot_succeed(council, parking):
    payment = payment_close(
        payment=create(council, parking_line(parking, 1_200)), status=PaymentStatus.FAILED
    )

    with pytest.raises(InvalidTransition, match="is failed; it cannot become successful"):
        payment_succeed(payment=payment)

    payment.refresh_from_db()
    assert (payment.status, payment.receipt_number) == (PaymentStatus.FAILED, None)
    assert JournalEntry.objects.count() == 0
    assert history(payment) == [("", "created"), ("created", "failed")]


def test_a_successful_payment_cannot_go_back_in_progress(council, parking):
    payment = payment_succeed(payment=create(council, parking_line(parking, 1_200)))

    with pytest.raises(
        InvalidTransition, match="BAR-00000001 is successful; it cannot become in progress"
    ):
        payment_start(payment=payment)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS


def test_a_successful_payment_cannot_fail(council, parking):
    payment = payment_succeed(payment=create(council, parking_line(parking, 1_200)))

    with pytest.raises(InvalidTransition, match="it cannot become failed"):
        payment_close(payment=payment, status=PaymentStatus.FAILED)


def test_a_cancelled_payment_cannot_be_started(council, parking):
    payment = payment_close(
        payment=create(council, parking_line(parking, 1_200)), status=PaymentStatus.CANCELLED
    )

    with pytest.raises(InvalidTransition, match="is cancelled; it cannot become in progress"):
        payment_start(payment=payment)


def test_a_refunded_payment_cannot_succeed_again(council, parking, officer):
    payment = take(council, parking_line(parking, 1_200))
    refund_request(payment=payment, amount_pence=1_200, reason="Cancelled", requested_by=officer)

    with pytest.raises(InvalidTransition, match="is refunded; it cannot become successful"):
        payment_succeed(payment=payment)


# Taking money in hand -------------------------------------------------------------------


def test_taking_a_payment_creates_and_completes_it_in_one_go(council, parking, officer):
    payment = take(council, parking_line(parking, 1_200), created_by=officer)

    assert payment.status == PaymentStatus.SUCCESS
    assert payment.receipt_number == "BAR-00000001"
    assert payment_entries(payment).count() == 1
    assert list(payment.status_changes.values_list("to_status", "changed_by", "reason")) == [
        (PaymentStatus.CREATED, officer.pk, ""),
        (PaymentStatus.SUCCESS, officer.pk, "Money received"),
    ]


def test_taking_a_payment_keeps_the_providers_reference(council, parking):
    payment = take(
        council,
        parking_line(parking, 1_200),
        method="card",
        provider="pdq",
        provider_reference="auth-789",
    )

    assert Payment.objects.get(pk=payment.pk).provider_reference == "auth-789"
