"""Fund codes and services to and from spreadsheets, below the admin screens.

What a finance administrator relies on: an export imports back unchanged, into the
same council or into another council that uses the same codes; a file with any bad
row saves nothing and says which line and column to put right; a dry run saves
nothing and predicts the real import; and a file never reaches another council's
VAT rates, reference rules or fund codes.
"""

import csv
import io

import openpyxl
import pytest
import tablib
from import_export.formats.base_formats import CSV, XLSX
from wagtail.models import ModelLogEntry

from backoffice.funds.models import (
    Department,
    FundCode,
    Pricing,
    ReferenceRule,
    Service,
    VatCategory,
    VatRate,
)
from backoffice.funds.resources import FundCodeResource, ServiceResource
from backoffice.funds.services import (
    ImportFileError,
    RowProblem,
    fund_codes_import,
    read_spreadsheet,
    services_import,
)
from tests.factories import (
    DepartmentFactory,
    FundCodeFactory,
    ReferenceRuleFactory,
    ServiceFactory,
    VatRateFactory,
    mod11_rule,
)

FORMATS = {"csv": CSV, "xlsx": XLSX}
ACCOUNT_RULE = "Account number (mod 11)"

# The columns of a hand-written fund codes file, and a good new row for it.
FUND_CODE_HEADER = [
    "code",
    "name",
    "default_vat_rate",
    "allowed_channels",
    "minimum_amount",
    "maximum_amount",
    "is_suspense",
]
GOOD_NEW_FUND_CODE = {
    "code": "LIC",
    "name": "Licensing",
    "default_vat_rate": "S",
    "allowed_channels": "online",
    "minimum_amount": "1.00",
    "maximum_amount": "500.00",
    "is_suspense": "no",
}


# Building a council's configuration -----------------------------------------------


def configure(organisation):
    """The VAT rates, reference rule and department that a council's fund codes name."""
    VatRateFactory(organisation=organisation, code="S", name="Standard rate")
    VatRateFactory(
        organisation=organisation,
        code="O",
        name="Outside the scope",
        category=VatCategory.OUTSIDE_SCOPE,
    )
    mod11_rule(organisation, name=ACCOUNT_RULE)
    DepartmentFactory(organisation=organisation, code="REV", name="Revenues")


def add_fund_codes(organisation):
    """Three fund codes that between them use every column of the file."""
    vat = {rate.code: rate for rate in VatRate.objects.filter(organisation=organisation)}
    FundCodeFactory(
        organisation=organisation,
        code="CTAX",
        name="Council tax",
        public_name="Council Tax",
        description='Bands A to H, "annual" bill, paid monthly; £ and é survive',
        gl_account_code="4001",
        cost_centre="R100",
        department=Department.objects.get(organisation=organisation, code="REV"),
        default_vat_rate=vat["O"],
        reference_rule=ReferenceRule.objects.get(organisation=organisation, name=ACCOUNT_RULE),
        reference_must_exist=True,
        allowed_channels=["online", "telephone", "bank"],
        minimum_amount_pence=100,
        maximum_amount_pence=1_000_000,
        payer_message="Quote your account number.\nIt is on your bill.",
    )
    FundCodeFactory(
        organisation=organisation,
        code="PARK",
        name="Parking permits",
        default_vat_rate=vat["S"],
        vat_overridable=True,
        overpayment_allowed=True,
        collect_address=True,
        allowed_channels=[],
        minimum_amount_pence=5,
        maximum_amount_pence=None,
        is_active=False,
    )
    FundCodeFactory(
        organisation=organisation,
        code="SUSP",
        name="Suspense",
        default_vat_rate=vat["O"],
        allowed_channels=["bank", "import"],
        is_suspense=True,
    )


