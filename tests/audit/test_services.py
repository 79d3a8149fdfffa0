"""What an event keeps from a request: never secrets, and the address it truly came from."""

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from backoffice.audit.models import AuditAction
from backoffice.audit.services import (
    CARD_NUMBER_REMOVED,
    audit_record,
    client_ip,
    query_without_secrets,
)


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "new_password1",
        "client_secret",
        "api_key",
        "apiKey",
        "token",
        "csrfmiddlewaretoken",
        "card_number",
        "cvv",
    ],
)
def test_parameters_named_like_secrets_are_dropped(name):
    query = QueryDict(f"q=smith&{name}=hunter2")

    assert query_without_secrets(query) == {"q": ["smith"]}


def test_a_card_number_typed_into_a_search_box_is_not_kept():
    # 4444 3333 2222 1111 passes the Luhn check, as every real card number does.
    query = QueryDict("q=4444 3333 2222 1111&receipt=BAR-00001234")

    assert query_without_secrets(query) == {
        "q": [CARD_NUMBER_REMOVED],
        "receipt": ["BAR-00001234"],
    }


def test_a_long_account_number_that_is_no_card_number_is_kept():
    assert query_without_secrets(QueryDict("q=1234567890123")) == {"q": ["1234567890123"]}


def test_every_value_of_a_repeated_parameter_is_kept_and_empty_ones_dropped():
    query = QueryDict("status=success&status=refunded&channel=")

    assert query_without_secrets(query) == {"status": ["success", "refunded"]}


@pytest.mark.django_db
def test_a_recorded_search_keeps_no_secret(council, finance_admin):
    request = RequestFactory().get("/admin/x/", {"q": "smith", "password": "hunter2"})
    request.user = finance_admin
    request.organisation = council

    event = audit_record(action=AuditAction.SEARCH, request=request, query=request.GET)

    event.refresh_from_db()
    assert event.query == {"q": ["smith"]}
    assert "hunter2" not in str(event.query)


# Where a request came from ------------------------------------------------------------------


def request_from(remote_addr, forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/admin/", **extra)


def test_with_no_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.AUDIT_TRUSTED_PROXIES = 0

    assert client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_behind_one_trusted_proxy_the_rightmost_forwarded_address_is_the_client(settings):
    settings.AUDIT_TRUSTED_PROXIES = 1
    # The client sent a forged first entry; our proxy appended the address it saw.
    request = request_from("10.0.0.5", "1.2.3.4, 203.0.113.50")

    assert client_ip(request) == "203.0.113.50"


def test_behind_two_trusted_proxies_the_address_two_from_the_right_is_the_client(settings):
    settings.AUDIT_TRUSTED_PROXIES = 2
    request = request_from("10.0.0.6", "1.2.3.4, 203.0.113.50, 10.0.0.5")

    assert client_ip(request) == "203.0.113.50"


def test_a_forwarded_header_shorter_than_the_proxies_falls_back_to_the_peer(settings):
    settings.AUDIT_TRUSTED_PROXIES = 2

    assert client_ip(request_from("10.0.0.6", "203.0.113.50")) == "10.0.0.6"


def test_a_forwarded_address_with_a_port_is_read_without_it(settings):
    settings.AUDIT_TRUSTED_PROXIES = 1

    assert client_ip(request_from("10.0.0.5", "203.0.113.50:51234")) == "203.0.113.50"
    assert client_ip(request_from("10.0.0.5", "[2001:db8::1]:443")) == "2001:db8::1"


def test_a_forwarded_entry_that_is_not_an_address_falls_back_to_the_peer(settings):
    settings.AUDIT_TRUSTED_PROXIES = 1

    assert client_ip(request_from("10.0.0.5", "unknown")) == "10.0.0.5"
