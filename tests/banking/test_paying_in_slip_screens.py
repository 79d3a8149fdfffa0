"""Paying-in slip screens, through the test client: prepare, read, bank, cancel."""

import pytest
from django.urls import reverse

from backoffice.banking.models import PayingInSlip, SlipStatus
from backoffice.counter.models import SessionStatus
from tests.conftest import assert_permission_denied
from tests.counter.conftest import CASHIER_PERMISSIONS, SUPERVISOR_PERMISSIONS, person

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def supervisor_client(client, supervisor):
    return signed_in(client, supervisor)


def prepare(client, sessions=(), returns=()):
    return client.post(
        reverse("banking_payinginslip:prepare"),
        {"sessions": [s.pk for s in sessions], "cash_returns": [r.pk for r in returns]},
    )


def test_what_is_ready_is_offered_and_gathered_on_a_numbered_slip(
    supervisor_client, signed_off_session, authorised_return
):
    form = supervisor_client.get(reverse("banking_payinginslip:prepare")).content.decode()
    assert "Till 1" in form and str(authorised_return) in form

    response = prepare(supervisor_client, [signed_off_session], [authorised_return])

    slip = PayingInSlip.objects.get()
    assert response.url == reverse("banking_payinginslip:inspect", args=[slip.pk])
    page = supervisor_client.get(response.url).content.decode()
    assert "PI-000001" in page
    assert "£97.40" in page
    # What the bank counts: notes and coins, and each cheque.
    assert "£20 notes" in page and "100001" in page and "200001" in page


def test_the_slip_is_marked_banked_on_screen(supervisor_client, signed_off_session):
    prepare(supervisor_client, [signed_off_session])
    slip = PayingInSlip.objects.get()

    response = supervisor_client.post(
        reverse("banking_payinginslip:bank", args=[slip.pk]),
        {"banked_on": "07/03/2025", "bank_reference": "GIRO 1"},
    )

    assert response.status_code == 302
    slip.refresh_from_db()
    signed_off_session.refresh_from_db()
    assert slip.status == SlipStatus.BANKED
    assert str(slip.banked_on) == "2025-03-07"
    assert signed_off_session.status == SessionStatus.BANKED


def test_a_slip_is_cancelled_with_a_reason(supervisor_client, signed_off_session):
    prepare(supervisor_client, [signed_off_session])
    slip = PayingInSlip.objects.get()
    url = reverse("banking_payinginslip:cancel", args=[slip.pk])
    assert supervisor_client.post(url, {"reason": ""}).status_code == 200
    supervisor_client.post(url, {"reason": "Wrong bag"})
    slip.refresh_from_db()
    assert slip.status == SlipStatus.CANCELLED


def test_choosing_nothing_is_refused(supervisor_client, signed_off_session):
    response = prepare(supervisor_client)
    assert response.status_code == 200
    assert "Choose at least one" in response.content.decode()
    assert not PayingInSlip.objects.exists()


def test_a_cashier_cannot_prepare_or_bank_slips(client, council, signed_off_session):
    cashier = person(council, "cashier.two", CASHIER_PERMISSIONS)
    signed_in(client, cashier)
    assert_permission_denied(client.get(reverse("banking_payinginslip:index")))
    assert_permission_denied(prepare(client, [signed_off_session]))


def test_another_councils_slip_is_not_found(
    client, supervisor_client, signed_off_session, other_council
):
    prepare(supervisor_client, [signed_off_session])
    slip = PayingInSlip.objects.get()
    outsider = person(other_council, "their.supervisor", SUPERVISOR_PERMISSIONS)
    signed_in(client, outsider)
    for name in ("inspect", "bank", "cancel"):
        assert (
            client.get(reverse(f"banking_payinginslip:{name}", args=[slip.pk])).status_code == 404
        )
