"""On PostgreSQL the database itself keeps the ledger append-only and balanced.

The ORM refuses to change ledger rows already; these tests go round it with
raw SQL and bulk inserts, as a script or a careless migration might.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from backoffice.ledger.models import AccountKind, EntryKind, JournalEntry, Posting
from backoffice.ledger.services import Leg, entry_post, fund_account, system_account
from tests.factories import FundCodeFactory
from tests.markers import postgresql_only

pytestmark = postgresql_only("triggers")


@pytest.fixture
def bank(council):
    return system_account(council, AccountKind.BANK)


@pytest.fixture
def income(council):
    return fund_account(FundCodeFactory(organisation=council, code="CTAX"))


@pytest.fixture
def entry(council, bank, income):
    return entry_post(
        organisation=council,
        kind=EntryKind.PAYMENT,
        description="Council tax paid at the counter",
        legs=[Leg(bank, 1_000), Leg(income, -1_000)],
    )


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def postings_of(entry):
    return sorted(Posting.objects.filter(entry=entry).values_list("account_id", "amount_pence"))


# Append-only --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        pytest.param(
            "UPDATE ledger_posting SET amount_pence = amount_pence * 2 WHERE entry_id = %s",
            "UPDATE on ledger_posting",
            id="update a posting",
        ),
        pytest.param(
            "DELETE FROM ledger_posting WHERE entry_id = %s",
            "DELETE on ledger_posting",
            id="delete a posting",
        ),
        pytest.param(
            "UPDATE ledger_journalentry SET description = 'Something else' WHERE id = %s",
            "UPDATE on ledger_journalentry",
            id="update an entry",
        ),
        pytest.param(
            "DELETE FROM ledger_journalentry WHERE id = %s",
            "DELETE on ledger_journalentry",
            id="delete an entry",
        ),
    ],
)
def test_raw_sql_cannot_change_or_delete_ledger_rows(entry, statement, refused):
    before = postings_of(entry)

    with (
        pytest.raises(
            IntegrityError,
            match=f"ledger rows are append-only: {refused} refused; post a reversing entry",
        ),
        transaction.atomic(),
    ):
        execute(statement, [entry.pk])

    assert JournalEntry.objects.get(pk=entry.pk).description == entry.description
    assert postings_of(entry) == before


# Balanced at commit ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_postings_bulk_inserted_that_do_not_balance_are_refused_at_commit(council, bank, income):
    with (
        pytest.raises(IntegrityError, match=r"journal entry \d+ does not balance: .* sum to 1p"),
        transaction.atomic(),
    ):
        unbalanced = JournalEntry.objects.create(
            organisation=council, kind=EntryKind.PAYMENT, description="Keyed wrongly"
        )
        Posting.objects.bulk_create(
            [
                Posting(organisation=council, entry=unbalanced, account=bank, amount_pence=1_001),
                Posting(
                    organisation=council, entry=unbalanced, account=income, amount_pence=-1_000
                ),
            ]
        )

    assert not JournalEntry.objects.exists()
    assert not Posting.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_posting_added_in_raw_sql_to_a_balanced_entry_is_refused_at_commit(entry, bank):
    before = postings_of(entry)

    with (
        pytest.raises(
            IntegrityError, match=rf"journal entry {entry.pk} does not balance: .* sum to 500p"
        ),
        transaction.atomic(),
    ):
        execute(
            "INSERT INTO ledger_posting (organisation_id, entry_id, account_id, amount_pence) "
            "VALUES (%s, %s, %s, %s)",
            [entry.organisation_id, entry.pk, bank.pk, 500],
        )

    assert postings_of(entry) == before


@pytest.mark.django_db(transaction=True)
def test_an_entry_may_be_out_of_balance_inside_its_transaction_if_it_balances_at_commit(
    council, bank, income
):
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            organisation=council, kind=EntryKind.PAYMENT, description="Posted one leg at a time"
        )
        Posting.objects.create(organisation=council, entry=entry, account=bank, amount_pence=700)
        Posting.objects.create(organisation=council, entry=entry, account=income, amount_pence=-700)

    assert postings_of(entry) == sorted([(bank.pk, 700), (income.pk, -700)])
