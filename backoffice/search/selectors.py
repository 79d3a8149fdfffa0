"""Transaction search over years of history: one page of matching payments, newest first.

Read-only. The filters' meaning is ``filters.TransactionFilterSet``; this
module runs them in a shape that stays fast with tens of millions of rows
(docs/search.md explains the indexes, the plans and the measurements):

- Pages are cut by a keyset cursor on (created_at, id), never by OFFSET, and
  nothing is counted: a page fetches one row more than it shows to know
  whether there is another.
- Text (part of a name, email, postcode, provider reference or account
  reference, or a whole reference) is where the planner goes wrong: it
  cannot tell how many payments a fragment names, and a rare fragment
  misjudged as common walks a whole index, a common one misjudged as rare
  reads every match. So a text search decides for itself, by bounded steps
  that each read a known most:

  1. the council's newest ``RECENT_WINDOW`` payments are looked through,
     newest first: a common text fills a page among them;
  2. if it found some but not a page, the text is common enough that walking
     on, newest first, finds the page soon;
  3. otherwise the text is looked up (``candidates``): among the council's
     distinct texts (``models.SearchTerm``), then those texts' payments,
     each step stopping one row past its limit. If there are no more than
     the limits, the page is chosen among those payments, newest first; if
     there are more, the text is common after all and the walk goes on.

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
from django.db.models import BigIntegerField, BooleanField, DateTimeField, F, TextChoices, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Upper

from backoffice.listing import after_cursor, cursor_decode, cursor_encode
from backoffice.payments.models import Payment, PaymentLine

from .filters import (
    ReferenceMatch,
    compact_postcode,
    lines_with_reference,
    normalise_postcode,
    start_of_day,
)
from .models import SearchTerm, TermKind

PAGE_SIZE = 50
# How many of the council's newest payments a text search looks through first.
RECENT_WINDOW = 5_000
# Matches among those that make a text common enough to walk on for: at least this many
# in RECENT_WINDOW rows means a page within about RECENT_WINDOW * 51 / COMMON_IN_WINDOW.
COMMON_IN_WINDOW = 10
# Above this many payments (lines for a reference) a text is common: pages are found by
# walking newest first.
# Where the two costs meet: choosing among M ids reads M payments; walking reads about
# 51 * (the council's payments) / M, each checked on its own row for a payment's text
# (about a microsecond) but by a look-up of its lines for a reference (about four).
CANDIDATE_LIMIT = 5_000
REFERENCE_CANDIDATE_LIMIT = 10_000
# Above this many distinct texts containing it (``SearchTerm``), a text is common.
TERM_LIMIT = 500
DEFAULT_STATEMENT_TIMEOUT_MS = 2_000
CURSOR_SALT = "backoffice.search.cursor"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout

# Every statement of a search. No JIT: compiling a plan costs 50-100 ms, more than a
# search may take, and the plans switched off below look costly enough to set it off.
# No parallel workers: a search reads thousands of rows, not millions, and with several
# staff searching at once the workers only queue for the same cores.
SEARCH_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}
# While text is matched: no sequential scan, and no bitmap scan outside the look-ups.
# Some indexes serve a filter's own expression (the provider reference's trigrams), so
# the planner could pick one on a guess of how rare the text is, and a bitmap of a common
# fragment is built from every one of its matches before a row is returned.
TEXT_SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "off"}
# The candidate look-up: a bitmap of the text's own index, read only as far as needed.
LOOKUP_SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "on", "enable_indexscan": "off"}
# Walking the council's payments newest first, in an index's order, checking each: no
# sort of everything that matches, and no hash or merge join, or set kept aside to join
# against, that would read all the lines whose reference matches (or that are on a fund)
# before the first payment is found: each payment's lines are looked up by its id.
WALK_SETTINGS = {
    **TEXT_SETTINGS,
    "enable_indexscan": "on",
    "enable_sort": "off",
    "enable_hashagg": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "enable_material": "off",
}
# A page among the candidate ids (fetched by primary key, then sorted), and the lines of
# a page (sorted by id): as the walk, but sorting a few rows is what is wanted.
AMONG_SETTINGS = {**WALK_SETTINGS, "enable_sort": "on"}

# What the results screen and the CSV export show: the rest of a payment stays unread.
RESULT_FIELDS = (
    "id",
    "organisation_id",
    "created_at",
    "receipt_number",
    "status",
    "channel",
    "method",
    "total_pence",
    "refunded_pence",
    "payer_name",
    "payer_email",
    "postcode",
    "provider",
    "provider_reference",
    "created_by__username",
    "created_by__first_name",
    "created_by__last_name",
)


class SearchTimedOut(Exception):
    """The search took longer than the statement timeout allows."""


class Route(TextChoices):
    """How a page was found (docs/search.md): for tests, benchmarks and slow-query hunts."""

    PLAIN = "plain", "As the filters say, no text to match"
    SHORT_WALK = "short walk", "Walked: no more than the window was left to read"
    WINDOW = "window", "Among the newest payments"
    WALK = "walk", "Walked newest first: the text is common"
    CANDIDATES = "candidates", "Among the ids the text's own index gave"


@dataclass
class SearchPage:
    payments: list
    next_cursor: str  # "" on the last page
    route: str = Route.PLAIN


def encode_cursor(payment: Payment) -> str:
    """An opaque, signed token for "the payments after this one" (newest first)."""
    return cursor_encode(payment.created_at, payment.pk, salt=CURSOR_SALT)


def decode_cursor(token: str) -> tuple[datetime.datetime, int]:
    """The (created_at, id) a cursor names; InvalidCursor if it was not made here unchanged."""
    return cursor_decode(token, salt=CURSOR_SALT)


def statement_timeout_ms() -> int:
    return int(getattr(settings, "SEARCH_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS))


def _set_local(cursor, values: dict) -> None:
    """Settings for the rest of the transaction, all in one statement."""
    calls = ", ".join("set_config(%s, %s, true)" for _ in values)
    cursor.execute(
        f"SELECT {calls}",
        [item for pair in values.items() for item in pair],
    )


@contextmanager
def bounded_search(**planner):
    """A transaction in which each statement stops after the search's timeout.

    ``planner`` adds settings (``enable_seqscan="off"``...) for the whole
    transaction. Raises SearchTimedOut for a statement that ran out of time.
    Settings end with the transaction; inside a longer one they are put back on
    the way out.
    """
    values = {
        "statement_timeout": f"{statement_timeout_ms()}ms",
        **SEARCH_SETTINGS,
        **planner,
    }
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    previous = None
                    if not outermost:
                        cursor.execute(
                            "SELECT " + ", ".join("current_setting(%s)" for _ in values),
                            list(values),
                        )
                        previous = dict(zip(values, cursor.fetchone(), strict=True))
                    _set_local(cursor, values)
                yield
                if previous is not None:
                    with connection.cursor() as cursor:
                        _set_local(cursor, previous)
            else:
                yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
            raise SearchTimedOut from error
        raise


def has_text(criteria: dict) -> bool:
    """Whether the search matches text that only a trigram or reference index can find.

    A receipt number names one payment through its unique index, whatever else
    is given, so a search with one needs none of this.
    """
    if criteria.get("receipt_number"):
        return False
    names = ("payer_name", "payer_email", "postcode", "provider_reference", "reference")
    return any(criteria.get(name) for name in names)


def _council(organisation_id: int):
    # btree_gin compares the council's id with values of its own type only: a plain
    # integer parameter would leave the council out of a GIN index's condition.
    return Cast(Value(organisation_id), BigIntegerField())


def term_query(organisation_id: int, kind: str, text: str):
    """The council's distinct texts of ``kind`` (``SearchTerm``) that contain ``text``,
    compared as the filters compare: capitals, ``text``'s wildcards taken literally."""
    # "organisation_id + 0", as in the index (migrations/0002_search_terms says why).
    return (
        SearchTerm.objects.alias(council=F("organisation_id") + 0)
        .filter(council=_council(organisation_id), kind=kind, term__icontains=text)
        .order_by()
        .values_list("term", flat=True)
    )


