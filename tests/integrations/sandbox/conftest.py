import pytest

from backoffice.payments.services import LineInput, Payer, payment_create
from plugins import online
from tests.factories import integration


@pytest.fixture
def sandbox(council):
    """The council's sandbox card provider, enabled, under the key ``sandbox``."""
    return integration(
        council, plugin="sandbox", key="sandbox", settings={"display_name": "Barsetshire Parking"}
    )


@pytest.fixture
def online_payment(council, parking, sandbox):
    """``online_payment(pence=1200)``: a parking payment made online, sent to the sandbox."""

    def make(pence=1_200):
        payment = payment_create(
            organisation=council,
            channel="online",
            method="card",
            lines=[LineInput(parking, pence, account_reference="PCN123")],
            payer=Payer(name="Pat Payer", email="pat@example.com"),
            provider=sandbox.key,
        )
        next_url = online.payment_begin(payment=payment, return_url=online.return_url(payment))
        payment.refresh_from_db()
        return payment, next_url

    return make
