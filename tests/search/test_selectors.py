"""How the search finds a page in years of history: whatever the route, the plain query's answer.

A text search takes one of several routes by how common the text is
(docs/search.md): among the council's newest payments, walking newest first,
or among the payments its look-up (search terms, then their payments) finds.
Here a few thousand generated payments and small route sizes make every
route happen, and every page is compared with the filters' plain meaning:
the ORM query of ``TransactionFilterSet``, newest first.
"""

import datetime

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Replace, Upper
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.payments.models import Payment, PaymentLine
from backoffice.search import scoping, selectors
from backoffice.search.filters import TransactionFilterSet
from backoffice.search.models import SearchTerm, TermKind
from backoffice.search.selectors import Route
from backoffice.tenancy.models import Organisation
from fixtures.history import SURNAMES, generate_history
from tests.factories import staff
from tests.markers import postgresql_only

from .conftest import SEARCH_URL

pytestmark = [pytest.mark.django_db, postgresql_only("COPY and the trigram indexes")]

PAGE = 5  # small pages, so that a few thousand payments give many of them


@pytest.fixture
def history():
    """The first of two councils sharing 3,000 generated payments."""
    generate_history(payments=3_000, councils=2, seed=11)
    return Organisation.objects.get(code="history-1")


@pytest.fixture
def request_for(history):
    user = staff(history, roles=(INCOME_OFFICER,), username="history.officer")
    request = RequestFactory().get(SEARCH_URL)
    request.user = user
    request.organisation = history
    return request


@pytest.fixture
def small_routes(monkeypatch):
    """Route sizes scaled down with the data: a window of 300 payments, and a text is
    common from 2 matches in it, or more than 20 distinct texts or 30 payments in all."""
    monkeypatch.setattr(selectors, "RECENT_WINDOW", 300)
    monkeypatch.setattr(selectors, "TERM_LIMIT", 20)
    monkeypatch.setattr(selectors, "COMMON_IN_WINDOW", 2)
    monkeypatch.setattr(selectors, "CANDIDATE_LIMIT", 30)
    monkeypatch.setattr(selectors, "REFERENCE_CANDIDATE_LIMIT", 30)


def search(request, params, cursor=""):
    """The page as the screen gets it, and the plain query of the same filters."""
    request.__dict__.pop(scoping._CACHE_ATTRIBUTE, None)
    filterset = TransactionFilterSet(
        params or None, queryset=scoping.visible_payments(request), request=request
    )
    assert not filterset.is_bound or filterset.is_valid(), filterset.errors
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    page = selectors.search_payments(
        queryset=queryset,
        organisation_id=request.organisation.pk,
        criteria=filterset.criteria() if filterset.is_bound else {},
        cursor=cursor,
        page_size=PAGE,
    )
    return page, queryset.order_by("-created_at", "-pk").values_list("pk", flat=True)


def assert_pages_as_plain(request, params, pages=3) -> list[str]:
    """The first ``pages`` pages equal the plain query's, in order; the routes taken."""
    page, plain = search(request, params)
    expected = list(plain[: PAGE * pages + 1])
    seen, routes = [], []
    for number in range(pages):
        got = [payment.pk for payment in page.payments]
        assert got == expected[number * PAGE : (number + 1) * PAGE], (params, number, page.route)
        routes.append(page.route)
        seen.extend(got)
        if not page.next_cursor:
            assert len(expected) <= (number + 1) * PAGE, params
            break
        page, _ = search(request, params, cursor=page.next_cursor)
    assert len(seen) == len(set(seen))
    return routes


