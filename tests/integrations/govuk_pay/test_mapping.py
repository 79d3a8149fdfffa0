"""GOV.UK Pay's payment states, and its webhook events, in the system's payment statuses."""

import pytest

from integrations.govuk_pay.mapping import event_status, payment_status, provider_status


@pytest.mark.parametrize(
    ("govuk_status", "expected"),
    [
        ("created", "in_progress"),
        ("started", "in_progress"),
        ("submitted", "in_progress"),
        ("capturable", "in_progress"),
        ("success", "success"),
        ("failed", "failed"),
        ("cancelled", "cancelled"),
        ("error", "error"),
    ],
)
def test_every_govuk_pay_status_has_its_payment_status(govuk_status, expected):
    assert payment_status(govuk_status) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("P0010", "failed"),  # the card was declined
        ("P0020", "expired"),  # the payer did not finish in time
        ("P0030", "cancelled"),  # the payer chose to cancel
        ("", "failed"),
        ("P9999", "failed"),
    ],
)
def test_a_failed_payment_says_why_through_its_code(code, expected):
    assert payment_status("failed", code) == expected


def test_codes_only_refine_a_failed_payment():
    assert payment_status("success", "P0030") == "success"
    assert payment_status("cancelled", "P0040") == "cancelled"
    assert payment_status("error", "P0050") == "error"


def test_a_status_gov_uk_pay_adds_later_leaves_the_payment_open():
    assert payment_status("refunded_somehow") == "in_progress"
    assert payment_status("") == "in_progress"


def test_provider_status_keeps_gov_uk_pays_words_and_code_for_the_record():
    assert provider_status({"status": "failed", "code": "P0030"}) == "failed (P0030)"
    assert provider_status({"status": "success", "finished": True}) == "success"
    # The spec's example gives a code to a payment still being made; it means nothing there.
    assert provider_status({"status": "created", "code": "P010"}) == "created"
    assert provider_status({}) == "unknown"


@pytest.mark.parametrize(
    ("event_type", "state", "expected"),
    [
        ("card_payment_succeeded", {"status": "success"}, "success"),
        ("card_payment_captured", {"status": "success"}, "success"),
        ("card_payment_failed", {"status": "failed", "code": "P0010"}, "failed"),
        ("card_payment_failed", {"status": "failed", "code": "P0030"}, "cancelled"),
        ("card_payment_expired", {"status": "failed", "code": "P0020"}, "expired"),
        # Without a state in the message, the event type alone says it.
        ("card_payment_succeeded", None, "success"),
        ("card_payment_expired", {}, "expired"),
        # Events that change no payment.
        ("card_payment_started", {"status": "started"}, ""),
        ("card_payment_refunded", {"status": "success"}, ""),
        ("card_payment_settled", {"status": "success"}, ""),
        ("card_payment_something_new", {"status": "success"}, ""),
        # An outcome event whose payment is somehow not finished: ask, don't guess.
        ("card_payment_succeeded", {"status": "submitted"}, ""),
    ],
)
def test_webhook_events_report_the_payments_outcome(event_type, state, expected):
    assert event_status(event_type, state) == expected
