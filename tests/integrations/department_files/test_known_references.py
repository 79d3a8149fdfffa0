"""A department's list of valid references: replaced whole by a CSV upload, or not at all."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.department_files.models import KnownReference
from integrations.department_files.selectors import known_reference_counts
from integrations.department_files.services import (
    KnownReferencesFileError,
    known_references_replace,
)
from tests.factories import FundCodeFactory, integration

pytestmark = pytest.mark.django_db


def stored(department):
    return sorted(
        KnownReference.objects.filter(integration=department).values_list(
            "fund_code__code", "reference"
        )
    )


def problems(error):
    return [(problem.row, problem.message) for problem in error.value.problems]


def test_a_good_file_replaces_the_list_with_each_reference_once(department):
    known_references_replace(integration=department, content=b"fund_code,reference\nPARK,OLD1\n")

    outcome = known_references_replace(
        integration=department,
        content=(
            "\ufefffund_code,reference\r\n"  # a spreadsheet's byte-order mark is fine
            "CTAX,12345674\r\n"
            "PARK, PCN001 \r\n"
            "\r\n"
            "PARK,PCN002\r\n"
            "PARK,PCN001\r\n"  # the same row twice is kept once
        ).encode(),
    )

    assert stored(department) == [
        ("CTAX", "12345674"),
        ("PARK", "PCN001"),
        ("PARK", "PCN002"),
    ]
    assert outcome.total == 3
    assert outcome.per_fund == {"CTAX": 1, "PARK": 2}
    assert outcome.duplicates == 1


def test_columns_may_come_in_any_order_beside_others(department):
    known_references_replace(
        integration=department,
        content=b"Reference,Name,Fund_Code\nPCN9,Ann Example,PARK\n",
    )

    assert stored(department) == [("PARK", "PCN9")]


def test_references_are_stored_as_the_funds_rule_compares_them(department, ctax):
    ctax.reference_rule.strip_separators = True
    ctax.reference_rule.save()

    known_references_replace(
        integration=department, content=b"fund_code,reference\nCTAX,1234 5674\n"
    )

    assert stored(department) == [("CTAX", "12345674")]


def test_every_bad_row_is_named_and_the_old_list_stays(department, other_council):
    FundCodeFactory(organisation=other_council, code="WESSEX")
    known_references_replace(integration=department, content=b"fund_code,reference\nPARK,KEEP1\n")

    with pytest.raises(KnownReferencesFileError) as error:
        known_references_replace(
            integration=department,
            content=(
                b"fund_code,reference\nPARK,PCN001\nNOPE,123\nSUSP,456\nPARK,   \n,789\nWESSEX,1\n"
            ),
        )

    assert problems(error) == [
        (3, "fund code NOPE is not one of this council's fund codes."),
        (
            4,
            "fund code SUSP is not looked after by Revenues and parking: "
            "add it in the integration's settings first.",
        ),
        (5, "the reference is blank."),
        (6, "the fund code is blank."),
        (7, "fund code WESSEX is not one of this council's fund codes."),
    ]
    assert stored(department) == [("PARK", "KEEP1")]


def test_a_file_without_the_header_is_refused(department):
    with pytest.raises(KnownReferencesFileError) as error:
        known_references_replace(integration=department, content=b"PARK,PCN001\nPARK,PCN002\n")

    assert problems(error) == [
        (1, "the first row must be the header fund_code,reference; it is PARK,PCN001.")
    ]


def test_an_empty_file_is_refused(department):
    with pytest.raises(KnownReferencesFileError) as error:
        known_references_replace(integration=department, content=b"")

    assert problems(error) == [
        (1, "the file is empty: it needs the header row fund_code,reference.")
    ]


def test_a_file_that_is_not_utf8_is_refused_with_its_line(department):
    with pytest.raises(KnownReferencesFileError) as error:
        known_references_replace(
            integration=department, content=b"fund_code,reference\nPARK,PCN001\nPARK,Caf\xe9\n"
        )

    assert problems(error)[0][0] == 3
    assert "not UTF-8" in problems(error)[0][1]


def test_a_file_full_of_mistakes_lists_the_first_fifty(department):
    content = "fund_code,reference\n" + "NOPE,1\n" * 120

    with pytest.raises(KnownReferencesFileError) as error:
        known_references_replace(integration=department, content=content.encode())

    assert len(error.value.problems) == 50
    assert error.value.more == 70
    assert error.value.messages[-1] == "… and 70 more problems."


def test_tens_of_thousands_of_rows_go_in_a_handful_of_statements(department):
    rows = "".join(f"PARK,PCN{number:06d}\n" for number in range(30_000))

    with CaptureQueriesContext(connection) as queries:
        outcome = known_references_replace(
            integration=department, content=("fund_code,reference\n" + rows).encode()
        )

    assert outcome.total == 30_000
    assert KnownReference.objects.filter(integration=department).count() == 30_000
    # PostgreSQL: one COPY. SQLite: as many rows per INSERT as its limit on parameters
    # allows (about 250). Never a statement per row.
    limit = 10 if connection.vendor == "postgresql" else 300
    assert len(queries) < limit


def test_counts_per_fund_list_every_fund_looked_after(department):
    known_references_replace(
        integration=department, content=b"fund_code,reference\nPARK,A\nPARK,B\n"
    )

    assert known_reference_counts(department) == [
        {"code": "CTAX", "name": "Council Tax", "count": 0, "looked_after": True},
        {"code": "PARK", "name": "Parking", "count": 2, "looked_after": True},
    ]


def test_another_plugins_integration_keeps_no_list(council):
    sandbox = integration(council, plugin="sandbox", key="sandbox")

    with pytest.raises(Exception, match="does not keep a list of known references"):
        known_references_replace(integration=sandbox, content=b"fund_code,reference\n")


def test_the_upload_is_recorded_in_the_integrations_history(department, finance_admin):
    from wagtail.models import ModelLogEntry

    known_references_replace(
        integration=department, content=b"fund_code,reference\nPARK,A\n", user=finance_admin
    )

    entry = ModelLogEntry.objects.filter(action="department_files.references_replaced").get()
    assert entry.user == finance_admin
    assert entry.data == {"references": 1}
