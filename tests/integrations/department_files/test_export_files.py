"""The department's files for a day: payment files per fund (CSV and fixed width), GL journal.

One known day, Friday 14 March 2025 (GMT), at a council whose receipts are
prefixed BAR: two cash payments touching parking (standard-rated) and
council tax, one telephone payment whose council tax reference was wrong and
went to suspense, and a refund of half the first payment. A payment the
evening before and one just after midnight belong to other days.
"""

import datetime

import pytest

from backoffice.payments.services import LineInput, Payer, payment_take, refund_request
from integrations.department_files import writers
from plugins.exports import _export_files
from plugins.services import integration_update

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 14)


@pytest.fixture
def department(department):
    """Reference checking off: these tests are about the files, and no list is uploaded
    (with checking on, every line would go to suspense)."""
    return integration_update(
        integration=department,
        title=department.title,
        settings={**department.settings, "validate_references": False},
        is_enabled=True,
    )


def take(council, *lines, payer="", channel="face_to_face", method="cash"):
    return payment_take(
        organisation=council,
        channel=channel,
        method=method,
        lines=list(lines),
        payer=Payer(name=payer),
    )


@pytest.fixture
def day(council, department, ctax, parking, officer, clock, valid_reference):
    """The day's takings; returns the payments by name."""
    account = valid_reference(ctax, "1234567")
    with clock(2025, 3, 13, 23, 59, 59):
        before = take(council, LineInput(parking, 500, account_reference="PCN-EVE"))
    with clock(2025, 3, 14, 9, 5):
        first = take(
            council,
            LineInput(parking, 2_400, account_reference="PCN00012345"),
            payer="Ann Example",
        )
    with clock(2025, 3, 14, 11, 30, 15):
        second = take(
            council,
            LineInput(ctax, 10_000, account_reference=account),
            LineInput(parking, 1_200, account_reference="=PCN00099999"),
            payer="Zoë Ångström-Smith",
            method="cheque",
        )
    with clock(2025, 3, 14, 12, 0):
        suspense = take(
            council,
            LineInput(ctax, 5_000, account_reference="99999999"),
            payer="Carl Caller",
            channel="telephone",
            method="card",
        )
    with clock(2025, 3, 14, 16, 45):
        refund_request(payment=first, amount_pence=1_200, reason="Paid twice", requested_by=officer)
    with clock(2025, 3, 15, 0, 0, 30):
        after = take(council, LineInput(parking, 700, account_reference="PCN-MORNING"))
    return {
        "before": before,
        "first": first,
        "second": second,
        "suspense": suspense,
        "after": after,
        "account": account,
    }


def files(department, day=DAY):
    exported = _export_files(department, day)
    return {export.filename: export for export in exported}


def text(export):
    return export.content.decode()


def test_the_files_the_settings_ask_for_are_written_for_each_fund(department, day):
    assert sorted(files(department)) == [
        "BAR_CTAX_20250314.csv",
        "BAR_CTAX_20250314.txt",
        "BAR_PARK_20250314.csv",
        "BAR_PARK_20250314.txt",
        "BAR_gl-journal_20250314.csv",
    ]


def test_the_parking_csv_has_the_days_lines_the_refund_and_a_total(department, day):
    first, second = day["first"].receipt_number, day["second"].receipt_number
    export = files(department)["BAR_PARK_20250314.csv"]

    assert text(export) == (
        "record_type,receipt_number,date_time,fund_code,account_reference,amount,vat,"
        "method,channel,payer_name\r\n"
        f"P,{first},2025-03-14 09:05:00,PARK,PCN00012345,24.00,4.00,cash,face_to_face,"
        "Ann Example\r\n"
        # A cell that would run as a spreadsheet formula is written with an apostrophe.
        f"P,{second},2025-03-14 11:30:15,PARK,'=PCN00099999,12.00,2.00,cheque,face_to_face,"
        "Zoë Ångström-Smith\r\n"
        f"R,{first},2025-03-14 16:45:00,PARK,PCN00012345,-12.00,-2.00,cash,face_to_face,"
        "Ann Example\r\n"
        "TOTAL,3,,PARK,,24.00,4.00,,,\r\n"
    )
    assert export.rows == 3


def test_a_line_sent_to_suspense_is_not_in_the_intended_funds_file(department, day):
    second = day["second"].receipt_number

    assert text(files(department)["BAR_CTAX_20250314.csv"]) == (
        "record_type,receipt_number,date_time,fund_code,account_reference,amount,vat,"
        "method,channel,payer_name\r\n"
        f"P,{second},2025-03-14 11:30:15,CTAX,{day['account']},100.00,0.00,cheque,"
        "face_to_face,Zoë Ångström-Smith\r\n"
        "TOTAL,1,,CTAX,,100.00,0.00,,,\r\n"
    )


def test_a_day_is_the_councils_day_in_london_in_summer_too(council, department, parking, clock):
    with clock(2025, 7, 1, 23, 30):  # 22:30 UTC on 1 July
        late = take(council, LineInput(parking, 600, account_reference="PCN-LATE"))
    with clock(2025, 7, 2, 0, 30):  # still 1 July in UTC
        early = take(council, LineInput(parking, 900, account_reference="PCN-EARLY"))

    first_of_july = text(files(department, datetime.date(2025, 7, 1))["BAR_PARK_20250701.csv"])
    second_of_july = text(files(department, datetime.date(2025, 7, 2))["BAR_PARK_20250702.csv"])

    assert late.receipt_number in first_of_july and early.receipt_number not in first_of_july
    assert "2025-07-02 00:30:00" in second_of_july and "TOTAL,1,,PARK,,9.00" in second_of_july


