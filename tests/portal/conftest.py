"""A council's payments site, as the payer meets it: a payments home at the site's root,
a fixed-price replacement bin and a council tax page, paid through the sandbox provider."""

import re

import pytest
from django.test import Client

from .site import bins_fund, payments_home, replacement_bin, sandbox_provider, service_page

# The hosts the tests' sites answer on. Not "testserver": the payer's return address is
# built from the host, and the provider refuses an address whose host has no domain.
HOSTS = ["localhost", "pay.wessex.example", "pay.example"]


@pytest.fixture(autouse=True)
def _public_hosts(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, *HOSTS]


@pytest.fixture
def client():
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def sandbox(council):
    return sandbox_provider(council)


@pytest.fixture
def home(council, sandbox):
    return payments_home(council, payment_provider="sandbox")


@pytest.fixture
def bins(council, outside_scope):
    return bins_fund(council, outside_scope)


@pytest.fixture
def bin_service(council, bins):
    return replacement_bin(council, bins)


@pytest.fixture
def bin_page(home, bin_service):
    """£30, fixed; no reference asked."""
    return service_page(
        home,
        title="Order a replacement wheelie bin",
        slug="replacement-bin",
        service=bin_service,
        reference_question="none",
    )


@pytest.fixture
def ctax_page(home, ctax):
    """Council tax: an 8-digit mod 11 account, any amount from £1 to £5,000."""
    return service_page(
        home,
        title="Pay your council tax",
        slug="council-tax",
        fund_code=ctax,
        reference_label="Council tax account number",
        minimum_amount_pence=100,
        maximum_amount_pence=500_000,
    )


class Journey:
    """The payer's steps through the pages, as form posts a browser would send."""

    def __init__(self, client):
        self.client = client

    def add(self, page, **answers):
        return self.client.post(f"{page.url}pay/", answers)

    def give_details(self, **overrides):
        details = {
            "name": "Pat Payer",
            "email": "pat@example.com",
            "address_line_1": "1 High Street",
            "town": "Barchester",
            "postcode": "BA1 1AA",
            **overrides,
        }
        return self.client.post("/your-details/", details)

    def check_answers(self):
        return self.client.get("/check-your-answers/")

    def basket_token(self) -> str:
        page = self.check_answers().content.decode()
        return re.search(r'name="basket_token" value="([^"]+)"', page)[1]

    def pay(self, token: str | None = None):
        return self.client.post(
            "/check-your-answers/", {"basket_token": token or self.basket_token()}
        )


@pytest.fixture
def journey(client):
    return Journey(client)
