"""Transaction search over N synthetic payments, against a plain Django admin changelist.

Loads N payments (``--rows``, default 1,000,000) over four councils with
``fixtures.history`` (PostgreSQL COPY), then runs thousands of typical
searches: exact and partial account references picked at random from the
data, receipt numbers, names (surnames and full names), email fragments,
postcodes, provider references, amounts, date ranges, statuses and fund
codes alone and combined, and second pages. Each search is timed in-process
around the search itself: the form read and checked, the scoping, the
selector's queries and the payments and their lines built as model
instances (HTML rendering excluded). They run with 1 user, then 4 users at
once (processes).

The same searches then go through a plain Django admin changelist over
``Payment`` (``search_fields`` on the same columns, ``list_filter``, scoped
to the council): the obvious alternative. It is much slower, so it runs a
sample, one user, each query stopped after ``--plain-timeout-ms``;
timeouts are reported.

Correctness: for a sample of searches, the page's payment ids must equal a
straightforward ORM query's (the filters' plain meaning, OFFSET-free first
page); and a second page must follow the first with no payment twice.
Exits non-zero if not.

Targets (issue: staff back office, item 3), at 10M rows: p95 under 50 ms and
no search over 1 s. Run: ``make bench`` (1M rows) or
``python benchmarks/bench_search.py --rows 10000000``. It uses its own
database, ``BENCH_SEARCH_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/ims_bench_search), dropped and created
afresh unless ``--reuse`` finds it already loaded with ``--rows`` payments.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import run_in_processes  # noqa: E402 - needs ROOT on the path

BENCH_DATABASE_URL = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ims_bench_search"
)
COUNCILS = 4
TARGET_P95_MS = 50
TARGET_MAX_MS = 1_000


def _django():
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def _loaded_rows() -> int:
    import psycopg

    try:
        with psycopg.connect(BENCH_DATABASE_URL) as connection:
            return connection.execute("SELECT COUNT(*) FROM payments_payment").fetchone()[0]
    except psycopg.Error:
        return -1


def _prepare_database(rows: int, reuse: bool) -> dict:
    """The database with ``rows`` payments; the load's time, or None if it was reused."""
    if reuse and _loaded_rows() == rows:
        _django()
        return {"load_seconds": None}
    import psycopg

    url = urlparse(BENCH_DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    _django()
    from django.core.management import call_command

    from fixtures.history import generate_history

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    generate_history(payments=rows, councils=COUNCILS)
    return {"load_seconds": round(time.perf_counter() - started)}


# The searches -----------------------------------------------------------------------


def _sample_payments(count: int, rng) -> list:
    """Random payments with their lines: where the searches' values come from."""
    from django.db import connection

    from backoffice.payments.models import Payment

    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM payments_payment")
        low, high = cursor.fetchone()
    ids = [rng.randint(low, high) for _ in range(count)]
    return list(
        Payment.objects.filter(pk__in=ids).select_related("organisation").prefetch_related("lines")
    )


def _fragment(text: str, rng, shortest=3, longest=6) -> str:
    """A random run of ``text`` of 3 to 6 characters, as a person might remember it."""
    length = min(len(text), rng.randint(shortest, longest))
    start = rng.randrange(len(text) - length + 1)
    return text[start : start + length]


def _searches(count: int, rng) -> list[tuple[str, str, dict]]:
    """(kind, council code, GET parameters) of ``count`` typical searches."""
    import datetime

    from django.utils import timezone

    from backoffice.funds.models import FundCode

    payments = _sample_payments(max(200, count // 3), rng)
    funds = {}
    for fund in FundCode.objects.select_related("organisation"):
        funds.setdefault(fund.organisation.code, []).append(fund.pk)
    today = timezone.localdate()

    def days_ago(days):
        return (today - datetime.timedelta(days=days)).isoformat()

    def recent_range():
        start = rng.randint(1, 365 * 6)
        return {"created_from": days_ago(start), "created_to": days_ago(start - rng.randint(1, 31))}

    kinds = {
        "exact reference": 20,
        "partial reference": 12,
        "receipt number": 8,
        "surname": 8,
        "full name": 8,
        "email fragment": 6,
        "postcode": 6,
        "provider reference": 4,
        "amount": 4,
        "date range and status": 6,
        "fund code and date range": 6,
        "name and date range": 4,
        "channel, method and status": 4,
        "newest, no filter": 4,
    }
    searches = []
    while len(searches) < count:
        payment = rng.choice(payments)
        council = payment.organisation.code
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        lines = list(payment.lines.all())
        reference = rng.choice(lines).account_reference
        params = None
        if kind == "exact reference":
            params = {"reference": reference.lower() if rng.random() < 0.2 else reference}
        elif kind == "partial reference":
            digits = "".join(ch for ch in reference if ch.isalnum())
            params = {"reference": _fragment(digits, rng, 4, 6), "reference_match": "part"}
        elif kind == "receipt number" and payment.receipt_number:
            params = {"receipt_number": payment.receipt_number}
        elif kind == "surname" and payment.payer_name:
            params = {"payer_name": payment.payer_name.split()[-1]}
        elif kind == "full name" and payment.payer_name:
            params = {"payer_name": payment.payer_name}
        elif kind == "email fragment" and payment.payer_email:
            params = {"payer_email": payment.payer_email.split("@")[0]}
        elif kind == "postcode" and payment.postcode:
            postcode = payment.postcode
            params = {"postcode": postcode if rng.random() < 0.6 else postcode.split()[0]}
        elif kind == "provider reference" and payment.provider_reference:
            params = {"provider_reference": _fragment(payment.provider_reference, rng, 6, 10)}
        elif kind == "amount":
            params = {"amount": f"{payment.total_pence / 100:.2f}"}
        elif kind == "date range and status":
            params = {**recent_range(), "status": rng.choice(["success", "refunded", "failed"])}
        elif kind == "fund code and date range":
            params = {**recent_range(), "fund_code": str(rng.choice(funds[council]))}
        elif kind == "name and date range" and payment.payer_name:
            params = {**recent_range(), "payer_name": payment.payer_name.split()[-1]}
        elif kind == "channel, method and status":
            params = {"channel": payment.channel, "method": payment.method, "status": "success"}
        elif kind == "newest, no filter":
            params = {}
        if params is not None:
            searches.append((kind, council, params))
    return searches


# Running them -----------------------------------------------------------------------


def _requests():
    """A signed-in request for each council, as the search screen would get it."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import RequestFactory

    from backoffice.accounts.roles import INCOME_OFFICER, sync_roles
    from backoffice.tenancy.models import Membership, Organisation

    sync_roles()
    officers = Group.objects.get(name=INCOME_OFFICER)
    requests = {}
    for organisation in Organisation.objects.filter(code__startswith="history-"):
        user, _ = get_user_model().objects.get_or_create(username=f"{organisation.code}.officer")
        user.groups.add(officers)
        Membership.objects.get_or_create(user=user, organisation=organisation)
        request = RequestFactory().get("/admin/transactions/search/")
        request.user = get_user_model().objects.get(pk=user.pk)
        request.organisation = organisation
        requests[organisation.code] = request
    return requests


def _ours(request, params: dict, cursor: str = ""):
    """The search as the screen runs it, without the HTML: the page of payments."""
    from django.http import QueryDict

    from backoffice.search import scoping, selectors
    from backoffice.search.filters import TransactionFilterSet

    query = QueryDict(mutable=True)
    query.update(params)
    # A fresh request attribute cache per search, as each real request has.
    request.__dict__.pop(scoping._CACHE_ATTRIBUTE, None)
    filterset = TransactionFilterSet(
        query or None, queryset=scoping.visible_payments(request), request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        raise SystemExit(f"a benchmark search is not valid: {params} {filterset.errors}")
    return selectors.search_payments(
        queryset=filterset.qs if filterset.is_bound else filterset.queryset,
        organisation_id=request.organisation.pk,
        criteria=filterset.criteria() if filterset.is_bound else {},
        cursor=cursor,
    )


def _ours_worker(index, wait_for_all, searches, workers):
    _django()
    requests = _requests()
    mine = searches[index::workers]
    wait_for_all()
    timings = []
    timeouts = 0
    from backoffice.search.selectors import SearchTimedOut

    for kind, council, params in mine:
        started = time.perf_counter()
        try:
            page = _ours(requests[council], params)
            if page.next_cursor and hash(str(params)) % 5 == 0:
                _ours(requests[council], params, cursor=page.next_cursor)  # a second page
        except SearchTimedOut:
            timeouts += 1
        timings.append((kind, (time.perf_counter() - started) * 1000))
    return timings, timeouts


def _run_ours(searches, workers: int):
    collected = run_in_processes(_ours_worker, workers, searches, workers)
    timings = [timing for worker_timings, _ in collected for timing in worker_timings]
    return timings, sum(timeouts for _, timeouts in collected)


def _plain_admin():
    """A throwaway ModelAdmin over Payment, as a developer would first write it."""
    from django.contrib import admin

    from backoffice.payments.models import Payment

    class PlainPaymentAdmin(admin.ModelAdmin):
        search_fields = [
            "receipt_number",
            "payer_name",
            "payer_email",
            "postcode",
            "provider_reference",
            "lines__account_reference",
        ]
        list_filter = ["status", "channel", "method", "created_at", "lines__fund_code"]
        list_display = ["receipt_number", "created_at", "payer_name", "status", "total_pence"]
        list_per_page = 50

        def get_queryset(self, request):
            return super().get_queryset(request).filter(organisation=request.organisation)

        def lookup_allowed(self, lookup, value, request=None):
            return True

    return PlainPaymentAdmin(Payment, admin.site)


def _plain_params(params: dict) -> dict:
    """The same search in the changelist's own terms: one search box and its filters."""
    words = [
        params[name]
        for name in (
            "reference",
            "receipt_number",
            "payer_name",
            "payer_email",
            "postcode",
            "provider_reference",
        )
        if params.get(name)
    ]
    query = {"q": " ".join(words)} if words else {}
    if params.get("created_from"):
        query["created_at__date__gte"] = params["created_from"]
    if params.get("created_to"):
        query["created_at__date__lte"] = params["created_to"]
    for name in ("status", "channel", "method"):
        if params.get(name):
            query[f"{name}__exact"] = params[name]
    if params.get("fund_code"):
        query["lines__fund_code__id__exact"] = params["fund_code"]
    if params.get("amount"):
        query["total_pence"] = str(round(float(params["amount"]) * 100))
    return query


def _run_plain(searches, requests, timeout_ms: int, budget_s: float):
    from django.db import OperationalError, connection, transaction
    from django.test import RequestFactory

    model_admin = _plain_admin()
    factory = RequestFactory()
    timings, timeouts = [], 0
    deadline = time.perf_counter() + budget_s
    for kind, council, params in searches:
        if time.perf_counter() > deadline:
            break
        request = factory.get("/admin/payments/payment/", _plain_params(params))
        request.user = requests[council].user
        request.user.is_superuser = True  # the throwaway admin checks no roles
        request.organisation = requests[council].organisation
        started = time.perf_counter()
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"]
                    )
                changelist = model_admin.get_changelist_instance(request)
                list(changelist.result_list)
            timings.append((kind, (time.perf_counter() - started) * 1000))
        except OperationalError:
            timeouts += 1
            timings.append((kind, float(timeout_ms)))
    return timings, timeouts


# Correctness ------------------------------------------------------------------------


def _check(searches, requests) -> list[str]:
    """Each search's first page equals the plain query's; page two follows page one."""
    from django.http import QueryDict

    from backoffice.search import scoping
    from backoffice.search.filters import TransactionFilterSet

    problems = []
    for kind, council, params in searches:
        request = requests[council]
        page = _ours(request, params)
        query = QueryDict(mutable=True)
        query.update(params)
        filterset = TransactionFilterSet(
            query or None, queryset=scoping.visible_payments(request), request=request
        )
        filterset.is_valid()
        plain = filterset.qs if filterset.is_bound else filterset.queryset
        expected = list(plain.order_by("-created_at", "-pk").values_list("pk", flat=True)[:51])
        got = [payment.pk for payment in page.payments]
        if got != expected[:50] or bool(page.next_cursor) != (len(expected) > 50):
            problems.append(f"{kind} {params}: page differs from the plain query")
            continue
        if page.next_cursor:
            second = _ours(request, params, cursor=page.next_cursor)
            expected_second = list(
                plain.order_by("-created_at", "-pk").values_list("pk", flat=True)[50:100]
            )
            if [payment.pk for payment in second.payments] != expected_second:
                problems.append(f"{kind} {params}: the second page does not follow the first")
    return problems


def _percentiles(timings) -> dict:
    values = sorted(ms for _, ms in timings)
    if not values:
        return {}

    def at(fraction):
        return round(values[min(len(values) - 1, int(fraction * len(values)))], 1)

    return {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(values[-1], 1),
    }


def _slowest_kinds(timings, top=3) -> dict:
    by_kind = {}
    for kind, ms in timings:
        by_kind.setdefault(kind, []).append(ms)
    p95 = {
        kind: round(sorted(values)[int(0.95 * (len(values) - 1))], 1)
        for kind, values in by_kind.items()
    }
    return dict(sorted(p95.items(), key=lambda item: -item[1])[:top])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=3_000)
    parser.add_argument("--plain-searches", type=int, default=300)
    parser.add_argument("--plain-timeout-ms", type=int, default=5_000)
    parser.add_argument("--plain-budget-s", type=float, default=300.0)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    options = parser.parse_args()

    load = _prepare_database(options.rows, options.reuse)
    rng = random.Random(7)
    searches = _searches(options.searches, rng)
    requests = _requests()

    # Warm the caches once (as a server that has been up a while), then measure.
    for _kind, council, params in searches[:200]:
        _ours(requests[council], params)
    problems = _check(searches[: options.checks], requests)

    one_user, one_user_timeouts = _run_ours(searches, 1)
    four_users, four_users_timeouts = _run_ours(searches, 4)
    plain_sample = rng.sample(searches, min(options.plain_searches, len(searches)))
    plain, plain_timeouts = _run_plain(
        plain_sample, requests, options.plain_timeout_ms, options.plain_budget_s
    )

    from django.db import connection

    ours_1 = _percentiles(one_user)
    ours_4 = _percentiles(four_users)
    plain_stats = _percentiles(plain)
    worst_p95 = max(ours_1["p95_ms"], ours_4["p95_ms"])
    worst_max = max(ours_1["max_ms"], ours_4["max_ms"])
    print(
        json.dumps(
            {
                "bench": "search",
                "machine": (
                    f"{platform.machine()}, {os.cpu_count()} cores, "
                    f"Python {platform.python_version()}"
                ),
                "database": f"PostgreSQL {connection.pg_version // 10000}",
                "rows": options.rows,
                "councils": COUNCILS,
                "load_seconds": load["load_seconds"],
                "searches": len(searches),
                "ours_1_user": {**ours_1, "timeouts": one_user_timeouts},
                "ours_4_users": {**ours_4, "timeouts": four_users_timeouts},
                "ours_slowest_kinds_p95_ms": _slowest_kinds(one_user),
                "plain_admin_1_user": {
                    **plain_stats,
                    "searches": len(plain),
                    "timeouts": plain_timeouts,
                    "timeout_ms": options.plain_timeout_ms,
                },
                "ours_vs_plain_p50": (
                    round(plain_stats["p50_ms"] / ours_1["p50_ms"], 1) if plain_stats else None
                ),
                "target_p95_ms": TARGET_P95_MS,
                "target_max_ms": TARGET_MAX_MS,
                "meets_target": worst_p95 < TARGET_P95_MS and worst_max < TARGET_MAX_MS,
                "correctness": problems[:5] or f"{min(options.checks, len(searches))} checked",
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
