"""What the system asks of and tells a council's departmental systems (plugins.departments).

The built-in ``department_files`` plugin answers from its uploaded list; a
second departmental plugin, registered in the plugin manager for these
tests, says what it is told to and records what it hears, or fails.
"""

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.payments.services import (
    LineInput,
    payment_create,
    payment_succeed,
    payment_take,
    refund_request,
)
from integrations.department_files.services import known_references_replace
from plugins import hookimpl, manager
from plugins.departments import notify_payment_taken, reference_verdict
from plugins.types import PluginInfo, PluginKind, ReferenceVerdict
from tests.factories import integration

pytestmark = pytest.mark.django_db


class ListeningDepartment:
    """A departmental plugin for these tests: fixed verdicts, a record of what it heard."""

    def __init__(self):
        self.verdicts: dict[str, ReferenceVerdict] = {}
        self.heard: list[tuple] = []
        self.fail = False

    @hookimpl
    def ims_plugin_info(self):
        return PluginInfo(
            name="listening_department",
            title="Listening department",
            kinds=(PluginKind.DEPARTMENTAL,),
        )

    def _maybe_fail(self):
        if self.fail:
            raise ConnectionError("the department's system is down")

    @hookimpl
    def ims_reference_validate(self, integration, fund_code, reference):
        self._maybe_fail()
        return self.verdicts.get(reference)

    @hookimpl
    def ims_payment_taken(self, integration, payment):
        self._maybe_fail()
        self.heard.append(("payment", integration.key, payment.pk))

    @hookimpl
    def ims_refund_completed(self, integration, refund):
        self._maybe_fail()
        self.heard.append(("refund", integration.key, refund.pk))


@pytest.fixture
def listening():
    plugin = ListeningDepartment()
    manager.reload().register(plugin, name="listening_department")
    manager._installed.cache_clear()
    yield plugin
    manager.reload()


@pytest.fixture
def department(council, parking):
    """The parking department's list, checked: it knows PCN001 only."""
    files = integration(
        council,
        plugin="department_files",
        key="parking-files",
        settings={"fund_codes": ["PARK"], "validate_references": True},
    )
    known_references_replace(integration=files, content=b"fund_code,reference\nPARK,PCN001\n")
    return files


@pytest.fixture
def listener(council, listening):
    """The same council's second departmental system, keyed to be asked first."""
    return integration(council, plugin="listening_department", key="another-system")


def test_a_reference_on_the_list_is_valid_and_one_not_on_it_is_not(council, parking, department):
    assert reference_verdict(organisation=council, fund_code=parking, reference="PCN001").valid
    verdict = reference_verdict(organisation=council, fund_code=parking, reference="PCN404")
    assert verdict == ReferenceVerdict(
        valid=False,
        reason="Reference PCN404 is not on the Parking department's list of valid references.",
    )


def test_no_departmental_system_means_no_opinion(council, parking, ctax):
    assert reference_verdict(organisation=council, fund_code=parking, reference="PCN1") is None


def test_a_fund_nobody_looks_after_gets_no_opinion(council, ctax, department):
    assert reference_verdict(organisation=council, fund_code=ctax, reference="1") is None


def test_an_invalid_verdict_wins_over_a_valid_one(
    council, parking, department, listener, listening
):
    listening.verdicts["PCN404"] = ReferenceVerdict(valid=True)
    listening.verdicts["PCN001"] = ReferenceVerdict(valid=False, reason="Closed account.")

    assert not reference_verdict(organisation=council, fund_code=parking, reference="PCN404").valid
    assert reference_verdict(
        organisation=council, fund_code=parking, reference="PCN001"
    ) == ReferenceVerdict(valid=False, reason="Closed account.")


def test_a_system_that_fails_has_no_opinion_and_is_logged(
    council, parking, department, listener, listening, caplog
):
    listening.fail = True

    with caplog.at_level(logging.ERROR, logger="plugins.departments"):
        valid = reference_verdict(organisation=council, fund_code=parking, reference="PCN001")
        invalid = reference_verdict(organisation=council, fund_code=parking, reference="PCN404")

    assert valid == ReferenceVerdict(valid=True)  # the list still answers
    assert not invalid.valid
    assert "another-system of barsetshire could not check reference 'PCN001' for PARK" in (
        caplog.text
    )


