"""The search's own index of the texts that payments hold.

Finding payments by part of a payer's name, email or postcode, or of an
account reference, needs a trigram index. Over the payments themselves, at
tens of millions of rows, such an index has tens of thousands of entries for
any part of a common surname, and reading them costs tens of milliseconds
whether the search then finds five payments or five thousand. But people pay
again and again under the same name, from the same postcode, against the same
account: each council's distinct texts are a small fraction of its payments.
So the trigram indexes are over ``SearchTerm``, one row per distinct text a
council's payments hold, and a btree over each payment column takes a text
found there to its payments (docs/search.md).

Rows are written by PostgreSQL triggers on the payments tables
(``migrations/0002_search_terms``), never by the application: every way a
payment or line is written, including ``COPY``, adds its texts. They are never
removed; a text no payment holds any longer only costs a look-up that finds
nothing. On SQLite (a laptop) there are no triggers and the table stays empty:
the search does not use it there.
"""

from django.db import models

from backoffice.tenancy.models import Organisation, TenantModel


class TermKind(models.TextChoices):
    NAME = "name", "Payer's name"
    EMAIL = "email", "Payer's email"
    POSTCODE = "postcode", "Postcode, without spaces"
    REFERENCE = "reference", "Account reference of a line"


class SearchTerm(TenantModel):
    """One distinct text that a council's payments hold, in capitals, as the filters compare."""

    # The unique constraint's index starts with the council: no index of its own.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    kind = models.CharField(max_length=10, choices=TermKind.choices)
    term = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "term"], name="search_term_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.term}"
