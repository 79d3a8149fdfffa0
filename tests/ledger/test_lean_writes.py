"""``insert_rows``, ``update_row`` and ``lock_row``: plain SQL that writes what the ORM would."""

import pytest

from backoffice.ledger.models import Account, AccountKind, Journal, JournalEntry, Posting
from backoffice.ledger.services import (
    fund_account,
    insert_rows,
    lock_row,
    system_account,
    update_row,
)
from backoffice.payments.models import Payment, StatusChange
from tests.markers import postgresql_only


def test_insert_rows_sets_keys_defaults_and_timestamps(council):
    entry = JournalEntry(organisation=council, kind="payment", description="A")

    insert_rows([entry])

    stored = JournalEntry.objects.get(pk=entry.pk)
    assert (stored.kind, stored.description, stored.reason, stored.is_migration) == (
        "payment",
        "A",
        "",
        False,
    )
    assert stored.created_at == entry.created_at is not None
    assert not entry._state.adding


def test_insert_rows_writes_children_with_their_parent(council, parking):
    bank = system_account(council, AccountKind.BANK)
    fund = fund_account(parking)
    entry = JournalEntry(organisation=council, kind="payment", description="B")
    postings = [
        Posting(organisation=council, entry=entry, account=bank, amount_pence=500),
        Posting(organisation=council, entry=entry, account=fund, amount_pence=-500),
    ]

    insert_rows([entry], children=[postings])

    assert sorted(entry.postings.values_list("account", "amount_pence")) == sorted(
        [(bank.pk, 500), (fund.pk, -500)]
    )
    assert all(posting.entry_id == entry.pk for posting in postings)


def test_insert_rows_takes_children_for_one_parent_only(council):
    entries = [JournalEntry(organisation=council, kind="payment", description=str(i)) for i in "12"]
    child = StatusChange(organisation=council, to_status="created")

    with pytest.raises(ValueError, match="one parent"):
        insert_rows(entries, children=[[child]])


def test_update_row_writes_the_fields_named_and_stamps_updated_at(council, parking):
    payment = Payment.objects.create(
        organisation=council,
        channel="online",
        method="card",
        total_pence=100,
        tax_point="2026-01-01",
    )
    stamped = payment.updated_at
    payment.refunded_pence = 40
    payment.payer_name = "not written"

    update_row(payment, ["refunded_pence", "updated_at"])

    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.refunded_pence, stored.payer_name) == (40, "")
    assert stored.updated_at == payment.updated_at > stamped


def test_lock_row_reads_the_row_as_the_orm_does(council, parking):
    account = fund_account(parking)

    locked = lock_row(Account, account.pk)

    assert locked == account
    assert (locked.code, locked.kind, locked.fund_code_id) == (
        account.code,
        account.kind,
        parking.pk,
    )


def test_lock_row_of_a_missing_row_is_does_not_exist(db):
    with pytest.raises(Journal.DoesNotExist):
        lock_row(Journal, 0)


@postgresql_only("SELECT ... FOR UPDATE row locks")
def test_lock_row_locks_the_row(council, parking, django_assert_num_queries):
    account = fund_account(parking)

    with django_assert_num_queries(1) as captured:
        lock_row(Account, account.pk)

    assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE")


def test_accounts_once_committed_are_read_once(
    council, parking, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        first = fund_account(parking)

    with django_assert_num_queries(0):
        again = fund_account(parking)

    assert again.pk == first.pk


def test_accounts_of_a_transaction_rolled_back_are_not_remembered(
    council, parking, django_assert_num_queries
):
    # The test's own transaction is never committed: its commit callbacks never run.
    fund_account(parking)

    with django_assert_num_queries(1):
        fund_account(parking)
