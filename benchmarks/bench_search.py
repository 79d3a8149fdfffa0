"""Transaction search over N synthetic payments, against a plain Django admin changelist.

Loads N payments (``--rows``, default 100,000: quick, for ``make bench``)
over four councils with ``fixtures.history`` (PostgreSQL COPY), then runs
thousands of typical searches: exact and partial account references picked
at random from the data, receipt numbers, names (surnames and full names),
email fragments, postcodes, provider references, amounts, date ranges,
statuses and fund codes alone and combined, and second pages. Each search
is timed in-process around the search itself: the form read and checked,
the scoping, the selector's queries and the payments and their lines
fetched (HTML rendering excluded). They run with 1 user, then 4 users at
once (processes). With one user, the CPU each search costs (this process's
and its PostgreSQL backend's, from /proc) is measured too: unlike the
times, it hardly moves when other work shares the machine.

The same searches then go through a plain Django admin changelist over
``Payment`` (``search_fields`` on the same columns, ``list_filter``, scoped
to the council): the obvious alternative. It is much slower, so it runs a
sample, with 1 and then 4 users, each query stopped after
``--plain-timeout-ms`` (a timeout counts at that time) within a time budget.

Correctness: for a sample of searches, the page's payment ids must equal a
straightforward ORM query's (the filters' plain meaning, first page); and a
second page must follow the first with no payment twice. Exits non-zero if
not.

Targets (issue: staff back office, item 3), at 10M rows: p95 under 50 ms and
no search over 1 s, with 1 and 4 users. Run ``make bench`` for the quick
size, and for the sizes of the issue::

    python benchmarks/bench_search.py --rows 1000000 --reuse
    python benchmarks/bench_search.py --rows 10000000 --reuse

Each size has its own database, ``ims_bench_search_<size>`` on
``BENCH_SEARCH_SERVER`` (default postgres://postgres@127.0.0.1:5432), or
``BENCH_SEARCH_DATABASE_URL`` if set. It is dropped and loaded afresh unless
``--reuse`` finds it already loaded with ``--rows`` payments (loading 10M
takes 20-40 minutes); a reused database is migrated first, so index changes
apply to it.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import run_in_processes  # noqa: E402 - needs ROOT on the path

BENCH_SERVER = os.environ.get("BENCH_SEARCH_SERVER", "postgres://postgres@127.0.0.1:5432")
COUNCILS = 4
TARGET_ROWS = 10_000_000
TARGET_P95_MS = 50
TARGET_MAX_MS = 1_000


def _size_label(rows: int) -> str:
    """100k, 1m, 10m, 2500: short names for database names."""
    for divisor, suffix in ((1_000_000, "m"), (1_000, "k")):
        if rows % divisor == 0:
            return f"{rows // divisor}{suffix}"
    return str(rows)


def _database_url(rows: int) -> str:
    return os.environ.get("BENCH_SEARCH_DATABASE_URL") or (
        f"{BENCH_SERVER.rstrip('/')}/ims_bench_search_{_size_label(rows)}"
    )


def _django():
    os.environ["DATABASE_URL"] = os.environ["BENCH_SEARCH_DATABASE_URL_IN_USE"]
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def _loaded_rows(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            return connection.execute("SELECT COUNT(*) FROM payments_payment").fetchone()[0]
    except psycopg.Error:
        return -1


def _prepare_database(url: str, rows: int, reuse: bool) -> dict:
    """The database with ``rows`` payments; the load's time, or None if it was reused."""
    os.environ["BENCH_SEARCH_DATABASE_URL_IN_USE"] = url  # spawned workers inherit it
    if reuse and _loaded_rows(url) == rows:
        _django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # index changes since the load
        return {"load_seconds": None}
    import psycopg

    url = urlparse(url)
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


def _second_page(params: dict) -> bool:
    """One search in five also fetches its second page: the same ones in every run."""
    return zlib.crc32(json.dumps(params, sort_keys=True).encode()) % 5 == 0