def add_services(organisation):
    """A fixed-price service with its own VAT rate and a pay-what-you-owe one without."""
    fund_codes = {
        fund_code.code: fund_code for fund_code in organisation_rows(FundCode, organisation)
    }
    ServiceFactory(
        organisation=organisation,
        name="Replacement wheelie bin",
        slug="wheelie-bin",
        fund_code=fund_codes["PARK"],
        description="A 240-litre bin, delivered",
        pricing=Pricing.FIXED,
        price_pence=2550,
        vat_rate=VatRate.objects.get(organisation=organisation, code="S"),
    )
    ServiceFactory(
        organisation=organisation,
        name="Pay your council tax",
        slug="council-tax",
        fund_code=fund_codes["CTAX"],
        pricing=Pricing.VARIABLE,
        price_pence=None,
        vat_rate=None,
        is_active=False,
    )


# Reading the database and writing files ---------------------------------------------


def organisation_rows(model, organisation):
    return model.objects.filter(organisation=organisation)


NATURAL_KEYS = {VatRate: "code", Department: "code", FundCode: "code", ReferenceRule: "name"}


def described(row):
    """Every field of a row, related rows by their natural key: what an export carries."""
    values = {}
    for field in type(row)._meta.concrete_fields:
        if field.name in ("id", "organisation"):
            continue
        value = getattr(row, field.name)
        if field.is_relation and value is not None:
            value = getattr(value, NATURAL_KEYS[field.related_model])
        values[field.name] = value
    return values


def snapshot(model, organisation):
    """The council's rows of ``model`` as comparable values, by natural key."""
    key = "slug" if model is Service else "code"
    return {getattr(row, key): described(row) for row in organisation_rows(model, organisation)}


def exported(resource_class, organisation, extension) -> bytes:
    """The council's rows as the admin's export writes them to a file."""
    dataset = resource_class(organisation=organisation).export()
    content = FORMATS[extension]().export_data(dataset)
    return content.encode("utf-8") if isinstance(content, str) else content


