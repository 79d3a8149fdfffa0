"""The indexes transaction search needs, on PostgreSQL only.

They live here rather than in ``Payment.Meta.indexes`` because most are
PostgreSQL-only (pg_trgm GIN indexes over expressions, for partial matches)
and because they belong to the search: what it looks up decides them, and
docs/search.md explains each. On SQLite (a laptop) this migration does
nothing and searches scan, which is fine at laptop sizes.

Built ``CONCURRENTLY`` (so the migration is not atomic): on a council's
table of millions of payments, a plain ``CREATE INDEX`` would stop every
payment being taken for the minutes the build takes.
"""

from django.db import migrations

# (name, table, definition): each index starts with organisation where it is a btree,
# so that a council's rows are together; trigram indexes cannot (see docs/search.md).
INDEXES = [
    # Partial matches ("contains", case-insensitive) through trigrams.
    ("search_payment_payer_name_trgm", "payments_payment", "USING gin (payer_name gin_trgm_ops)"),
    ("search_payment_payer_email_trgm", "payments_payment", "USING gin (payer_email gin_trgm_ops)"),
    (
        "search_payment_postcode_trgm",
        "payments_payment",
        "USING gin ((replace(postcode, ' ', '')) gin_trgm_ops)",
    ),
    (
        "search_payment_provider_ref_trgm",
        "payments_payment",
        "USING gin (provider_reference gin_trgm_ops)",
    ),
    (
        "search_line_reference_trgm",
        "payments_paymentline",
        "USING gin (account_reference gin_trgm_ops)",
    ),
    # Exact lookups and the filters that can be rare, newest first within each.
    (
        "search_line_reference_exact",
        "payments_paymentline",
        "(organisation_id, upper(account_reference))",
    ),
    ("search_payment_amount", "payments_payment", "(organisation_id, total_pence, created_at)"),
    ("search_payment_taken_by", "payments_payment", "(organisation_id, created_by_id, created_at)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, definition in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {definition}"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    # The extension stays: other things may use it, and it costs nothing unused.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
