"""Search terms: trigram indexes over each council's distinct texts, not over every payment.

0001 put trigram indexes on the payments' own columns. At tens of millions
of payments, any part of a common surname has tens of thousands of entries
there, and a look-up reads them all (tens of milliseconds) before it knows
whether it found five payments or five thousand. People pay again and again
under the same name, from the same postcode, against the same account, so
each council's distinct texts are a small fraction of its payments:

- ``search_searchterm`` holds them (``models.SearchTerm``), in capitals as the
  filters compare them; partial GIN trigram indexes, one for each kind of
  text, with the council first (``btree_gin``), find the texts containing
  what was typed;
- a btree on each column, over the filter's own expression and starting with
  the council, takes those texts to their payments (lines already have one
  for whole references);
- triggers on the payments tables add the texts of every payment and line
  written, however it is written (a statement-level trigger on insert, so a
  ``COPY`` of a bank file adds its texts in one statement); existing rows are
  added once the triggers are in place, so nothing written meanwhile is
  missed;
- the payments' own trigram indexes on those columns are dropped; the
  provider reference keeps one (each is unique, so a list of them would be
  as long as the payments), now with the council first;
- the planner is told that a fund code's lines are all one council's
  (extended statistics), so that a search by fund code is planned right.

PostgreSQL only: on SQLite (a laptop) the table is created and stays empty,
and the search does not use it. Indexes are built ``CONCURRENTLY`` (so the
migration is not atomic), so that a live council's tables keep taking
payments meanwhile.
"""

import django.db.models.deletion
from django.db import migrations, models

TERMS = "search_searchterm"
KINDS = ("name", "email", "postcode", "reference")

# (kind, expression): the text of each kind, written as PostgreSQL stores the expression
# the filter compiles to ({row} is where the row's name goes, if any).
# tests/search/test_selectors.py checks that the look-ups use the indexes over them.
PAYMENT_TEXTS = [
    ("name", "upper(({row}payer_name)::text)"),
    ("email", "upper(({row}payer_email)::text)"),
    ("postcode", "upper(replace(({row}postcode)::text, ' '::text, ''::text))"),
]
LINE_TEXTS = [("reference", "upper(({row}account_reference)::text)")]

BTREES = [
    ("search_payment_payer_name", "payments_payment", PAYMENT_TEXTS[0][1].format(row="")),
    ("search_payment_payer_email", "payments_payment", PAYMENT_TEXTS[1][1].format(row="")),
    ("search_payment_postcode", "payments_payment", PAYMENT_TEXTS[2][1].format(row="")),
]
OLD_TRIGRAM_INDEXES = [
    ("search_payment_payer_name_trgm", "payments_payment", "(payer_name gin_trgm_ops)"),
    ("search_payment_payer_email_trgm", "payments_payment", "(payer_email gin_trgm_ops)"),
    (
        "search_payment_postcode_trgm",
        "payments_payment",
        "((replace(postcode, ' ', '')) gin_trgm_ops)",
    ),
    ("search_payment_provider_ref_trgm", "payments_payment", "(provider_reference gin_trgm_ops)"),
    ("search_line_reference_trgm", "payments_paymentline", "(account_reference gin_trgm_ops)"),
]
PROVIDER_REFERENCE = (
    "search_payment_provider_ref_org_trgm",
    "payments_payment",
    "(organisation_id, upper((provider_reference)::text) gin_trgm_ops)",
)
CONFLICT = " ON CONFLICT (organisation_id, kind, term) DO NOTHING"
STATISTICS = "search_line_council_fund"


def _values(texts, row: str) -> str:
    return ", ".join(f"('{kind}', {expression.format(row=row)})" for kind, expression in texts)


def _terms_of(source: str, texts) -> str:
    """INSERT of the distinct (council, kind, text) of the rows of ``source``, blanks left out."""
    return (
        f"INSERT INTO {TERMS} (organisation_id, kind, term)"
        f" SELECT DISTINCT r.organisation_id, t.kind, t.term FROM {source} AS r"
        f" CROSS JOIN LATERAL (VALUES {_values(texts, 'r.')}) AS t (kind, term)"
        f" WHERE t.term <> ''{CONFLICT}"
    )