def test_a_disabled_integration_is_not_asked(council, parking, department, listening):
    integration(council, plugin="listening_department", key="off", is_enabled=False)
    listening.verdicts["PCN001"] = ReferenceVerdict(valid=False, reason="Closed account.")

    assert reference_verdict(organisation=council, fund_code=parking, reference="PCN001").valid


def test_another_councils_systems_are_never_asked(council, other_council, parking, listening):
    integration(other_council, plugin="listening_department", key="theirs")
    listening.verdicts["PCN001"] = ReferenceVerdict(valid=False, reason="Theirs.")

    assert reference_verdict(organisation=council, fund_code=parking, reference="PCN001") is None


def take(council, parking):
    return payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 1_200, account_reference="PCN001")],
    )


def test_each_departmental_system_hears_of_a_payment_once_it_is_committed(
    council, parking, department, listener, listening, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        payment = take(council, parking)
        assert listening.heard == []  # not before the commit

    assert listening.heard == [("payment", "another-system", payment.pk)]


def test_a_repeated_payment_is_not_told_again(
    council, parking, listener, listening, django_capture_on_commit_callbacks
):
    def take_once_more():
        return payment_take(
            organisation=council,
            channel="face_to_face",
            method="cash",
            lines=[LineInput(parking, 1_200, account_reference="PCN001")],
            idempotency_key="till-7-sale-1",
        )

    with django_capture_on_commit_callbacks(execute=True):
        payment = take_once_more()
    with django_capture_on_commit_callbacks(execute=True):
        assert take_once_more() == payment

    assert listening.heard == [("payment", "another-system", payment.pk)]


def test_an_online_payment_is_told_when_it_succeeds(
    council, parking, listener, listening, django_capture_on_commit_callbacks
):
    online = payment_create(
        organisation=council,
        channel="online",
        method="card",
        lines=[LineInput(parking, 1_200, account_reference="PCN001")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_succeed(payment=online)
    with django_capture_on_commit_callbacks(execute=True):
        payment_succeed(payment=online)  # a provider calling back twice

    assert listening.heard == [("payment", "another-system", online.pk)]


def test_each_departmental_system_hears_of_a_refund(
    council, parking, department, listener, listening, officer, django_capture_on_commit_callbacks
):
    payment = take(council, parking)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            payment=payment, amount_pence=200, reason="Overpaid", requested_by=officer
        )

    assert listening.heard == [("refund", "another-system", refund.pk)]


def test_a_reference_the_department_does_not_know_is_refused_online(council, parking, department):
    with pytest.raises(ValidationError, match="not on the Parking department's list"):
        payment_create(
            organisation=council,
            channel="online",
            method="card",
            lines=[LineInput(parking, 1_200, account_reference="PCN999")],
        )


def test_money_in_hand_for_a_reference_the_department_does_not_know_goes_to_suspense(
    council, parking, department, suspense_fund
):
    payment = payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 1_200, account_reference="PCN999")],
    )

    line = payment.lines.get()
    assert (line.fund_code, line.intended_fund_code) == (suspense_fund, parking)
    assert "not on the Parking department's list" in line.suspense_reason


def test_a_reference_the_department_knows_is_taken_to_its_fund(council, parking, department):
    payment = take(council, parking)

    assert payment.lines.get().fund_code == parking


def test_a_system_that_fails_to_listen_is_logged_and_never_raises(
    council, parking, listener, listening, other_council, caplog
):
    listening.fail = True
    payment = take(council, parking)

    with caplog.at_level(logging.ERROR, logger="plugins.departments"):
        notify_payment_taken(payment)

    assert "another-system of barsetshire failed in ims_payment_taken" in caplog.text


def test_only_the_payments_own_council_is_told(council, other_council, parking, listening):
    integration(other_council, plugin="listening_department", key="theirs")

    notify_payment_taken(take(council, parking))

    assert listening.heard == []
