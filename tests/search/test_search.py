"""Transactions > Search: each filter, partial and exact matches, pages, export, timeouts."""

import csv
import io

import pytest
from django.db import connection
from django.test import override_settings

from backoffice.listing import InvalidCursor
from backoffice.payments.models import Payment
from backoffice.payments.services import Payer
from backoffice.search import selectors
from backoffice.search.filters import MIN_PARTIAL_LENGTH
from backoffice.search.selectors import encode_cursor
from tests.markers import postgresql_only

from .conftest import EXPORT_URL, SEARCH_URL, days_ago, set_created_at

pytestmark = pytest.mark.django_db

on_postgresql = postgresql_only("statement_timeout")


def found(client, **params):
    response = client.get(SEARCH_URL, params)
    assert response.status_code == 200, response.content[:500]
    return [row["payment"].pk for row in response.context["rows"]]


@pytest.fixture
def history(council, parking, licensing, take, officer):
    """Four payments of Barsetshire, oldest first, each findable by something of its own."""
    ann = take(
        parking,
        4_550,
        "PP123456",
        payer=Payer(name="Ann Example", email="ann.example@mail.test", postcode="BA1 1GH"),
    )
    bob = take(
        licensing,
        12_000,
        "LN004512",
        payer=Payer(name="Bob Smithson", email="bob@post.test", postcode="BS2 9ZZ"),
        channel="telephone",
        method="card",
        created_by=officer,
    )
    cat = take(
        parking,
        4_550,
        "PP999001",
        payer=Payer(name="Cat Smith", email="cat.smith@mail.test", postcode="BA2 3CD"),
    )
    for days, payment in zip((30, 20, 10), (ann, bob, cat), strict=True):
        set_created_at(payment, days_ago(days))
    Payment.objects.filter(pk=bob.pk).update(provider_reference="hu20sqlr1h9nugmlp3trvtgrf")
    return {"ann": ann.pk, "bob": bob.pk, "cat": cat.pk}


def test_with_no_filters_the_newest_payments_come_first(officer_client, history):
    assert found(officer_client) == [history["cat"], history["bob"], history["ann"]]


def test_an_exact_receipt_number_finds_its_payment(officer_client, history):
    receipt = Payment.objects.get(pk=history["bob"]).receipt_number
    assert found(officer_client, receipt_number=receipt.lower()) == [history["bob"]]


def test_a_whole_reference_matches_exactly_in_any_case(officer_client, history):
    assert found(officer_client, reference="pp123456") == [history["ann"]]
    assert found(officer_client, reference="PP1234") == []


def test_part_of_a_reference_matches_when_asked_for(officer_client, history):
    assert found(officer_client, reference="PP", reference_match="part") == []  # too short
    assert found(officer_client, reference="1234", reference_match="part") == [history["ann"]]
    assert found(officer_client, reference="pp", reference_match="whole") == []


def test_part_of_a_name_email_or_postcode_matches(officer_client, history):
    assert found(officer_client, payer_name="smith") == [history["cat"], history["bob"]]
    assert found(officer_client, payer_email="mail.test") == [history["cat"], history["ann"]]
    # Postcodes compare without spaces: however the payer or officer typed them.
    assert found(officer_client, postcode="ba11g") == [history["ann"]]
    assert found(officer_client, postcode="BA1 1GH") == [history["ann"]]


def test_part_of_a_provider_reference_matches(officer_client, history):
    assert found(officer_client, provider_reference="sqlr1h9") == [history["bob"]]


def test_like_wildcards_typed_are_matched_literally(officer_client, history):
    assert found(officer_client, payer_name="%%%_") == []