def _lookups(organisation_id: int, criteria: dict):
    """(limit, queryset) of each text's look-up in the council, or (limit, None) for a
    text found in more than ``TERM_LIMIT`` distinct texts (common).

    Part of a name, email, postcode or reference is first found among the
    council's distinct texts (``term_query``), which then go to the payments (or
    lines) through a btree over the filter's own expression: a payment is found
    exactly when its text is one that contains what was typed, which is what the
    filter keeps. A provider reference (unique to its payment, so no shorter as
    a distinct text) is looked up by its trigram index; a whole reference by its
    btree. Payments' look-ups give (created_at, id) rows, the lines' (None,
    payment id) rows. Runs the texts' queries as it goes.
    """
    council = _council(organisation_id)
    payments = Payment.objects.filter(organisation_id=council).order_by()
    lines = PaymentLine.objects.filter(organisation_id=council).order_by()
    texts = {
        TermKind.NAME: ("payer_name", criteria.get("payer_name")),
        TermKind.EMAIL: ("payer_email", criteria.get("payer_email")),
        TermKind.POSTCODE: ("postcode", normalise_postcode(criteria.get("postcode") or "")),
    }
    for kind, (field, text) in texts.items():
        if not text:
            continue
        terms = list(term_query(organisation_id, kind, text)[: TERM_LIMIT + 1])
        if len(terms) > TERM_LIMIT:
            yield CANDIDATE_LIMIT, None
            continue
        expression = Upper(compact_postcode() if kind == TermKind.POSTCODE else field)
        matching = payments.alias(text=expression).filter(text__in=terms)
        yield CANDIDATE_LIMIT, matching.values_list("created_at", "pk")
    if criteria.get("provider_reference"):
        matching = payments.filter(provider_reference__icontains=criteria["provider_reference"])
        yield CANDIDATE_LIMIT, matching.values_list("created_at", "pk")
    reference = (criteria.get("reference") or "").strip()
    if reference:
        if criteria.get("reference_match") == ReferenceMatch.PART:
            terms = term_query(organisation_id, TermKind.REFERENCE, reference)
            terms = list(terms[: TERM_LIMIT + 1])
            if len(terms) > TERM_LIMIT:
                yield REFERENCE_CANDIDATE_LIMIT, None
                return
            matching = lines.alias(text=Upper("account_reference")).filter(text__in=terms)
        else:
            matching = lines_with_reference(lines, reference, ReferenceMatch.WHOLE)
        times = Value(None, DateTimeField())
        yield REFERENCE_CANDIDATE_LIMIT, matching.values_list(times, "payment_id")