def csv_file(header, *rows) -> bytes:
    """A CSV file with ``header`` and one line for each row (a dict by column)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return text.getvalue().encode("utf-8")


def xlsx_file(*rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def edited(dataset, changes, new_rows=()) -> tablib.Dataset:
    """A copy of ``dataset`` with rows changed (``{code: {column: value}}``) and rows added."""
    rows = [dict(row) for row in dataset.dict]
    for row in rows:
        row.update(changes.get(row["code"], {}))
    rows.extend({**dict.fromkeys(dataset.headers, ""), **row} for row in new_rows)
    return tablib.Dataset(
        *[[row[column] for column in dataset.headers] for row in rows], headers=dataset.headers
    )


def import_fund_codes(organisation, content, *, filename="fund-codes.csv", user=None, commit=True):
    dataset = read_spreadsheet(content, filename)
    return fund_codes_import(organisation=organisation, user=user, dataset=dataset, commit=commit)


# Both formats; an XLSX file also meets the blank-cell bug (the CSV reader gives "" not None).
SPREADSHEET_FORMATS = [
    pytest.param("csv"),
    pytest.param("xlsx"),
]


# An export imports back ------------------------------------------------------------


@pytest.fixture
def configured_council(council):
    configure(council)
    add_fund_codes(council)
    add_services(council)
    return council


def test_the_fund_code_export_names_related_rows_by_code_and_writes_pounds_and_yes_no(
    configured_council,
):
    dataset = FundCodeResource(organisation=configured_council).export()

    council_tax = next(row for row in dataset.dict if row["code"] == "CTAX")
    assert council_tax["department"] == "REV"
    assert council_tax["default_vat_rate"] == "O"
    assert council_tax["reference_rule"] == ACCOUNT_RULE
    assert council_tax["allowed_channels"] == "online,telephone,bank"
    assert council_tax["minimum_amount"] == "1.00"
    assert council_tax["maximum_amount"] == "10000.00"
    assert council_tax["reference_must_exist"] == "yes"
    assert council_tax["is_suspense"] == "no"


def test_the_service_export_names_the_fund_code_and_vat_rate_by_code_and_the_price_in_pounds(
    configured_council,
):
    dataset = ServiceResource(organisation=configured_council).export()

    bin_row = next(row for row in dataset.dict if row["slug"] == "wheelie-bin")
    assert bin_row["fund_code"] == "PARK"
    assert bin_row["vat_rate"] == "S"
    assert bin_row["price"] == "25.50"
    assert bin_row["pricing"] == "fixed"
    assert bin_row["is_active"] == "yes"


@pytest.mark.parametrize("extension", SPREADSHEET_FORMATS)
def test_exported_fund_codes_import_back_into_their_council_unchanged(
    configured_council, finance_admin, extension
):
    before = snapshot(FundCode, configured_council)
    content = exported(FundCodeResource, configured_council, extension)

    outcome = import_fund_codes(
        configured_council, content, filename=f"fund-codes.{extension}", user=finance_admin
    )

    assert outcome.problems == []
    assert outcome.committed is True
    assert (outcome.rows, outcome.created, outcome.updated, outcome.unchanged) == (3, 0, 0, 3)
    assert snapshot(FundCode, configured_council) == before
    assert not ModelLogEntry.objects.exists()


@pytest.mark.parametrize("extension", SPREADSHEET_FORMATS)
def test_exported_fund_codes_create_the_same_fund_codes_in_a_council_with_the_same_codes(
    configured_council, other_council, finance_admin, extension
):
    configure(other_council)
    ours = snapshot(FundCode, configured_council)
    content = exported(FundCodeResource, configured_council, extension)

    outcome = import_fund_codes(
        other_council, content, filename=f"fund-codes.{extension}", user=finance_admin
    )

    assert outcome.problems == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 0, 0)
    assert snapshot(FundCode, other_council) == ours
    assert snapshot(FundCode, configured_council) == ours


def test_fund_codes_imported_into_another_council_use_that_councils_vat_rates_rules_and_departments(
    configured_council, other_council
):
    configure(other_council)

    import_fund_codes(other_council, exported(FundCodeResource, configured_council, "csv"))

    for fund_code in organisation_rows(FundCode, other_council):
        related = [fund_code.default_vat_rate, fund_code.reference_rule, fund_code.department]
        assert {row.organisation for row in related if row is not None} == {other_council}


@pytest.mark.parametrize("extension", SPREADSHEET_FORMATS)
def test_exported_services_import_back_into_their_council_unchanged(
    configured_council, finance_admin, extension
):
    before = snapshot(Service, configured_council)
    dataset = read_spreadsheet(
        exported(ServiceResource, configured_council, extension), f"services.{extension}"
    )

    outcome = services_import(
        organisation=configured_council, user=finance_admin, dataset=dataset, commit=True
    )

    assert outcome.problems == []
    assert outcome.committed is True
    assert (outcome.rows, outcome.created, outcome.updated, outcome.unchanged) == (2, 0, 0, 2)
    assert snapshot(Service, configured_council) == before


@pytest.mark.parametrize("extension", SPREADSHEET_FORMATS)
def test_exported_services_create_the_same_services_in_a_council_with_the_same_codes(
    configured_council, other_council, finance_admin, extension
):
    configure(other_council)
    add_fund_codes(other_council)
    ours = snapshot(Service, configured_council)
    dataset = read_spreadsheet(
        exported(ServiceResource, configured_council, extension), f"services.{extension}"
    )

    outcome = services_import(
        organisation=other_council, user=finance_admin, dataset=dataset, commit=True
    )

    assert outcome.problems == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (2, 0, 0)
    assert snapshot(Service, other_council) == ours
    assert snapshot(Service, configured_council) == ours
    for service in organisation_rows(Service, other_council):
        assert service.fund_code.organisation == other_council
        assert service.vat_rate is None or service.vat_rate.organisation == other_council


def test_a_blank_text_cell_in_an_xlsx_file_imports_as_blank_text(configured_council):
    content = xlsx_file(
        ["code", "name", "description", "default_vat_rate", "payer_message"],
        ["LIC", "Licensing", None, "S", None],
    )

    outcome = import_fund_codes(configured_council, content, filename="fund-codes.xlsx")

    assert outcome.problems == []
    licensing = FundCode.objects.get(organisation=configured_council, code="LIC")
    assert (licensing.description, licensing.payer_message) == ("", "")


# An edited file ---------------------------------------------------------------------


def edited_fund_codes(council):
    """The council's export with the parking fund renamed and a licensing fund added."""
    return edited(
        FundCodeResource(organisation=council).export(),
        {"PARK": {"name": "Parking permits and visitor vouchers"}},
        new_rows=[
            {
                **dict.fromkeys(FundCodeResource.yes_no_fields, "no"),
                **GOOD_NEW_FUND_CODE,
                "is_active": "yes",
            }
        ],
    )


