"""A council's parking and council tax departments, looked after by the departmental files
plugin."""

import contextlib
import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from tests.factories import integration

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def council(council):
    council.receipt_prefix = "BAR"
    council.save()
    return council


@pytest.fixture
def parking(parking):
    parking.gl_account_code = "R1100"
    parking.cost_centre = "PK01"
    parking.save()
    return parking


@pytest.fixture
def ctax(ctax):
    ctax.gl_account_code = "R1000"
    ctax.cost_centre = "CT01"
    ctax.save()
    return ctax


@pytest.fixture
def department(council, ctax, parking, suspense_fund):
    """The council's departmental files integration for council tax and parking, all files on."""
    return integration(
        council,
        plugin="department_files",
        key="revenues",
        title="Revenues and parking",
        settings={
            "fund_codes": ["CTAX", "PARK"],
            "validate_references": True,
            "exports": ["payment_csv", "payment_fixed_width", "gl_journal"],
            "file_prefix": "BAR_",
        },
    )


@pytest.fixture
def clock():
    """``with clock(2025, 3, 14, 10, 15):`` runs the block as if it were then, London time.

    A payment's day is the moment the system takes it; the exports are tested
    against a known day, so the tests set the system's clock (Django's
    ``timezone.now``, which every service and every ``auto_now`` field reads).
    """

    @contextlib.contextmanager
    def at(*parts):
        moment = datetime.datetime(*parts, tzinfo=LONDON)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            yield moment

    return at