def _any_id(ids: list[int]) -> RawSQL:
    """``id = ANY(ids)``: thousands of ids as one array, not thousands of parameters."""
    column = f"{connection.ops.quote_name(Payment._meta.db_table)}.id"
    return RawSQL(f"{column} = ANY(%s)", [ids], BooleanField())  # noqa: S611 - our name


def candidates(organisation_id: int, criteria: dict) -> list[tuple] | None:
    """The (created_at, id) of every payment the text matches, newest first, if it
    names few payments; None if it is common (or there is no index to ask).

    Each look-up reads its index as a bitmap and stops one row past its limit, so
    it costs no more for a common text than for one just under the limit. Runs
    inside ``bounded_search`` on PostgreSQL and leaves the planner set for
    look-ups (the caller sets what its next statement needs); elsewhere (SQLite
    on a laptop) there are no such indexes and the answer is None.
    """
    if connection.vendor != "postgresql":
        return None
    created, ids = {}, None
    with connection.cursor() as cursor:
        _set_local(cursor, LOOKUP_SETTINGS)
    for limit, lookup in _lookups(organisation_id, criteria):
        rows = [] if lookup is None else list(lookup[: limit + 1])
        if lookup is None or len(rows) > limit:
            continue  # common text: narrowing by it would cost more than it saves
        created.update((pk, moment) for moment, pk in rows if moment is not None)
        found = {pk for _, pk in rows}
        ids = found if ids is None else ids & found
        if not ids:
            break
    if ids is None:
        return None
    unknown = [pk for pk in ids if pk not in created]
    if unknown:
        # Matched by reference only: the payments' times, by primary key.
        with connection.cursor() as cursor:
            _set_local(cursor, AMONG_SETTINGS)
        times = Payment.objects.filter(_any_id(unknown)).values_list("pk", "created_at")
        created.update(times.order_by())
    return sorted(((created[pk], pk) for pk in ids), reverse=True)


def _window_start(organisation_id: int, criteria: dict, position) -> datetime.datetime | None:
    """Where the walk's first ``RECENT_WINDOW`` payments end, or None if it has no more.

    The walk goes newest first from the cursor (or the end of the date range);
    this reads only the (organisation, created_at) index. The bound decides how
    much is read, never what is found: the payments after it and those up to it
    are searched alike.
    """
    rows = Payment.objects.filter(organisation_id=organisation_id)
    if position is not None:
        rows = rows.filter(created_at__lte=position[0])
    if criteria.get("created_to"):
        rows = rows.filter(
            created_at__lt=start_of_day(criteria["created_to"] + datetime.timedelta(days=1))
        )
    if criteria.get("created_from"):
        rows = rows.filter(created_at__gte=start_of_day(criteria["created_from"]))
    bound = rows.order_by("-created_at").values_list("created_at", flat=True)
    found = list(bound[RECENT_WINDOW : RECENT_WINDOW + 1])
    return found[0] if found else None


