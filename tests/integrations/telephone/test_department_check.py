"""A check asks the council's departmental systems about a reference that passes the fund's rule."""

import json

import pytest
from django.urls import reverse

from plugins import manager
from plugins.services import integration_issue_api_key
from tests.factories import integration


@pytest.fixture
def parking_department(monkeypatch, council):
    """Parking's system, installed for this test only, and the council using it."""
    monkeypatch.setitem(
        manager.BUILT_IN, "department_list", "tests.integrations.telephone.department_list"
    )
    manager.reload()
    integration(council, plugin="department_list", key="parking-list")
    yield
    monkeypatch.undo()
    manager.reload()


@pytest.fixture
def check(client, council, parking_department):
    ivr = integration(council, plugin="telephone", key="ivr")
    key = integration_issue_api_key(integration=ivr)

    def send(fund_code, reference):
        body = {"fund_code": fund_code, "reference": reference, "amount_pence": 100}
        return client.post(
            reverse("plugins:telephone_check", args=[ivr.public_id]),
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        ).json()

    return send


def test_a_reference_the_department_does_not_know_is_not_payable(check, parking):
    assert check("PARK", "PCN9") == {
        "payable": False,
        "problems": [{"code": "bad_reference", "message": "Parking has no penalty charge PCN9."}],
    }


def test_a_reference_the_department_knows_is_payable(check, parking):
    assert check("PARK", "PCN1") == {"payable": True, "problems": []}


def test_a_fund_no_department_looks_after_is_checked_by_its_rule_alone(
    check, ctax, valid_reference
):
    assert check("CTAX", valid_reference(ctax))["payable"] is True
