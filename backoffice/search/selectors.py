"""Transaction search over years of history: one page of matching payments, newest first.

Read-only. The filters' meaning is ``filters.TransactionFilterSet``; this
module runs them in a shape that stays fast with tens of millions of rows
(docs/search.md explains the indexes and the measurements):

- Pages are cut by a keyset cursor on (created_at, id), never by OFFSET, and
  nothing is counted: a page fetches one row more than it shows to know
  whether there is another.
- Text that names few payments (an account reference, part of a name,
  email, postcode or provider reference) is first looked up on its own
  index: the reference's btree, or the column's trigram index. If it
  matches at most ``CANDIDATE_LIMIT`` payments, the page is chosen among
  those ids, which is quick however rare the text. If it matches more, the
  text is common, and walking the council's payments newest first finds a
  page of them quickly instead. This guards against the planner's worst
  case: misjudging a rare fragment as common and walking a whole index
  backwards looking for 51 rows that are not there.
- Every statement runs in a transaction with ``statement_timeout`` (setting
  ``SEARCH_STATEMENT_TIMEOUT_MS``, default 2,000 ms), so no search can hold
  the database for long; a search that runs out of time raises
  ``SearchTimedOut``, which the screen turns into "narrow your search".
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch

from backoffice.listing import after_cursor, cursor_decode, cursor_encode
from backoffice.payments.models import Payment, PaymentLine

from .filters import ReferenceMatch, normalise_postcode

PAGE_SIZE = 50
# Above this many matches a text is common: pages are found by walking newest first.
CANDIDATE_LIMIT = 1_000
DEFAULT_STATEMENT_TIMEOUT_MS = 2_000
CURSOR_SALT = "backoffice.search.cursor"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout


class SearchTimedOut(Exception):
    """The search took longer than the statement timeout allows."""


@dataclass
class SearchPage:
    payments: list
    next_cursor: str  # "" on the last page


def encode_cursor(payment: Payment) -> str:
    """An opaque, signed token for "the payments after this one" (newest first)."""
    return cursor_encode(payment.created_at, payment.pk, salt=CURSOR_SALT)


def decode_cursor(token: str) -> tuple[datetime.datetime, int]:
    """The (created_at, id) a cursor names; InvalidCursor if it was not made here unchanged."""
    return cursor_decode(token, salt=CURSOR_SALT)


def statement_timeout_ms() -> int:
    return int(getattr(settings, "SEARCH_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS))


def _set_local(cursor, name: str, value: str) -> None:
    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextmanager
def bounded_search():
    """A transaction in which each statement stops after the search's timeout.

    Raises SearchTimedOut for a statement that ran out of time. The settings are
    put back on the way out, in case this runs inside a longer transaction.
    """
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SHOW statement_timeout")
                    previous = cursor.fetchone()[0]
                    _set_local(cursor, "statement_timeout", f"{statement_timeout_ms()}ms")
                yield
                with connection.cursor() as cursor:
                    _set_local(cursor, "statement_timeout", previous)
            else:
                yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
            raise SearchTimedOut from error
        raise


def _like_fragment(text: str) -> str:
    """``%text%`` for LIKE, with LIKE's own wildcards in ``text`` matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Each text filter's lookup on its own index: SQL giving payment ids, and the value to give it.
# ``organisation_id + 0`` keeps the planner from combining the trigram index with the
# (very unselective) organisation index; the council is checked on each row found instead.
_CANDIDATE_SQL = {
    "payer_name": "SELECT id FROM payments_payment "
    "WHERE payer_name ILIKE %s AND organisation_id + 0 = %s LIMIT %s",
    "payer_email": "SELECT id FROM payments_payment "
    "WHERE payer_email ILIKE %s AND organisation_id + 0 = %s LIMIT %s",
    "postcode": "SELECT id FROM payments_payment "
    "WHERE replace(postcode, ' ', '') ILIKE %s AND organisation_id + 0 = %s LIMIT %s",
    "provider_reference": "SELECT id FROM payments_payment "
    "WHERE provider_reference ILIKE %s AND organisation_id + 0 = %s LIMIT %s",
    "reference_part": "SELECT payment_id FROM payments_paymentline "
    "WHERE account_reference ILIKE %s AND organisation_id + 0 = %s LIMIT %s",
    "reference_whole": "SELECT payment_id FROM payments_paymentline "
    "WHERE organisation_id = %s AND upper(account_reference) = %s LIMIT %s",
}