def _trigger_sql(table: str, texts, columns: str) -> list[str]:
    """The functions adding the texts of the rows just written, and their triggers."""
    function = f"search_terms_of_{table}"
    changed = " OR ".join(
        f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns.split(", ")
    )
    return [
        # Inserted rows, a statement at a time (a COPY of thousands is one INSERT here).
        f"""
        CREATE OR REPLACE FUNCTION {function}_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {_terms_of("inserted", texts)};
            RETURN NULL;
        END
        $$
        """,
        # A changed text, a row at a time (a column list allows no transition table).
        f"""
        CREATE OR REPLACE FUNCTION {function}_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TERMS} (organisation_id, kind, term)
            SELECT NEW.organisation_id, t.kind, t.term
            FROM (VALUES {_values(texts, "NEW.")}) AS t (kind, term)
            WHERE t.term <> ''{CONFLICT};
            RETURN NULL;
        END
        $$
        """,
        f"DROP TRIGGER IF EXISTS {function}_inserted ON {table}",
        f"""
        CREATE TRIGGER {function}_inserted AFTER INSERT ON {table}
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
        EXECUTE FUNCTION {function}_inserted()
        """,
        f"DROP TRIGGER IF EXISTS {function}_changed ON {table}",
        f"""
        CREATE TRIGGER {function}_changed AFTER UPDATE OF {columns} ON {table}
        FOR EACH ROW WHEN ({changed})
        EXECUTE FUNCTION {function}_changed()
        """,
    ]


def add_search_terms(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    # btree_gin lets a GIN index start with the council (a trusted extension: the
    # database's owner may create it).
    run("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for kind in KINDS:
        # upper(term) is term (it is stored in capitals), but it is what the filters'
        # case-insensitive "contains" compares, so the index serves it as it is. The
        # council is "organisation_id + 0" here and in the look-up, which the unique
        # constraint's btree cannot serve: otherwise, for a short fragment, the planner
        # may read all of a council's texts of a kind through it and filter them.
        run(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS search_term_{kind}_trgm ON {TERMS}"
            f" USING gin ((organisation_id + 0), upper(term) gin_trgm_ops)"
            f" WHERE kind = '{kind}'"
        )
    # Triggers first, then the rows already there: a payment written in between is
    # added twice, which the unique constraint turns into once.
    for statement in _trigger_sql(
        "payments_payment", PAYMENT_TEXTS, "payer_name, payer_email, postcode"
    ):
        run(statement)
    for statement in _trigger_sql("payments_paymentline", LINE_TEXTS, "account_reference"):
        run(statement)
    run(_terms_of("payments_payment", PAYMENT_TEXTS))
    run(_terms_of("payments_paymentline", LINE_TEXTS))
    for name, table, expression in BTREES:
        run(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table}"
            f" (organisation_id, ({expression}))"
        )
    name, table, definition = PROVIDER_REFERENCE
    run(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin {definition}")
    # A fund code belongs to one council, so "this council's lines on this fund" are
    # far more than the two columns' statistics apart suggest; misjudged, a search by
    # fund code looked up every payment of the fund one by one instead of hashing them.
    run(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv, dependencies)"
        " ON organisation_id, fund_code_id FROM payments_paymentline"
    )
    run("ANALYZE payments_paymentline")
    for name, _table, _definition in OLD_TRIGRAM_INDEXES:
        run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def remove_search_terms(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for name, table, definition in OLD_TRIGRAM_INDEXES:
        run(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin {definition}")
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {PROVIDER_REFERENCE[0]}")
    run(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    for name, _table, _expression in BTREES:
        run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    for table in ("payments_payment", "payments_paymentline"):
        for event in ("inserted", "changed"):
            run(f"DROP TRIGGER IF EXISTS search_terms_of_{table}_{event} ON {table}")
            run(f"DROP FUNCTION IF EXISTS search_terms_of_{table}_{event}()")
    for kind in KINDS:
        run(f"DROP INDEX CONCURRENTLY IF EXISTS search_term_{kind}_trgm")
    # btree_gin stays, as pg_trgm does in 0001: other things may use it. The table
    # itself goes with the model, below.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("search", "0001_search_indexes"),
        ("tenancy", "0004_membership_fund_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("name", "Payer's name"),
                            ("email", "Payer's email"),
                            ("postcode", "Postcode, without spaces"),
                            ("reference", "Account reference of a line"),
                        ],
                        max_length=10,
                    ),
                ),
                ("term", models.TextField()),
                (
                    "organisation",
                    models.ForeignKey(
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.organisation",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation", "kind", "term"), name="search_term_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(add_search_terms, remove_search_terms),
    ]
