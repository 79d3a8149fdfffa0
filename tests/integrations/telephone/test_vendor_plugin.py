"""A vendor's IVR speaking its own format is served by the same endpoints, checks and records."""

import pytest
from django.urls import reverse

from backoffice.payments.models import Payment
from plugins import manager
from plugins.services import integration_issue_api_key
from tests.factories import integration


@pytest.fixture
def vendor_plugin(monkeypatch):
    """The vendor's plugin installed as if it were built in, for this test only."""
    monkeypatch.setitem(manager.BUILT_IN, "vendor_ivr", "tests.integrations.telephone.vendor_ivr")
    manager.reload()
    yield
    monkeypatch.undo()
    manager.reload()


@pytest.fixture
def post(client, council, vendor_plugin):
    vendor = integration(council, plugin="vendor_ivr", key="vendor-ivr")
    key = integration_issue_api_key(integration=vendor)

    def send(endpoint, fields):
        return client.post(
            reverse(f"plugins:telephone_{endpoint}", args=[vendor.public_id]),
            data=fields,
            headers={"Authorization": f"Bearer {key}"},
        )

    return send


def test_a_check_is_read_and_answered_in_the_vendors_format(post, ctax, valid_reference):
    payable = post("check", {"fund": "CTAX", "account": valid_reference(ctax), "pence": "100"})
    refused = post("check", {"fund": "CTAX", "account": "12345678", "pence": "100"})

    assert (payable.status_code, payable.content) == (200, b"PAYABLE")
    assert refused.content == b"REFUSED bad_reference"


def test_an_outcome_is_recorded_once_and_answered_in_the_vendors_format(post, parking):
    fields = {
        "txn": "V-1",
        "fund": "PARK",
        "account": "PCN1",
        "pence": "700",
        "result": "AUTHORISED",
    }

    first = post("outcome", fields)
    again = post("outcome", fields)

    payment = Payment.objects.get()
    assert (payment.provider, payment.total_pence) == ("vendor-ivr", 700)
    assert first.content.decode() == f"RECORDED {payment.receipt_number}"
    assert again.content.decode() == f"AGAIN {payment.receipt_number}"


def test_a_request_the_vendors_plugin_cannot_read_gets_a_400_naming_the_field(post):
    response = post("check", {"fund": "PARK", "account": "PCN1", "pence": "seven"})

    assert response.status_code == 400
    assert response.json()["problems"] == [{"field": "pence", "message": "Not a whole number."}]


@pytest.mark.parametrize(
    ("txn", "message"),
    [("T" * 101, "At most 100 characters."), ("", "The IVR's transaction id is needed.")],
)
def test_a_report_the_system_cannot_store_is_refused_whatever_the_plugin_let_through(
    post, parking, txn, message
):
    fields = {"txn": txn, "fund": "PARK", "account": "PCN1", "pence": "700"}

    response = post("outcome", {**fields, "result": "AUTHORISED"})

    assert response.status_code == 422
    assert response.json()["problems"] == [{"field": "transaction_id", "message": message}]
    assert Payment.objects.count() == 0
