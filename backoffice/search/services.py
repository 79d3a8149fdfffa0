"""Writes of the search's own index (``SearchTerm``).

Payments and lines add their texts through PostgreSQL triggers
(``migrations/0002_search_terms``). A load that switches triggers off (the
history generator copies millions of rows with ``session_replication_role =
replica``, which skips them with the foreign-key checks) must add the texts
of what it wrote itself, here, before anyone searches.
"""

from django.db import connection

from backoffice.payments.models import Payment, PaymentLine

from .models import SearchTerm, TermKind

# The texts the triggers add, as the filters compare them: capitals, postcodes without
# spaces (the same expressions as the migration's).
_PAYMENT_TEXTS = {
    TermKind.NAME: "upper((r.payer_name)::text)",
    TermKind.EMAIL: "upper((r.payer_email)::text)",
    TermKind.POSTCODE: "upper(replace((r.postcode)::text, ' '::text, ''::text))",
}
_LINE_TEXTS = {TermKind.REFERENCE: "upper((r.account_reference)::text)"}


def record_terms(*, after_payment_id: int = 0, after_line_id: int = 0) -> None:
    """Add the texts of the payments and lines with ids above those given (PostgreSQL).

    Texts already recorded are left as they are, so running it twice is harmless.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model, texts, after in (
            (Payment, _PAYMENT_TEXTS, after_payment_id),
            (PaymentLine, _LINE_TEXTS, after_line_id),
        ):
            values = ", ".join(f"('{kind}', {expression})" for kind, expression in texts.items())
            cursor.execute(
                f"INSERT INTO {SearchTerm._meta.db_table} (organisation_id, kind, term)"  # noqa: S608 - names from the models
                f" SELECT DISTINCT r.organisation_id, t.kind, t.term"
                f" FROM {model._meta.db_table} AS r"
                f" CROSS JOIN LATERAL (VALUES {values}) AS t (kind, term)"
                " WHERE r.id > %s AND t.term <> ''"
                " ON CONFLICT (organisation_id, kind, term) DO NOTHING",
                [after],
            )