def test_an_edited_file_changes_the_edited_row_adds_the_new_one_and_leaves_the_rest(
    configured_council, finance_admin
):
    before = snapshot(FundCode, configured_council)

    outcome = fund_codes_import(
        organisation=configured_council,
        user=finance_admin,
        dataset=edited_fund_codes(configured_council),
        commit=True,
    )

    assert outcome.problems == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (1, 1, 2)
    after = snapshot(FundCode, configured_council)
    assert after["PARK"] == {**before["PARK"], "name": "Parking permits and visitor vouchers"}
    assert after["LIC"]["minimum_amount_pence"] == 100
    assert after["LIC"]["maximum_amount_pence"] == 50000
    assert after["LIC"]["default_vat_rate"] == "S"
    assert {code: after[code] for code in ("CTAX", "SUSP")} == {
        code: before[code] for code in ("CTAX", "SUSP")
    }


def test_each_change_an_import_makes_is_in_the_audit_log_under_the_importing_user(
    configured_council, finance_admin
):
    fund_codes_import(
        organisation=configured_council,
        user=finance_admin,
        dataset=edited_fund_codes(configured_council),
        commit=True,
    )

    parking = FundCode.objects.get(organisation=configured_council, code="PARK")
    licensing = FundCode.objects.get(organisation=configured_council, code="LIC")
    entries = {
        (entry.object_id, entry.action, entry.user_id) for entry in ModelLogEntry.objects.all()
    }
    assert entries == {
        (str(parking.pk), "wagtail.edit", finance_admin.pk),
        (str(licensing.pk), "wagtail.create", finance_admin.pk),
    }


# A bad row saves nothing --------------------------------------------------------------

# Each kind of bad row: the values that make it bad, and what the problem must mention.
BAD_FUND_CODE_ROWS = {
    "unknown VAT rate code": ({"default_vat_rate": "X9"}, "X9"),
    "minimum amount that is not money": ({"minimum_amount": "abc"}, "abc"),
    "unknown channel": ({"allowed_channels": "online,fax"}, "fax"),
    "second suspense fund": ({"is_suspense": "yes"}, "suspense fund"),
    "minimum more than maximum": (
        {"minimum_amount": "50.00", "maximum_amount": "5.00"},
        "minimum amount is more than the maximum",
    ),
    "suspense neither yes nor no": ({"is_suspense": "maybe"}, "maybe"),
    "blank name": ({"name": ""}, "blank"),
}


def file_with_a_bad_row(bad_values):
    """Line 2 renames council tax, line 3 adds a good fund code, line 4 is bad."""
    council_tax = {
        "code": "CTAX",
        "name": "Council tax (renamed)",
        "default_vat_rate": "O",
        "allowed_channels": "online,telephone,bank",
        "minimum_amount": "1.00",
        "maximum_amount": "10000.00",
        "is_suspense": "no",
    }
    bad = {**GOOD_NEW_FUND_CODE, "code": "BAD", "name": "Bad fund", **bad_values}
    return csv_file(FUND_CODE_HEADER, council_tax, GOOD_NEW_FUND_CODE, bad)