class _CpuClock:
    """CPU time of this process and of its PostgreSQL backend, in ns (Linux /proc).

    Unlike wall-clock time, it barely changes when other work shares the cores.
    """

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        self.paths = ["/proc/self/schedstat", f"/proc/{backend}/schedstat"]
        self.available = all(Path(path).exists() for path in self.paths)

    def __call__(self) -> int:
        if not self.available:
            return 0
        return sum(int(Path(path).read_text().split()[0]) for path in self.paths)


def _ours_worker(index, wait_for_all, searches, workers):
    _django()
    requests = _requests()
    mine = searches[index::workers]
    clock = _CpuClock()
    wait_for_all()
    timings, cpu, routes = [], [], []
    timeouts = 0
    from backoffice.search.selectors import SearchTimedOut

    for kind, council, params in mine:
        cpu_started = clock()
        started = time.perf_counter()
        route = "timed out"
        try:
            page = _ours(requests[council], params)
            route = str(page.route)
            if page.next_cursor and _second_page(params):
                _ours(requests[council], params, cursor=page.next_cursor)
        except SearchTimedOut:
            timeouts += 1
        elapsed = (time.perf_counter() - started) * 1000
        timings.append((kind, elapsed))
        routes.append((route, elapsed))
        cpu.append((kind, (clock() - cpu_started) / 1e6))
    return timings, cpu, routes, timeouts, clock.available


def _run_ours(searches, workers: int):
    collected = run_in_processes(_ours_worker, workers, searches, workers)
    timings = [timing for worker_timings, *_ in collected for timing in worker_timings]
    cpu = [sample for _, worker_cpu, *_, measured in collected if measured for sample in worker_cpu]
    routes = [route for _, _, worker_routes, *_ in collected for route in worker_routes]
    return timings, cpu, routes, sum(timeouts for *_, timeouts, _ in collected)


def _by_route(routes) -> dict:
    """How each first page was found (``selectors.Route``): how often, and how fast."""
    grouped = {}
    for route, ms in routes:
        grouped.setdefault(route, []).append(ms)
    return {
        route: {
            "searches": len(values),
            "p50_ms": round(sorted(values)[len(values) // 2], 1),
            "p95_ms": round(sorted(values)[int(0.95 * (len(values) - 1))], 1),
        }
        for route, values in sorted(grouped.items())
    }


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


def _plain_worker(index, wait_for_all, searches, workers, timeout_ms, budget_s):
    _django()
    requests = _requests()
    from django.db import OperationalError, connection, transaction
    from django.test import RequestFactory

    model_admin = _plain_admin()
    factory = RequestFactory()
    timings, timeouts = [], 0
    wait_for_all()
    deadline = time.perf_counter() + budget_s
    for kind, council, params in searches[index::workers]:
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


def _run_plain(searches, workers: int, timeout_ms: int, budget_s: float):
    collected = run_in_processes(_plain_worker, workers, searches, workers, timeout_ms, budget_s)
    timings = [timing for worker_timings, _ in collected for timing in worker_timings]
    return timings, sum(timeouts for _, timeouts in collected)


# Correctness ------------------------------------------------------------------------


def _check(searches, requests, timeout_ms: int) -> tuple[list[str], int]:
    """Each search's first page equals the plain query's; page two follows page one.

    The plain query is the filters' meaning as the ORM writes it, and at 10M rows
    it can take many seconds: one stopped after ``timeout_ms`` is not counted as
    checked. Returns the problems and how many searches were checked.
    """
    from django.db import OperationalError, connection, transaction
    from django.http import QueryDict

    from backoffice.search import scoping
    from backoffice.search.filters import TransactionFilterSet

    def plain_ids(plain, start, stop):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])
            ordered = plain.order_by("-created_at", "-pk").values_list("pk", flat=True)
            return list(ordered[start:stop])

    problems, checked = [], 0
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
        try:
            expected = plain_ids(plain, 0, 51)
            expected_second = plain_ids(plain, 50, 100) if page.next_cursor else []
        except OperationalError:
            continue  # the plain query ran out of time: nothing to compare with
        checked += 1
        got = [payment.pk for payment in page.payments]
        if got != expected[:50] or bool(page.next_cursor) != (len(expected) > 50):
            problems.append(f"{kind} {params}: page differs from the plain query")
            continue
        if page.next_cursor:
            second = _ours(request, params, cursor=page.next_cursor)
            if [payment.pk for payment in second.payments] != expected_second:
                problems.append(f"{kind} {params}: the second page does not follow the first")
    return problems, checked


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


