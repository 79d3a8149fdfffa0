"""Journal entries: balanced when written, never changed afterwards."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.funds.models import FundCode
from backoffice.ledger.models import (
    Account,
    AccountKind,
    AppendOnlyError,
    EntryKind,
    JournalEntry,
    Posting,
)
from backoffice.ledger.selectors import account_balance_pence
from backoffice.ledger.services import (
    Leg,
    UnbalancedEntry,
    entry_post,
    entry_reverse,
    fund_account,
    system_account,
)
from tests.factories import FundCodeFactory


@pytest.fixture
def bank(council):
    return system_account(council, AccountKind.BANK)


@pytest.fixture
def income(council):
    return fund_account(FundCodeFactory(organisation=council, code="CTAX"))


@pytest.fixture
def vat_output(council):
    return system_account(council, AccountKind.VAT_OUTPUT)


def post(council, legs, **kwargs):
    return entry_post(
        organisation=council,
        kind=EntryKind.PAYMENT,
        description="Council tax",
        legs=legs,
        **kwargs,
    )


@pytest.fixture
def entry(council, bank, income):
    return post(council, [Leg(bank, 1_000), Leg(income, -1_000)])


def ledger_row_counts():
    return JournalEntry.objects.count(), Posting.objects.count()


# Posting --------------------------------------------------------------------------------


def test_a_balanced_entry_is_written_with_its_postings(council, bank, income, vat_output):
    entry = post(council, [Leg(bank, 1_200), Leg(income, -1_000), Leg(vat_output, -200)])

    assert sorted(entry.postings.values_list("account__code", "amount_pence")) == sorted(
        [(bank.code, 1_200), (income.code, -1_000), (vat_output.code, -200)]
    )
    assert entry.organisation == council


def test_an_unbalanced_entry_is_refused_and_writes_nothing(council, bank, income):
    before = ledger_row_counts()

    with pytest.raises(UnbalancedEntry, match="sum to zero, not 1p"):
        post(council, [Leg(bank, 1_001), Leg(income, -1_000)])

    assert ledger_row_counts() == before


def test_an_entry_of_fewer_than_two_postings_is_refused_even_when_it_sums_to_zero(council, bank):
    with pytest.raises(UnbalancedEntry, match="at least two postings"):
        post(council, [Leg(bank, 0)])

    assert ledger_row_counts() == (0, 0)


def test_legs_that_cancel_out_on_one_account_leave_too_few_postings(council, bank):
    with pytest.raises(UnbalancedEntry, match="at least two postings"):
        post(council, [Leg(bank, 500), Leg(bank, -500)])

    assert ledger_row_counts() == (0, 0)


def test_legs_on_one_account_are_merged_into_one_posting(council, bank, income):
    entry = post(council, [Leg(bank, 600), Leg(bank, 400), Leg(income, -1_000)])

    assert sorted(entry.postings.values_list("account__code", "amount_pence")) == sorted(
        [(bank.code, 1_000), (income.code, -1_000)]
    )


def test_an_account_of_another_council_is_refused(council, other_council, bank):
    theirs = system_account(other_council, AccountKind.BANK)

    with pytest.raises(ValidationError, match="belongs to another council"):
        post(council, [Leg(bank, 1_000), Leg(theirs, -1_000)])

    assert ledger_row_counts() == (0, 0)


def test_an_entry_records_who_why_and_its_source(council, bank, income, finance_admin):
    source = FundCode.objects.get(code="CTAX")

    entry = post(
        council,
        [Leg(bank, 1_000), Leg(income, -1_000)],
        created_by=finance_admin,
        reason="Paid at the counter",
        source=source,
    )

    entry = JournalEntry.objects.get(pk=entry.pk)
    assert (entry.created_by, entry.reason, entry.source) == (
        finance_admin,
        "Paid at the counter",
        source,
    )


# Reversing --------------------------------------------------------------------------------


def test_a_reversal_mirrors_every_posting_and_links_to_the_original(council, entry, bank, income):
    reversal = entry_reverse(entry=entry, reason="Keyed twice")

    assert sorted(reversal.postings.values_list("account__code", "amount_pence")) == sorted(
        [(bank.code, -1_000), (income.code, 1_000)]
    )
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses == entry
    assert JournalEntry.objects.get(pk=entry.pk).reversed_by == reversal
    assert account_balance_pence(bank) == account_balance_pence(income) == 0


def test_a_reversal_leaves_the_original_entry_as_it_was(entry):
    original = list(entry.postings.values_list("account_id", "amount_pence"))

    entry_reverse(entry=entry, reason="Keyed twice")

    assert list(entry.postings.values_list("account_id", "amount_pence")) == original


def test_an_entry_cannot_be_reversed_twice(entry):
    entry_reverse(entry=entry, reason="Keyed twice")

    with pytest.raises(ValidationError, match="already been reversed"):
        entry_reverse(entry=entry, reason="Keyed twice, again")

    assert JournalEntry.objects.count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_needs_a_reason(entry, reason):
    with pytest.raises(ValidationError, match="Say why"):
        entry_reverse(entry=entry, reason=reason)

    assert JournalEntry.objects.count() == 1


# Append-only ------------------------------------------------------------------------------


def test_a_written_entry_cannot_be_saved_again(entry):
    entry.description = "Something else"

    with pytest.raises(AppendOnlyError):
        entry.save()


def test_a_written_posting_cannot_be_saved_again(entry):
    posting = entry.postings.first()
    posting.amount_pence = 1

    with pytest.raises(AppendOnlyError):
        posting.save()


@pytest.mark.parametrize("model", [JournalEntry, Posting])
def test_a_ledger_row_cannot_be_deleted(entry, model):
    with pytest.raises(AppendOnlyError):
        model.objects.first().delete()


@pytest.mark.parametrize("model", [JournalEntry, Posting])
def test_ledger_rows_cannot_be_updated_in_bulk(entry, model):
    with pytest.raises(AppendOnlyError):
        model.objects.all().update(organisation=entry.organisation)


@pytest.mark.parametrize("model", [JournalEntry, Posting])
def test_ledger_rows_cannot_be_deleted_in_bulk(entry, model):
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()

    assert model.objects.exists()


def test_postings_cannot_be_changed_through_their_entry(entry):
    with pytest.raises(AppendOnlyError):
        entry.postings.update(amount_pence=1)


# Accounts ---------------------------------------------------------------------------------


def test_a_fund_has_one_account_however_often_it_is_asked_for(council):
    fund = FundCodeFactory(organisation=council, code="PARK", name="Parking")

    first = fund_account(fund)
    # A fresh instance, so the answer comes from the database and not the instance's cache.
    again = fund_account(FundCode.objects.get(pk=fund.pk))

    assert first == again
    assert (first.kind, first.code, first.name) == (AccountKind.FUND, "FUND-PARK", "Parking")
    assert Account.objects.filter(fund_code=fund).count() == 1


def test_the_suspense_fund_has_a_suspense_account(council):
    fund = FundCodeFactory(organisation=council, code="SUSP", is_suspense=True)

    assert fund_account(fund).kind == AccountKind.SUSPENSE


@pytest.mark.parametrize(
    "kind", [AccountKind.BANK, AccountKind.CASH_IN_TRANSIT, AccountKind.VAT_OUTPUT]
)
def test_a_council_has_one_system_account_of_each_kind(council, kind):
    first = system_account(council, kind)

    assert system_account(council, kind) == first
    assert Account.objects.filter(organisation=council, kind=kind).count() == 1


def test_each_council_has_its_own_system_accounts(council, other_council):
    assert system_account(council, AccountKind.BANK) != system_account(
        other_council, AccountKind.BANK
    )


def test_each_provider_has_its_own_clearing_account(council):
    govpay = system_account(council, AccountKind.PROVIDER_CLEARING, provider="govpay")
    stripe = system_account(council, AccountKind.PROVIDER_CLEARING, provider="stripe")

    assert govpay != stripe
    assert system_account(council, AccountKind.PROVIDER_CLEARING, provider="govpay") == govpay
    assert (govpay.provider, govpay.code) == ("govpay", "CLEARING-govpay")


def test_a_clearing_account_needs_its_provider(council):
    with pytest.raises(ValueError, match="payment provider"):
        system_account(council, AccountKind.PROVIDER_CLEARING)


def test_a_fund_account_is_not_a_system_account(council):
    with pytest.raises(ValueError, match="not a system account kind"):
        system_account(council, AccountKind.FUND)


def test_providers_whose_names_differ_only_in_case_each_get_a_clearing_account(council):
    lower = system_account(council, AccountKind.PROVIDER_CLEARING, provider="govpay")

    upper = system_account(council, AccountKind.PROVIDER_CLEARING, provider="GOVPAY")

    assert lower != upper