@pytest.mark.parametrize(
    ("bad_values", "mentions"), BAD_FUND_CODE_ROWS.values(), ids=BAD_FUND_CODE_ROWS.keys()
)
def test_a_file_with_a_bad_row_saves_nothing_and_says_which_line_is_wrong(
    configured_council, finance_admin, bad_values, mentions
):
    before = snapshot(FundCode, configured_council)

    outcome = import_fund_codes(
        configured_council, file_with_a_bad_row(bad_values), user=finance_admin
    )

    assert outcome.committed is False
    assert not outcome.ok
    assert {problem.line for problem in outcome.problems} == {4}
    assert any(mentions.lower() in problem.message.lower() for problem in outcome.problems), (
        outcome.problems
    )
    assert snapshot(FundCode, configured_council) == before
    assert not ModelLogEntry.objects.exists()


@pytest.mark.parametrize(
    ("bad_values", "column"),
    [
        pytest.param({"default_vat_rate": "X9"}, "default_vat_rate", id="VAT rate"),
        pytest.param({"allowed_channels": "fax"}, "allowed_channels", id="channels"),
        pytest.param({"is_suspense": "maybe"}, "is_suspense", id="yes or no"),
        pytest.param({"name": ""}, "name", id="blank name"),
        pytest.param(
            {"minimum_amount": "abc"},
            "minimum_amount",
            id="amount",
        ),
    ],
)
def test_a_problem_with_one_value_names_its_column_as_the_file_heads_it(
    configured_council, bad_values, column
):
    outcome = import_fund_codes(configured_council, file_with_a_bad_row(bad_values))

    assert [(problem.line, problem.column) for problem in outcome.problems] == [(4, column)]


def test_a_service_price_that_is_not_money_is_reported_against_the_price_column(
    configured_council,
):
    content = csv_file(
        ["slug", "name", "fund_code", "pricing", "price"],
        {"slug": "bin", "name": "Bin", "fund_code": "PARK", "pricing": "fixed", "price": "ten"},
    )

    outcome = services_import(
        organisation=configured_council,
        user=None,
        dataset=read_spreadsheet(content, "services.csv"),
        commit=True,
    )

    assert [(problem.line, problem.column) for problem in outcome.problems] == [(2, "price")]


def test_a_file_with_two_suspense_funds_saves_neither_and_names_the_second(council):
    configure(council)
    first = {**GOOD_NEW_FUND_CODE, "code": "SUS1", "is_suspense": "yes"}
    second = {**GOOD_NEW_FUND_CODE, "code": "SUS2", "is_suspense": "yes"}

    outcome = import_fund_codes(council, csv_file(FUND_CODE_HEADER, first, second))

    assert outcome.committed is False
    assert [problem.line for problem in outcome.problems] == [3]
    assert not organisation_rows(FundCode, council).exists()


def test_a_bad_service_row_saves_none_of_the_file(configured_council):
    before = snapshot(Service, configured_council)
    header = ["slug", "name", "fund_code", "pricing", "price"]
    good = {"slug": "permit", "name": "Permit", "fund_code": "PARK", "pricing": "fixed"}
    content = csv_file(
        header,
        {**good, "price": "40.00"},
        {**good, "slug": "no-price", "name": "Fixed but no price"},
    )

    outcome = services_import(
        organisation=configured_council,
        user=None,
        dataset=read_spreadsheet(content, "services.csv"),
        commit=True,
    )

    assert outcome.committed is False
    assert [problem.line for problem in outcome.problems] == [3]
    assert "needs its price" in outcome.problems[0].message
    assert snapshot(Service, configured_council) == before


def test_a_negative_amount_is_refused_as_the_edit_form_refuses_it(configured_council):
    negative = {**GOOD_NEW_FUND_CODE, "minimum_amount": "-5.00"}

    outcome = import_fund_codes(configured_council, csv_file(FUND_CODE_HEADER, negative))

    assert outcome.committed is False
    assert not organisation_rows(FundCode, configured_council).filter(code="LIC").exists()


