"""Webhook messages: only GOV.UK Pay's signature opens them, and they read as documented."""

import json

import pytest

from integrations.govuk_pay.webhooks import (
    read_message,
    signature_for,
    signature_is_valid,
    verify,
)
from plugins.types import InvalidCallback
from tests.integrations.govuk_pay.support import SPEC

SECRET = "webhook_live_abc123"
EXAMPLE = SPEC.parent / "webhook_message_example.json"


@pytest.fixture
def example_body() -> bytes:
    """GOV.UK Pay's documented example webhook message, byte for byte."""
    if not EXAMPLE.exists():
        pytest.skip("../shared/govuk-pay is not beside this checkout")
    return EXAMPLE.read_bytes()


def test_the_signature_is_lower_case_hex_hmac_sha256_of_the_raw_body():
    # Worked out independently: printf '{"a":1}' | openssl dgst -sha256 -hmac webhook_live_abc123
    expected = "fa575c0548bf65d5965079df7ff18741b72caed21214b1b6d791cddbcd0945a8"
    assert signature_for(b'{"a":1}', SECRET) == expected
    assert signature_is_valid(b'{"a":1}', expected, SECRET)


def test_a_missing_signature_or_secret_is_never_valid():
    body = b'{"a":1}'
    assert not signature_is_valid(body, None, SECRET)
    assert not signature_is_valid(body, "", SECRET)
    assert not signature_is_valid(body, signature_for(body, ""), "")


def test_a_tampered_body_or_another_secret_fails(example_body):
    signature = signature_for(example_body, SECRET)
    tampered = example_body.replace(b'"amount": 5000', b'"amount": 1')
    assert tampered != example_body
    assert not signature_is_valid(tampered, signature, SECRET)
    assert not signature_is_valid(example_body, signature, "another-secret")
    assert not signature_is_valid(example_body, signature[:-1], SECRET)
    assert not signature_is_valid(example_body, signature.upper(), SECRET)
    assert not signature_is_valid(example_body, "é" * 64, SECRET)


def test_verify_names_what_is_wrong(example_body):
    good = {"Pay-Signature": signature_for(example_body, SECRET)}
    verify(example_body, good, SECRET)
    with pytest.raises(InvalidCallback, match="header is missing"):
        verify(example_body, {}, SECRET)
    with pytest.raises(InvalidCallback, match="does not match"):
        verify(example_body + b" ", good, SECRET)
    with pytest.raises(InvalidCallback, match="No webhook signing secret"):
        verify(example_body, good, "")


def test_the_documented_example_message_reads_as_a_captured_successful_payment(example_body):
    event = read_message(example_body)
    assert event.event_id == "123abc"
    assert event.provider_reference == "hu20sqlact5260q2nanm0q8u93"
    assert event.event_type == "card_payment_captured"
    assert event.status == "success"
    assert event.provider_status == "success"


def test_a_failed_payment_message_reports_why(example_body):
    message = json.loads(example_body)
    message.update(event_type="card_payment_failed", webhook_message_id="m2")
    message["resource"]["state"] = {"status": "failed", "finished": True, "code": "P0030"}
    event = read_message(json.dumps(message).encode())
    assert (event.status, event.provider_status) == ("cancelled", "failed (P0030)")


def test_the_id_attribute_named_in_the_docs_table_is_read_too():
    event = read_message(json.dumps({"id": "m3", "resource_id": "abc"}).encode())
    assert (event.event_id, event.provider_reference, event.status) == ("m3", "abc", "")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"resource_id": "abc"}', "webhook_message_id"),
        (b'{"webhook_message_id": "m1"}', "resource_id"),
        (json.dumps({"webhook_message_id": "m" * 201, "resource_id": "a"}).encode(), "1 to 200"),
    ],
)
def test_a_body_that_is_not_a_webhook_message_is_refused(body, problem):
    with pytest.raises(InvalidCallback, match=problem):
        read_message(body)
