"""On PostgreSQL the database itself keeps the ledger append-only and balanced.

The ORM already refuses to update or delete entries and postings; these
triggers refuse it for anyone, raw SQL included. The balance check is a
constraint trigger deferred to commit, when all of an entry's postings are
in. TRUNCATE stays possible: the test suite empties tables with it.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused; post a reversing entry',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_journalentry_append_only BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    total bigint;
BEGIN
    SELECT COALESCE(SUM(amount_pence), 0) INTO total
        FROM ledger_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance: its postings sum to %p',
            NEW.entry_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_posting_entry_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_posting_entry_balanced ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_check_entry_balanced();
DROP TRIGGER IF EXISTS ledger_journalentry_append_only ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_append_only ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # Straight to the cursor with no parameters, so that the % of
            # RAISE's format strings is not taken for a placeholder.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