def _text_lookups(criteria: dict) -> list[tuple[str, str]]:
    lookups = []
    for name in ("payer_name", "payer_email", "provider_reference"):
        if criteria.get(name):
            lookups.append((name, _like_fragment(criteria[name])))
    if criteria.get("postcode"):
        lookups.append(("postcode", _like_fragment(normalise_postcode(criteria["postcode"]))))
    reference = (criteria.get("reference") or "").strip().upper()
    if reference:
        if criteria.get("reference_match") == ReferenceMatch.PART:
            lookups.append(("reference_part", _like_fragment(reference)))
        else:
            lookups.append(("reference_whole", reference))
    return lookups


def candidate_ids(organisation_id: int, criteria: dict) -> set[int] | None:
    """The ids the page must come from, if a text filter names few payments; else None.

    Runs inside ``bounded_search`` on PostgreSQL; elsewhere (SQLite on a laptop)
    there are no trigram indexes and the plain query is used.
    """
    if connection.vendor != "postgresql":
        return None
    found = None
    with connection.cursor() as cursor:
        # Bitmap scans only: the trigram and reference indexes, never a walk of the table
        # or of another index that the planner may wrongly think would find rows sooner.
        _set_local(cursor, "enable_seqscan", "off")
        _set_local(cursor, "enable_indexscan", "off")
        for name, value in _text_lookups(criteria):
            sql = _CANDIDATE_SQL[name]
            if name == "reference_whole":
                cursor.execute(sql, [organisation_id, value, CANDIDATE_LIMIT + 1])
            else:
                cursor.execute(sql, [value, organisation_id, CANDIDATE_LIMIT + 1])
            rows = cursor.fetchall()
            if len(rows) > CANDIDATE_LIMIT:
                continue  # common text: narrowing by it would cost more than it saves
            ids = {row[0] for row in rows}
            found = ids if found is None else found & ids
            if not found:
                break
        # Not in a ``finally``: after an error the transaction is rolled back, and these with it.
        _set_local(cursor, "enable_seqscan", "on")
        _set_local(cursor, "enable_indexscan", "on")
    return found


def search_payments(
    *,
    queryset,
    organisation_id: int,
    criteria: dict,
    cursor: str = "",
    page_size: int = PAGE_SIZE,
    with_lines: bool = True,
) -> SearchPage:
    """One page of ``queryset`` (the filters applied, scoped), newest first.

    ``cursor`` is the ``next_cursor`` of the page before (InvalidCursor if it was
    tampered with); SearchTimedOut if the search ran out of time.
    """
    position = decode_cursor(cursor) if cursor else None
    with bounded_search():
        ids = candidate_ids(organisation_id, criteria)
        if ids is not None:
            if not ids:
                return SearchPage([], "")
            queryset = queryset.filter(pk__in=sorted(ids))
        if position is not None:
            queryset = after_cursor(queryset, "created_at", position)
        queryset = queryset.select_related("created_by").order_by("-created_at", "-pk")
        if with_lines:
            queryset = queryset.prefetch_related(
                Prefetch(
                    "lines",
                    queryset=PaymentLine.objects.select_related("fund_code").order_by("pk"),
                )
            )
        payments = list(queryset[: page_size + 1])
    next_cursor = encode_cursor(payments[page_size - 1]) if len(payments) > page_size else ""
    return SearchPage(payments[:page_size], next_cursor)


def iterate_payments(*, queryset, organisation_id: int, criteria: dict, batch_size: int = 1_000):
    """Every matching payment, newest first, in keyset batches: for the CSV export.

    Each batch is its own bounded search, so memory stays flat and no statement
    runs long, however many payments match.
    """
    cursor = ""
    while True:
        page = search_payments(
            queryset=queryset,
            organisation_id=organisation_id,
            criteria=criteria,
            cursor=cursor,
            page_size=batch_size,
        )
        yield from page.payments
        if not page.next_cursor:
            return
        cursor = page.next_cursor