def test_a_refund_of_a_payment_for_two_funds_gives_each_its_share(
    council, department, ctax, parking, officer, clock, valid_reference
):
    with clock(2025, 3, 14, 10, 0):
        payment = take(
            council,
            LineInput(ctax, 10_000, account_reference=valid_reference(ctax, "1234567")),
            LineInput(parking, 1_200, account_reference="PCN1"),
        )
    with clock(2025, 3, 14, 15, 0):
        refund_request(
            payment=payment, amount_pence=11_200, reason="Paid by mistake", requested_by=officer
        )

    exported = files(department)
    receipt, account = payment.receipt_number, valid_reference(ctax, "1234567")
    council_tax = text(exported["BAR_CTAX_20250314.csv"])
    assert f"R,{receipt},2025-03-14 15:00:00,CTAX,{account},-100.00,0.00," in council_tax
    parking_file = text(exported["BAR_PARK_20250314.csv"])
    assert f"R,{receipt},2025-03-14 15:00:00,PARK,PCN1,-12.00,-2.00," in parking_file
    assert "TOTAL,2,,PARK,,0.00,0.00" in parking_file


def test_the_fixed_width_file_has_a_header_details_and_a_trailer(department, day, council):
    first = day["first"].receipt_number
    records = text(files(department)["BAR_PARK_20250314.txt"]).split("\r\n")

    assert records[-1] == ""  # every record ends in CR LF
    records = records[:-1]
    assert [len(record) for record in records] == [writers.RECORD_LENGTH] * 5
    assert writers.RECORD_LENGTH == 279
    assert records[0] == ("H" + "barsetshire".ljust(40) + "PARK".ljust(20) + "20250314").ljust(279)
    assert records[1] == (
        "P"
        + first.ljust(30)
        + "20250314090500"
        + "PARK".ljust(20)
        + "PCN00012345".ljust(100)
        + "+00000002400"
        + "+00000000400"
        + "cash".ljust(20)
        + "face_to_face".ljust(20)
        + "Ann Example".ljust(50)
    )
    # Names lose their accents, so that one character is one byte in every record.
    assert records[2][229:279] == "Zoe Angstrom-Smith".ljust(50)
    assert records[3][0] == "R" and records[3][165:189] == "-00000001200-00000000200"
    assert records[4] == ("T" + "000000003" + "+00000002400" + "+00000000400").ljust(279)


def test_the_gl_journal_sums_the_days_postings_per_gl_code_and_balances(department, day):
    export = files(department)["BAR_gl-journal_20250314.csv"]

    # Cash and cheques in transit: 24.00 + 112.00 - 12.00 refunded; the card terminal 50.00.
    # Parking's income net of VAT: 20.00 + 10.00 - 10.00 refunded; VAT 4.00 + 2.00 - 2.00.
    assert text(export) == (
        "posting_date,gl_account_code,cost_centre,description,debit,credit\r\n"
        "2025-03-14,CASH-IN-TRANSIT,,Cash in transit,124.00,0.00\r\n"
        "2025-03-14,CLEARING-card-terminal,,card-terminal clearing,50.00,0.00\r\n"
        "2025-03-14,FUND-SUSP,,Suspense,0.00,50.00\r\n"
        "2025-03-14,R1000,CT01,Council Tax,0.00,100.00\r\n"
        "2025-03-14,R1100,PK01,Parking,0.00,20.00\r\n"
        "2025-03-14,VAT-OUTPUT,,VAT output tax,0.00,4.00\r\n"
        "TOTAL,,,,174.00,174.00\r\n"
    )
    assert export.meta == {"debit_pence": 17_400, "credit_pence": 17_400}


def test_funds_sharing_a_gl_code_and_cost_centre_share_a_row(department, day, ctax, parking):
    parking.gl_account_code, parking.cost_centre = "R1000", "CT01"
    parking.save()

    lines = text(files(department)["BAR_gl-journal_20250314.csv"]).splitlines()

    assert "2025-03-14,R1000,CT01,Council Tax; Parking,0.00,120.00" in lines


def test_a_day_with_nothing_taken_still_gets_its_files(department):
    exported = files(department, datetime.date(2025, 1, 1))

    assert text(exported["BAR_PARK_20250101.csv"]).endswith("TOTAL,0,,PARK,,0.00,0.00,,,\r\n")
    assert text(exported["BAR_gl-journal_20250101.csv"]).endswith("TOTAL,,,,0.00,0.00\r\n")
    assert exported["BAR_PARK_20250101.txt"].content.count(b"\r\n") == 2


def test_only_the_files_chosen_are_written(council, ctax, parking):
    from tests.factories import integration

    gl_only = integration(
        council,
        plugin="department_files",
        key="finance",
        settings={"fund_codes": ["PARK"], "exports": ["gl_journal"]},
    )

    assert list(files(gl_only)) == ["gl-journal_20250314.csv"]


def test_shares_of_an_amount_add_up_to_the_penny():
    assert writers._apportion(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert writers._apportion(200, {"a": 200, "b": 0}) == {"a": 200, "b": 0}
    assert writers._apportion(5, {"a": 0}) == {"a": 0}