# Columns -------------------------------------------------------------------------------


def test_a_file_without_the_code_column_is_refused_naming_the_column(configured_council):
    content = csv_file(["name", "default_vat_rate"], {"name": "Licensing", "default_vat_rate": "S"})

    outcome = import_fund_codes(configured_council, content)

    assert outcome.committed is False
    assert outcome.problems == [RowProblem(1, "code", "required column missing")]
    assert organisation_rows(FundCode, configured_council).count() == 3


def test_a_file_with_an_unknown_column_is_refused_naming_the_column(configured_council):
    content = csv_file([*FUND_CODE_HEADER, "colour"], {**GOOD_NEW_FUND_CODE, "colour": "red"})

    outcome = import_fund_codes(configured_council, content)

    assert outcome.committed is False
    assert [(problem.line, problem.column) for problem in outcome.problems] == [(1, "colour")]
    assert "unknown column" in outcome.problems[0].message
    assert not organisation_rows(FundCode, configured_council).filter(code="LIC").exists()


def test_a_file_with_only_some_columns_changes_only_those_columns(configured_council):
    before = snapshot(FundCode, configured_council)

    outcome = import_fund_codes(
        configured_council, csv_file(["code", "name"], {"code": "CTAX", "name": "Council tax 2"})
    )

    assert (outcome.updated, outcome.committed) == (1, True)
    assert snapshot(FundCode, configured_council)["CTAX"] == {
        **before["CTAX"],
        "name": "Council tax 2",
    }


# Reading the file -------------------------------------------------------------------


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_by_its_name():
    with pytest.raises(ImportFileError, match=r"'fund-codes\.txt' is not a \.csv or \.xlsx file"):
        read_spreadsheet(b"code,name\nCTAX,Council tax\n", "fund-codes.txt")


def test_a_csv_file_that_is_not_utf8_is_refused_with_how_to_save_it():
    latin_1 = "code,name\nCAFE,Café licences\n".encode("latin-1")

    with pytest.raises(ImportFileError, match="not UTF-8 text; save it as 'CSV UTF-8'"):
        read_spreadsheet(latin_1, "fund-codes.csv")


def test_a_csv_file_saved_by_excel_with_a_byte_order_mark_reads_its_first_heading():
    dataset = read_spreadsheet("code,name\nCAFE,Café\n".encode("utf-8-sig"), "fund-codes.csv")

    assert dataset.headers == ["code", "name"]
    assert dataset.dict == [{"code": "CAFE", "name": "Café"}]


def test_a_corrupt_xlsx_file_is_refused_as_unreadable():
    with pytest.raises(ImportFileError, match=r"'fund-codes\.xlsx' could not be read as XLSX"):
        read_spreadsheet(b"PK\x03\x04 this is not a workbook", "fund-codes.xlsx")


def test_an_empty_csv_file_is_refused_for_having_no_header_row():
    with pytest.raises(ImportFileError, match=r"'fund-codes\.csv' has no header row"):
        read_spreadsheet(b"", "fund-codes.csv")


def test_an_empty_xlsx_file_is_refused_for_having_no_header_row():
    with pytest.raises(ImportFileError, match=r"'fund-codes\.xlsx' has no header row"):
        read_spreadsheet(xlsx_file(), "fund-codes.xlsx")


def test_an_xlsx_file_with_a_blank_heading_is_refused_as_having_an_unnamed_column(
    configured_council,
):
    content = xlsx_file(["code", "name", None], ["CTAX", "Council tax", "a note"])

    outcome = import_fund_codes(configured_council, content, filename="fund-codes.xlsx")

    assert outcome.committed is False
    assert [problem.line for problem in outcome.problems] == [1]


# Councils are kept apart ------------------------------------------------------------------