@pytest.mark.parametrize("field", ["payer_name", "payer_email", "postcode", "provider_reference"])
def test_a_partial_match_needs_three_letters_or_digits_in_a_row(officer_client, history, field):
    response = officer_client.get(SEARCH_URL, {field: "a.b"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    message = response.context["filter_form"].errors[field][0]
    assert f"at least {MIN_PARTIAL_LENGTH} letters or digits in a row" in message


def test_amount_date_range_fund_channel_method_status_and_taker(
    officer_client, history, licensing, parking, officer
):
    assert found(officer_client, amount="45.50") == [history["cat"], history["ann"]]
    assert found(officer_client, amount="£120") == [history["bob"]]
    start, end = days_ago(25).date().isoformat(), days_ago(15).date().isoformat()
    assert found(officer_client, created_from=start, created_to=end) == [history["bob"]]
    assert found(officer_client, fund_code=licensing.pk) == [history["bob"]]
    assert found(officer_client, fund_code=parking.pk, amount="45.50") == [
        history["cat"],
        history["ann"],
    ]
    assert found(officer_client, channel="telephone") == [history["bob"]]
    assert found(officer_client, method="cash") == [history["cat"], history["ann"]]
    assert found(officer_client, status="success") == [
        history["cat"],
        history["bob"],
        history["ann"],
    ]
    assert found(officer_client, status="refunded") == []
    assert found(officer_client, taken_by=officer.pk) == [history["bob"]]


def test_a_date_range_backwards_is_refused(officer_client, history):
    response = officer_client.get(
        SEARCH_URL, {"created_from": "2026-02-01", "created_to": "2026-01-01"}
    )
    assert "before its start" in response.context["filter_form"].errors["created_to"][0]


def test_each_result_opens_the_payment(officer_client, history):
    response = officer_client.get(SEARCH_URL, {"payer_name": "ann ex"})
    (row,) = response.context["rows"]
    assert row["url"] == f"/admin/transactions/payments/inspect/{history['ann']}/"
    assert officer_client.get(row["url"]).status_code == 200


def test_pages_give_each_payment_exactly_once_even_with_equal_times(officer_client, parking, take):
    payments = [take(parking, 100 + n, f"PP{n:06d}") for n in range(7)]
    same_moment = days_ago(3)
    for payment in payments[:5]:
        set_created_at(payment, same_moment)  # a bank file: one timestamp for many
    queryset = Payment.objects.filter(organisation=payments[0].organisation)
    seen, cursor = [], ""
    while True:
        page = selectors.search_payments(
            queryset=queryset,
            organisation_id=payments[0].organisation_id,
            criteria={},
            cursor=cursor,
            page_size=2,
        )
        seen.extend(payment.pk for payment in page.payments)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(payment.pk for payment in payments)
    assert len(seen) == len(set(seen))
    expected = [p.pk for p in queryset.order_by("-created_at", "-pk")]
    assert seen == expected


def test_the_next_page_link_follows_on(officer_client, parking, take):
    taken = [take(parking, 100 + n, f"PP{n:06d}") for n in range(selectors.PAGE_SIZE + 3)]
    first = officer_client.get(SEARCH_URL, {"reference": "PP0000", "reference_match": "part"})
    assert first.context["has_more"]
    assert b"more than 50 match" in first.content
    second = officer_client.get(first.context["next_page_url"])
    shown = [row["payment"].pk for row in first.context["rows"] + second.context["rows"]]
    assert sorted(shown) == sorted(payment.pk for payment in taken)
    assert not second.context["has_more"]


def test_a_tampered_cursor_is_refused(officer_client, history):
    payment = Payment.objects.get(pk=history["bob"])
    cursor = encode_cursor(payment)
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    response = officer_client.get(SEARCH_URL, {"cursor": tampered})
    assert response.status_code == 400
    assert "page link is not valid" in response.context["cursor_error"]
    assert response.context["rows"] == []


def test_an_unsigned_cursor_made_by_hand_is_refused():
    with pytest.raises(InvalidCursor):
        selectors.decode_cursor("2026-01-01T00:00:00+00:00_5")


def test_the_export_has_every_match_with_formulas_defused(officer_client, parking, take):
    take(parking, 1_000, "PP000001", payer=Payer(name='=HYPERLINK("http://x.test")'))
    take(parking, 2_000, "PP000002", payer=Payer(name="+44 Plain Name"))
    take(parking, 3_000, "QQ000003", payer=Payer(name="Not Matched"))
    response = officer_client.get(EXPORT_URL, {"reference": "PP0000", "reference_match": "part"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Receipt number", "Created", "Status"]
    names = [row[8] for row in rows[1:]]
    assert names == ["'+44 Plain Name", '\'=HYPERLINK("http://x.test")']
    assert rows[1][5] == "20.00"
    assert rows[1][7] == "PARK PP000002"


def test_the_export_is_fetched_in_batches(officer_client, parking, take, monkeypatch):
    for n in range(5):
        take(parking, 100 + n, f"PP{n:06d}")
    calls = []
    original = selectors.search_payments

    def counting(**kwargs):
        calls.append(kwargs["page_size"])
        return original(**kwargs)

    monkeypatch.setattr(selectors, "search_payments", counting)
    iterate = selectors.iterate_payments
    payments = list(
        iterate(
            queryset=Payment.objects.all(),
            organisation_id=Payment.objects.first().organisation_id,
            criteria={},
            batch_size=2,
        )
    )
    assert len(payments) == 5
    assert calls == [2, 2, 2]


def test_an_export_with_bad_filters_says_why(officer_client, history):
    response = officer_client.get(EXPORT_URL, {"payer_name": "ab"})
    assert response.status_code == 400
    assert b"letters or digits in a row" in response.content


@on_postgresql
def test_a_search_that_runs_out_of_time_asks_to_narrow_it(officer_client, history):
    # The history here is tiny, so a search this small cannot run long by itself: a 1 ms
    # limit with a sleep in the search's own transaction stands in for a slow one.
    original = selectors._text_page

    def slow(*args):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
        return original(*args)

    with override_settings(SEARCH_STATEMENT_TIMEOUT_MS=1):
        import unittest.mock

        with unittest.mock.patch.object(selectors, "_text_page", slow):
            response = officer_client.get(SEARCH_URL, {"payer_name": "smith"})
    assert response.status_code == 200
    assert "took too long" in response.context["problem"]
    assert response.context["rows"] == []
    # The connection is usable afterwards, with no limit left behind.
    assert found(officer_client, payer_name="smith") == [history["cat"], history["bob"]]


@on_postgresql
def test_the_statement_timeout_is_set_only_inside_the_search():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
        with override_settings(SEARCH_STATEMENT_TIMEOUT_MS=1234), selectors.bounded_search():
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1234ms"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_the_search_is_in_the_transactions_menu(officer_client):
    response = officer_client.get("/admin/")
    assert SEARCH_URL.encode() in response.content


def test_staff_without_payment_rights_cannot_search(client, council):
    from backoffice.accounts.roles import CASHIER
    from tests.factories import staff

    client.force_login(staff(council, roles=(CASHIER,), username="cashier"))
    response = client.get(SEARCH_URL)
    assert response.status_code in (302, 403)
    assert client.get(EXPORT_URL).status_code in (302, 403)