def _texts(council, count=60):
    """Things staff type, taken from the council's own payments (newest and oldest)."""
    payments = list(Payment.objects.filter(organisation=council).order_by("-pk")[: count // 2])
    payments += list(Payment.objects.filter(organisation=council).order_by("pk")[: count // 2])
    texts = []
    for payment in payments:
        line = PaymentLine.objects.filter(payment=payment).first()
        digits = "".join(ch for ch in line.account_reference if ch.isalnum())
        texts.append({"reference": line.account_reference})
        texts.append({"reference": digits[2:6], "reference_match": "part"})
        if payment.payer_name:
            texts.append({"payer_name": payment.payer_name})
            texts.append({"payer_name": payment.payer_name.split()[0]})
            texts.append({"postcode": payment.postcode})
            texts.append({"postcode": payment.postcode.split()[0]})
        if payment.payer_email:
            texts.append({"payer_email": payment.payer_email.split("@")[0]})
        if payment.provider_reference:
            texts.append({"provider_reference": payment.provider_reference[5:12]})
    return texts + [{"payer_name": surname} for surname in SURNAMES[:40]]


def test_every_route_gives_the_plain_querys_pages(request_for, history, small_routes):
    routes = set()
    for params in _texts(history):
        routes.update(assert_pages_as_plain(request_for, params))
    assert {Route.WINDOW, Route.WALK, Route.CANDIDATES} <= routes


def test_text_with_other_filters_gives_the_plain_querys_pages(request_for, history, small_routes):
    newest = Payment.objects.filter(organisation=history).order_by("-created_at").first()
    until = newest.created_at.date() - datetime.timedelta(days=200)
    fund = PaymentLine.objects.filter(organisation=history).first().fund_code_id
    routes = set()
    for params in _texts(history, count=20):
        for extra in (
            {"created_from": (until - datetime.timedelta(days=400)).isoformat()},
            {"created_to": until.isoformat()},
            {"status": "success"},
            {"fund_code": str(fund)},
            {"channel": "online", "method": "card"},
        ):
            routes.update(assert_pages_as_plain(request_for, params | extra, pages=2))
    assert Route.CANDIDATES in routes
    assert Route.WALK in routes


def test_a_short_history_is_walked_whole(request_for, history, monkeypatch):
    monkeypatch.setattr(selectors, "RECENT_WINDOW", 10_000)
    assert assert_pages_as_plain(request_for, {"payer_name": "smith"})[0] == Route.SHORT_WALK


def test_searches_without_text_are_left_to_the_planner(request_for, history):
    assert assert_pages_as_plain(request_for, {"status": "success"}) == [Route.PLAIN] * 3


@given(data=st.data())
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_fragment_of_any_field_finds_what_the_plain_query_finds(
    request_for, history, small_routes, data
):
    named = Payment.objects.filter(organisation=history).exclude(payer_name="")
    payment = data.draw(st.sampled_from(list(named.order_by("pk")[:300])))
    reference = PaymentLine.objects.filter(payment=payment).first().account_reference
    field, text = data.draw(
        st.sampled_from(
            [
                ("payer_name", payment.payer_name),
                ("payer_email", payment.payer_email),
                ("postcode", payment.postcode),
                ("provider_reference", payment.provider_reference),
                ("reference", reference),
            ]
        ).filter(lambda pair: len(pair[1]) >= 3)
    )
    start = data.draw(st.integers(0, len(text) - 3))
    fragment = text[start : start + data.draw(st.integers(3, len(text) - start))]
    if sum(ch.isalnum() for ch in fragment) < 3 or not any(
        fragment[i : i + 3].isalnum() for i in range(len(fragment) - 2)
    ):
        fragment = text  # the form wants three letters or digits in a row
    params = {field: fragment}
    if field == "reference":
        params["reference_match"] = "part"
    if data.draw(st.booleans()):
        params["status"] = data.draw(st.sampled_from(["success", "refunded", "failed"]))
    assert_pages_as_plain(request_for, params, pages=2)


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _assert_index(plan: str, index: str, *condition: str):
    assert f"Index Scan on {index} " in plan, plan
    found = plan.split(f"Index Scan on {index} ", 1)[1].splitlines()[1]
    assert "Index Cond" in found, plan
    for part in ("organisation_id", *condition):
        assert part in found, plan


def test_each_look_up_reads_its_councils_indexes(history):
    """The look-ups are the filters' own expressions, and the migration's indexes serve
    them: if either changes alone, this fails rather than every search reading the table."""
    # A council's distinct texts number tens of thousands, not the generated few hundred.
    SearchTerm.objects.bulk_create(
        SearchTerm(organisation=history, kind=kind, term=f"{kind.upper()} {number:06d}")
        for kind in TermKind.values
        for number in range(5_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SearchTerm._meta.db_table}")
    with selectors.bounded_search(**selectors.LOOKUP_SETTINGS):
        for kind in TermKind.values:
            plan = _plan(selectors.term_query(history.pk, kind, "abc")[:501])
            _assert_index(plan, f"search_term_{kind}_trgm", "upper(term)")
        cases = [
            ({"payer_name": "smith"}, "search_payment_payer_name"),
            ({"payer_email": "smith"}, "search_payment_payer_email"),
            ({"postcode": "bs1 2"}, "search_payment_postcode"),
            ({"provider_reference": "abcd"}, "search_payment_provider_ref_org_trgm"),
            ({"reference": "1234", "reference_match": "part"}, "search_line_reference_exact"),
            ({"reference": "30123456", "reference_match": "whole"}, "search_line_reference_exact"),
        ]
        for criteria, index in cases:
            ((limit, lookup),) = list(selectors._lookups(history.pk, criteria))
            _assert_index(_plan(lookup[: limit + 1]), index)


def test_every_text_of_every_payment_and_line_is_a_search_term(history, council, parking, take):
    """The look-ups find a payment only through its texts' terms: a text missing from them
    would be a payment no search finds. Loaded in bulk, taken, corrected: all there."""
    from backoffice.payments.services import Payer

    taken = take(
        parking,
        1_000,
        "pp 1234",
        payer=Payer(name="Zoë O'Brien-Smith", email="Zoe@Mail.test", postcode="ba2  3cd"),
    )
    Payment.objects.filter(pk=taken.pk).update(payer_name="Zoë Smith")
    PaymentLine.objects.filter(payment=taken).update(account_reference="PP 9999")
    # In capitals as PostgreSQL writes them (Python's rules differ for a few letters).
    KINDS = (TermKind.NAME, TermKind.EMAIL, TermKind.POSTCODE)
    texts = Payment.objects.values_list(
        "organisation_id",
        Upper("payer_name"),
        Upper("payer_email"),
        Upper(Replace("postcode", Value(" "), Value(""))),
    )
    expected = {
        (council_id, kind, text)
        for council_id, *values in texts
        for kind, text in zip(KINDS, values, strict=True)
        if text
    }
    references = PaymentLine.objects.values_list("organisation_id", Upper("account_reference"))
    expected |= {
        (council_id, TermKind.REFERENCE, reference) for council_id, reference in references
    }
    recorded = set(SearchTerm.objects.values_list("organisation_id", "kind", "term"))
    assert expected <= recorded
    names = {term for council_id, kind, term in recorded if kind == TermKind.NAME}
    assert {"ZOË SMITH", "ZOË O'BRIEN-SMITH"} <= {name.replace("ë", "Ë") for name in names}


def test_a_payment_is_found_by_its_new_name(request_for, history):
    payment = Payment.objects.filter(organisation=history).order_by("pk").first()
    Payment.objects.filter(pk=payment.pk).update(payer_name="Quentin Xylophone")
    page, _ = search(request_for, {"payer_name": "xyloph"})
    assert [found.pk for found in page.payments] == [payment.pk]


def test_walking_never_reads_every_matching_line(request_for, history):
    """Walking newest first checks each payment's lines, by its id; it must not instead
    read the council's matching lines wholesale (to hash, merge, sort or keep them)."""
    filterset = TransactionFilterSet(
        {"reference": "1234", "reference_match": "part"},
        queryset=scoping.visible_payments(request_for),
        request=request_for,
    )
    assert filterset.is_valid()
    queryset = filterset.qs.order_by("-created_at", "-pk")[:51]
    sql, params = queryset.query.sql_with_params()
    with selectors.bounded_search(**selectors.WALK_SETTINGS), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward" in plan, plan
    for forbidden in ("Hash", "Merge", "Materialize", "Seq Scan", "Bitmap"):
        assert forbidden not in plan, plan
    nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    assert not [node for node in nodes if node.startswith("Sort  (")], plan  # incremental: fine
    lines_scan = plan.split("on payments_paymentline", 1)[1].splitlines()[1]
    assert "Index Cond: (payment_id = payments_payment.id)" in lines_scan, plan


def test_a_page_costs_the_same_few_queries_however_long(request_for, history):
    def queries(page_size):
        filterset = TransactionFilterSet(
            {"postcode": "BS1"},  # a tenth of the council's payments
            queryset=scoping.visible_payments(request_for),
            request=request_for,
        )
        assert filterset.is_valid()
        with CaptureQueriesContext(connection) as captured:
            page = selectors.search_payments(
                queryset=filterset.qs,
                organisation_id=history.pk,
                criteria=filterset.criteria(),
                page_size=page_size,
            )
            # What the results screen and the export read: no query per payment.
            shown = [
                (
                    str(payment),
                    payment.created_at,
                    payment.get_channel_display(),
                    payment.payer_email,
                    payment.provider_reference,
                    payment.created_by and payment.created_by.get_full_name(),
                    payment.search_lines,
                )
                for payment in page.payments
            ]
        return len(captured), len(shown)

    few, shown_few = queries(2)
    many, shown_many = queries(50)
    assert shown_few == 2 and shown_many == 50
    assert few == many <= 10