def _text_page(queryset, organisation_id: int, criteria: dict, position, size: int):
    """``size`` payments of a text search and the route taken (the module's docstring).

    Starts with ``WALK_SETTINGS`` in force if ``_worth_a_window``, else ``TEXT_SETTINGS``.
    """
    recent, start = [], None
    if _worth_a_window(criteria):
        start = _window_start(organisation_id, criteria, position)
        if start is None:
            return list(queryset[:size]), Route.SHORT_WALK
        recent = list(queryset.filter(created_at__gt=start)[:size])
        if len(recent) == size:
            return recent, Route.WINDOW
        queryset = queryset.filter(created_at__lte=start)  # what the window did not cover
    if len(recent) >= COMMON_IN_WINDOW:
        return recent + list(queryset[: size - len(recent)]), Route.WALK
    found = candidates(organisation_id, criteria)
    with connection.cursor() as cursor:
        _set_local(cursor, WALK_SETTINGS if found is None else AMONG_SETTINGS)
    if found is None:
        return recent + list(queryset[: size - len(recent)]), Route.WALK
    return recent + _among(queryset, found, position, start, size - len(recent)), Route.CANDIDATES


def _among(queryset, found: list[tuple], position, start, size: int) -> list:
    """``size`` payments of ``queryset`` among ``found`` ((created_at, id), newest first).

    The candidates are taken newest first, a few pages' worth, then the rest: every
    one matches the text, so only the other filters can pass over any, and a page
    is usually all in the first batch.
    """
    if position is not None:
        found = [candidate for candidate in found if candidate < position]
    if start is not None:
        found = [candidate for candidate in found if candidate[0] <= start]
    page, taken = [], 0
    while len(page) < size and taken < len(found):
        batch = 4 * size if taken == 0 else len(found) - taken
        ids = [pk for _, pk in found[taken : taken + batch]]
        taken += batch
        page += list(queryset.filter(_any_id(ids))[: size - len(page)])
    return page


def _worth_a_window(criteria: dict) -> bool:
    """Whether to look through the newest payments before asking a text's index.

    Part of a name, email, postcode or provider reference can be common (a
    surname, a postcode district), and its trigram index would read every match
    to say so. A reference is looked up first: whole, it names a handful of
    payments through its btree; in part, it is digits that name few, and each
    payment walked past would cost a look-up of its lines.
    """
    names = ("payer_name", "payer_email", "postcode", "provider_reference")
    return any(criteria.get(name) for name in names)


def attach_lines(payments: list) -> None:
    """Set ``search_lines`` on each payment: its lines' (fund code, reference), in order.

    One query for the page, read as plain values: a prefetch would build a model
    instance for every line and its fund code, and a queryset for every payment,
    which cost more than the rest of the search.
    """
    by_payment = {payment.pk: [] for payment in payments}
    rows = (
        PaymentLine.objects.filter(payment_id__in=list(by_payment))
        .order_by("pk")
        .values_list("payment_id", "fund_code__code", "account_reference")
    )
    for payment_id, fund_code, reference in rows:
        by_payment[payment_id].append((fund_code, reference))
    for payment in payments:
        payment.search_lines = by_payment[payment.pk]


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
    tampered with); SearchTimedOut if the search ran out of time. The payments
    carry ``RESULT_FIELDS`` only, and ``search_lines`` if ``with_lines``.
    """
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        queryset = after_cursor(queryset, "created_at", position)
    queryset = (
        queryset.select_related("created_by").only(*RESULT_FIELDS).order_by("-created_at", "-pk")
    )
    text = connection.vendor == "postgresql" and has_text(criteria)
    planner = {}
    if text:
        planner = WALK_SETTINGS if _worth_a_window(criteria) else TEXT_SETTINGS
    with bounded_search(**planner):
        if text:
            payments, route = _text_page(
                queryset, organisation_id, criteria, position, page_size + 1
            )
        else:
            payments, route = list(queryset[: page_size + 1]), Route.PLAIN
        if with_lines and payments:
            if text:
                with connection.cursor() as cursor:
                    _set_local(cursor, AMONG_SETTINGS)
            attach_lines(payments)
    next_cursor = encode_cursor(payments[page_size - 1]) if len(payments) > page_size else ""
    return SearchPage(payments[:page_size], next_cursor, route)


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
