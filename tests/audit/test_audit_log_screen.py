"""Reports > Audit log: auditors search their council's log, page through it, download it."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from backoffice.accounts.roles import (
    AUDITOR,
    CASHIER,
    FINANCE_ADMINISTRATOR,
    INCOME_OFFICER,
    SYSTEM_ADMINISTRATOR,
)
from backoffice.audit.models import AuditAction, AuditEvent
from backoffice.audit.views import PAGE_SIZE
from tests.conftest import assert_permission_denied
from tests.factories import staff

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(datetime.datetime(2026, 3, 2, 12, 0))


def event(organisation, user=None, *, at=NOON, action=AuditAction.VIEW, **fields):
    """An event as the middleware would have written it."""
    return AuditEvent.objects.create(
        organisation=organisation,
        user=user,
        username=user.username if user else fields.pop("username", ""),
        at=at,
        action=action,
        **fields,
    )


def shown(response):
    return [event.pk for event in response.context["events"]]


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def history(council, other_council, officer):
    """A morning at Barsetshire, and one event at Wessex that Barsetshire must never see."""
    wessex_officer = staff(other_council, roles=(INCOME_OFFICER,), username="wessex.officer")
    return {
        "viewed": event(
            council,
            officer,
            at=NOON - datetime.timedelta(hours=3),
            object_type="payments.payment",
            object_id="41",
            description="payment 41",
            path="/admin/transactions/payments/inspect/41/",
            method="GET",
            status_code=200,
            ip_address="198.51.100.23",
        ),
        "refunded": event(
            council,
            officer,
            at=NOON - datetime.timedelta(hours=2),
            action=AuditAction.REFUND,
            object_type="payments.payment",
            object_id="41",
            description="payment 41",
            path="/admin/transactions/payments/refund/41/",
            method="POST",
            status_code=302,
            ip_address="198.51.100.23",
        ),
        "searched": event(
            council,
            officer,
            at=NOON - datetime.timedelta(hours=1),
            action=AuditAction.SEARCH,
            object_type="payments.payment",
            description="payments",
            path="/admin/transactions/payments/",
            method="GET",
            status_code=200,
            ip_address="203.0.113.77",
            query={"q": ["Example"]},
        ),
        "elsewhere": event(
            other_council,
            wessex_officer,
            at=NOON,
            object_type="payments.payment",
            object_id="41",
            description="payment 41",
            path="/admin/transactions/payments/inspect/41/",
            ip_address="198.51.100.23",
        ),
    }


def search(client, **filters):
    return client.get(reverse("audit_log"), filters)


# Who may read the log ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [AUDITOR, FINANCE_ADMINISTRATOR, SYSTEM_ADMINISTRATOR])
def test_the_audit_log_opens_for_roles_that_may_read_it(client, council, role):
    client.force_login(staff(council, roles=(role,)))

    response = client.get(reverse("audit_log"))

    assert response.status_code == 200
    assert "Audit log" in response.content.decode()


@pytest.mark.parametrize("role", [INCOME_OFFICER, CASHIER])
@pytest.mark.parametrize("url_name", ["audit_log", "audit_log_export"])
def test_roles_without_the_permission_are_refused(client, council, role, url_name):
    client.force_login(staff(council, roles=(role,)))

    assert_permission_denied(client.get(reverse(url_name)))


def test_the_reports_menu_offers_the_audit_log_only_to_those_who_may_read_it(
    client, council, auditor, officer
):
    client.force_login(auditor)
    assert reverse("audit_log") in client.get(reverse("wagtailadmin_home")).content.decode()

    client.force_login(officer)
    assert reverse("audit_log") not in client.get(reverse("wagtailadmin_home")).content.decode()


# What the auditor sees --------------------------------------------------------------------


def test_the_log_lists_the_councils_events_newest_first_and_no_other_councils(
    auditor_client, history
):
    listed = shown(search(auditor_client))

    council_events = [history["searched"].pk, history["refunded"].pk, history["viewed"].pk]
    assert listed[-3:] == council_events  # after the auditor's own sign-in, which is newest
    assert history["elsewhere"].pk not in listed


def test_another_councils_events_stay_hidden_whatever_the_filters(auditor_client, history):
    response = search(auditor_client, object_type="payments.payment", object_id="41")

    assert history["elsewhere"].pk not in shown(response)
    assert "wessex.officer" not in response.content.decode()


def test_a_system_administrator_who_is_a_superuser_sees_every_council(client, council, history):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)

    response = search(client, object_type="payments.payment", object_id="41")

    assert set(shown(response)) == {
        history["viewed"].pk,
        history["refunded"].pk,
        history["elsewhere"].pk,
    }
    assert "Wessex District Council" in response.content.decode()


def test_a_superuser_can_narrow_the_log_to_one_council(client, council, other_council, history):
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))

    response = search(client, organisation=other_council.pk)

    assert shown(response) == [history["elsewhere"].pk]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"action": "refund"}, ["refunded"], id="action"),
        pytest.param(
            {"object_type": "payments.payment", "object_id": "41"},
            ["refunded", "viewed"],
            id="object type and id",
        ),
        pytest.param({"ip_address": "203.0.113.77"}, ["searched"], id="IP address"),
        pytest.param({"q": "REFUND/41"}, ["refunded"], id="text in the path, any case"),
        pytest.param({"q": "payment 41"}, ["refunded", "viewed"], id="text in what"),
        pytest.param(
            {"start": "2026-03-02T09:30", "end": "2026-03-02T10:30"},
            ["refunded"],
            id="time range",
        ),
    ],
)
def test_filters_narrow_the_log(auditor_client, history, filters, expected):
    assert shown(search(auditor_client, **filters)) == [history[name].pk for name in expected]


def test_filtering_by_member_of_staff(auditor_client, history, officer, council):
    someone_else = staff(council, roles=(INCOME_OFFICER,))
    theirs = event(council, someone_else, description="payment 99")

    assert shown(search(auditor_client, user=someone_else.pk)) == [theirs.pk]
    assert len(shown(search(auditor_client, user=officer.pk))) == 3


def test_staff_of_another_council_cannot_be_picked(auditor_client, history):
    wessex_officer = history["elsewhere"].user

    response = search(auditor_client, user=wessex_officer.pk)

    assert shown(response) == []
    assert "Select a valid choice" in response.content.decode()


def test_an_ip_address_that_is_not_one_is_explained_and_finds_nothing(auditor_client, history):
    response = search(auditor_client, ip_address="198.51.100")

    assert response.status_code == 200
    assert shown(response) == []
    assert "Enter a valid IPv4 or IPv6 address" in response.content.decode()


def test_the_auditors_search_is_itself_recorded(auditor_client, auditor, events_after):
    (recorded,) = events_after(lambda: search(auditor_client, action="refund", q="41"))

    assert recorded.action == AuditAction.SEARCH
    assert recorded.user == auditor
    assert recorded.query == {"action": ["refund"], "q": ["41"]}


# Paging ----------------------------------------------------------------------------------


def test_paging_shows_every_event_exactly_once_even_when_many_share_a_moment(
    auditor_client, council, officer
):
    # Three moments, each shared by more events than a page holds: ties in `at` everywhere.
    for minutes in (0, 1, 2):
        for _ in range(PAGE_SIZE // 2 + 7):
            event(council, officer, at=NOON + datetime.timedelta(minutes=minutes))
    expected = list(
        AuditEvent.objects.filter(organisation=council)
        .order_by("-at", "-id")
        .values_list("pk", flat=True)
    )

    seen, url, pages = [], reverse("audit_log"), 0
    while url:
        response = auditor_client.get(url)
        seen += shown(response)
        url = response.context["next_page_url"]
        pages += 1

    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert pages == -(-len(expected) // PAGE_SIZE)


def test_paging_keeps_the_filters(auditor_client, council, officer):
    for _ in range(PAGE_SIZE + 5):
        event(council, officer, action=AuditAction.REFUND)
    event(council, officer, action=AuditAction.VIEW)

    first = search(auditor_client, action="refund")
    second = auditor_client.get(first.context["next_page_url"])

    assert len(shown(first)) == PAGE_SIZE
    assert first.context["has_more"]
    assert "there are more" in first.content.decode()
    assert len(shown(second)) == 5
    assert not second.context["has_more"]
    assert {e.action for e in second.context["events"]} == {AuditAction.REFUND}


def test_a_page_link_that_was_tampered_with_shows_the_newest_events_and_says_so(
    auditor_client, history
):
    response = auditor_client.get(reverse("audit_log"), {"cursor": "yesterday_or_so"})

    assert response.status_code == 200
    assert "That page link is not valid" in response.content.decode()
    assert history["searched"].pk in shown(response)


# Export ----------------------------------------------------------------------------------


def download(client, **filters):
    response = client.get(reverse("audit_log_export"), filters)
    assert response.status_code == 200, response.content
    content = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(content)))


def test_the_export_is_the_filtered_events_as_csv(auditor_client, history):
    response, rows = download(auditor_client, object_type="payments.payment", object_id="41")

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit-log-barsetshire-' in response["Content-Disposition"]
    assert [(row["action"], row["what"], row["IP address"]) for row in rows] == [
        ("Refund", "payment 41", "198.51.100.23"),
        ("View", "payment 41", "198.51.100.23"),
    ]
    assert rows[0]["username"] == "income.officer"
    assert rows[0]["path"] == "/admin/transactions/payments/refund/41/"


def test_the_export_holds_no_other_councils_events(auditor_client, history):
    _, rows = download(auditor_client)

    # The morning's three, and the auditor's own sign-in and this very export: the file
    # is written after the request is recorded.
    assert sorted(row["username"] for row in rows) == ["income.officer"] * 3 + ["the.auditor"] * 2
    assert "wessex" not in {row["council"] for row in rows}


def test_the_export_is_itself_recorded_with_its_filters(auditor_client, auditor, events_after):
    (recorded,) = events_after(lambda: download(auditor_client, action="refund"))

    assert recorded.action == AuditAction.EXPORT
    assert recorded.user == auditor
    assert recorded.query == {"action": ["refund"]}


def test_a_tried_username_cannot_become_a_spreadsheet_formula(auditor_client, council):
    event(
        council,
        action=AuditAction.SIGN_IN_FAILED,
        username='=HYPERLINK("http://attacker.example","x")',
    )

    _, rows = download(auditor_client, action="sign_in_failed")

    assert rows[0]["username"] == '\'=HYPERLINK("http://attacker.example","x")'


def test_an_export_with_a_bad_filter_is_refused_with_the_reason(auditor_client):
    response = auditor_client.get(reverse("audit_log_export"), {"ip_address": "nowhere"})

    assert response.status_code == 400
    assert "Enter a valid IPv4 or IPv6 address" in response.content.decode()