def _machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + ", "
                break
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {gib:.0f} GiB RAM"
    return (
        f"{model}{platform.machine()}, {os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )


def _load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages: how busy the machine was with other work."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=3_000)
    parser.add_argument("--plain-searches", type=int, default=300)
    parser.add_argument("--plain-timeout-ms", type=int, default=5_000)
    parser.add_argument(
        "--plain-budget-s", type=float, default=300.0, help="for each of 1 and 4 users"
    )
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--check-timeout-ms", type=int, default=20_000)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the size's database if already loaded"
    )
    options = parser.parse_args()

    url = _database_url(options.rows)
    load = _prepare_database(url, options.rows, options.reuse)
    rng = random.Random(7)
    searches = _searches(options.searches, rng)
    requests = _requests()

    # Warm the caches once (as a server that has been up a while), then measure.
    for _kind, council, params in searches[:200]:
        _ours(requests[council], params)
    problems, checked = _check(searches[: options.checks], requests, options.check_timeout_ms)

    load_before = _load_average()
    one_user, one_user_cpu, one_user_routes, one_user_timeouts = _run_ours(searches, 1)
    load_after_one = _load_average()
    four_users, _, _, four_users_timeouts = _run_ours(searches, 4)
    load_after_four = _load_average()
    plain_sample = rng.sample(searches, min(options.plain_searches, len(searches)))
    plain_runs = {}
    for workers in (1, 4):
        timings, timeouts = _run_plain(
            plain_sample, workers, options.plain_timeout_ms, options.plain_budget_s
        )
        plain_runs[workers] = {
            **_percentiles(timings),
            "searches": len(timings),
            "timeouts": timeouts,
            "timeout_ms": options.plain_timeout_ms,
        }

    from django.db import connection

    ours_1 = _percentiles(one_user)
    ours_4 = _percentiles(four_users)
    worst_p95 = max(ours_1["p95_ms"], ours_4["p95_ms"])
    worst_max = max(ours_1["max_ms"], ours_4["max_ms"])
    meets = worst_p95 < TARGET_P95_MS and worst_max < TARGET_MAX_MS
    print(
        json.dumps(
            {
                "bench": "search",
                "machine": _machine(),
                "load_average": {
                    "before": load_before,
                    "after_1_user": load_after_one,
                    "after_4_users": load_after_four,
                },
                "database": f"PostgreSQL {connection.pg_version // 10000}",
                "rows": options.rows,
                "councils": COUNCILS,
                "load_seconds": load["load_seconds"],
                "searches": len(searches),
                "ours_1_user": {**ours_1, "timeouts": one_user_timeouts},
                "ours_4_users": {**ours_4, "timeouts": four_users_timeouts},
                "ours_cpu_ms_1_user": _percentiles(one_user_cpu),
                "ours_routes_1_user": _by_route(one_user_routes),
                "ours_slowest_kinds_p95_ms": {
                    "1_user": _slowest_kinds(one_user),
                    "4_users": _slowest_kinds(four_users),
                },
                "plain_admin_1_user": plain_runs[1],
                "plain_admin_4_users": plain_runs[4],
                "plain_vs_ours_p50": {
                    f"{workers}_user{'s' if workers > 1 else ''}": (
                        round(plain_runs[workers]["p50_ms"] / ours["p50_ms"], 1)
                        if plain_runs[workers].get("p50_ms")
                        else None
                    )
                    for workers, ours in ((1, ours_1), (4, ours_4))
                },
                "target": {
                    "rows": TARGET_ROWS,
                    "p95_ms": TARGET_P95_MS,
                    "max_ms": TARGET_MAX_MS,
                },
                "meets_target": meets if options.rows >= TARGET_ROWS else None,
                "within_target_figures_at_this_size": meets,
                "correctness": problems[:5] or f"{checked} checked",
                "correctness_unchecked": min(options.checks, len(searches)) - checked,
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