def test_a_vat_rate_only_another_council_has_is_unknown_and_nothing_is_saved(
    configured_council, other_council
):
    VatRateFactory(organisation=other_council, code="W20")
    wessex_rate = {**GOOD_NEW_FUND_CODE, "code": "WX", "default_vat_rate": "W20"}

    outcome = import_fund_codes(
        configured_council, csv_file(FUND_CODE_HEADER, GOOD_NEW_FUND_CODE, wessex_rate)
    )

    assert outcome.committed is False
    assert [(problem.line, problem.column) for problem in outcome.problems] == [
        (3, "default_vat_rate")
    ]
    assert "There is no VAT rate 'W20' in this council" in outcome.problems[0].message
    assert organisation_rows(FundCode, configured_council).count() == 3


def test_a_reference_rule_only_another_council_has_is_unknown_and_nothing_is_saved(
    configured_council, other_council
):
    ReferenceRuleFactory(organisation=other_council, name="Wessex permit number")
    header = [*FUND_CODE_HEADER, "reference_rule"]
    row = {**GOOD_NEW_FUND_CODE, "reference_rule": "Wessex permit number"}

    outcome = import_fund_codes(configured_council, csv_file(header, row))

    assert [(problem.line, problem.column) for problem in outcome.problems] == [
        (2, "reference_rule")
    ]
    assert "There is no reference rule 'Wessex permit number'" in outcome.problems[0].message
    assert not organisation_rows(FundCode, configured_council).filter(code="LIC").exists()


def test_a_fund_code_only_another_council_has_is_unknown_to_a_service(
    configured_council, other_council
):
    FundCodeFactory(organisation=other_council, code="WXP")
    content = csv_file(
        ["slug", "name", "fund_code"], {"slug": "wx", "name": "Wessex", "fund_code": "WXP"}
    )

    outcome = services_import(
        organisation=configured_council,
        user=None,
        dataset=read_spreadsheet(content, "services.csv"),
        commit=True,
    )

    assert [(problem.line, problem.column) for problem in outcome.problems] == [(2, "fund_code")]
    assert not organisation_rows(Service, configured_council).filter(slug="wx").exists()


def test_a_code_another_council_also_uses_creates_a_row_here_and_leaves_theirs(
    configured_council, other_council
):
    configure(other_council)
    FundCodeFactory(organisation=other_council, code="LIC", name="Wessex licensing")
    theirs = snapshot(FundCode, other_council)

    outcome = import_fund_codes(configured_council, csv_file(FUND_CODE_HEADER, GOOD_NEW_FUND_CODE))

    assert (outcome.created, outcome.updated) == (1, 0)
    assert FundCode.objects.get(organisation=configured_council, code="LIC").name == "Licensing"
    assert snapshot(FundCode, other_council) == theirs


# A dry run -----------------------------------------------------------------------------


def test_a_dry_run_saves_nothing_and_predicts_what_the_import_then_does(
    configured_council, finance_admin
):
    before = snapshot(FundCode, configured_council)
    dataset = edited_fund_codes(configured_council)

    dry_run = fund_codes_import(
        organisation=configured_council, user=finance_admin, dataset=dataset, commit=False
    )

    assert dry_run.committed is False
    assert dry_run.problems == []
    assert snapshot(FundCode, configured_council) == before
    assert not ModelLogEntry.objects.exists()

    real = fund_codes_import(
        organisation=configured_council, user=finance_admin, dataset=dataset, commit=True
    )

    assert real.committed is True
    assert (
        (dry_run.rows, dry_run.created, dry_run.updated, dry_run.unchanged)
        == (
            real.rows,
            real.created,
            real.updated,
            real.unchanged,
        )
        == (4, 1, 1, 2)
    )


def test_a_dry_run_finds_the_same_problems_as_the_import(configured_council):
    content = file_with_a_bad_row({"default_vat_rate": "X9"})

    dry_run = import_fund_codes(configured_council, content, commit=False)
    real = import_fund_codes(configured_council, content, commit=True)

    assert dry_run.problems == real.problems
    assert len(dry_run.problems) == 1
