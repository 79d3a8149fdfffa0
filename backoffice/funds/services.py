"""Writes to a council's fund configuration.

The admin's create and edit screens save through Wagtail's model actions,
which validate and record the change in the audit log. The functions here do
the same for everything else that writes configuration: spreadsheet imports,
the demo council and management commands.
"""

from dataclasses import dataclass, field

import tablib
from django.db import models, transaction
from import_export.formats.base_formats import CSV, XLSX
from wagtail.log_actions import log

from .models import Department, FundCode, FundGroup, ReferenceRule, Service, VatRate, VatRatePeriod
from .resources import FundCodeResource, ServiceResource

IMPORT_FORMATS = {"csv": CSV, "xlsx": XLSX}


class ImportFileError(ValueError):
    """The file itself cannot be read (wrong type, not CSV/XLSX, no header row...)."""


@dataclass(frozen=True)
class RowProblem:
    line: int  # the line in the file: the header is line 1, the first data row line 2
    column: str  # blank where the problem is with the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportOutcome:
    committed: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_spreadsheet(content: bytes, filename: str) -> tablib.Dataset:
    """A dataset from an uploaded CSV or XLSX file, or ``ImportFileError`` saying why not."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    format_class = IMPORT_FORMATS.get(extension)
    if format_class is None:
        raise ImportFileError(f"'{filename}' is not a .csv or .xlsx file.")
    file_format = format_class()
    try:
        if file_format.is_binary():
            dataset = file_format.create_dataset(content)
        else:
            dataset = file_format.create_dataset(content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ImportFileError("The CSV file is not UTF-8 text; save it as 'CSV UTF-8'.") from error
    except StopIteration as error:  # the XLSX reader on a sheet with no rows at all
        raise ImportFileError(f"'{filename}' has no header row.") from error
    except Exception as error:
        detail = str(error) or type(error).__name__
        raise ImportFileError(
            f"'{filename}' could not be read as {extension.upper()}: {detail}"
        ) from error
    if not dataset.headers or not any(
        header is not None and str(header).strip() for header in dataset.headers
    ):
        raise ImportFileError(f"'{filename}' has no header row.")
    return dataset


def _column_problems(resource, dataset: tablib.Dataset) -> list[RowProblem]:
    """Problems with the header row: blank, unknown, missing or repeated columns."""
    expected = [field.column_name for field in resource.get_import_fields()]
    headers = list(dataset.headers)
    problems = [
        RowProblem(1, f"column {position}", "this column has no heading")
        for position, header in enumerate(headers, start=1)
        if header is None or not str(header).strip()
    ]
    named = [str(header) for header in headers if header is not None and str(header).strip()]
    missing = [name for name in resource.get_import_id_fields() if name not in named]
    if missing:
        problems.append(RowProblem(1, ", ".join(missing), "required column missing"))
    unknown = [name for name in named if name not in expected]
    if unknown:
        problems.append(
            RowProblem(1, ", ".join(unknown), f"unknown column; columns are {', '.join(expected)}")
        )
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        problems.append(RowProblem(1, ", ".join(repeated), "column appears more than once"))
    return problems


def _repeated_keys(resource, dataset: tablib.Dataset) -> list[RowProblem]:
    """Two rows for one fund code (or slug) would silently keep the last: refuse them."""
    key = resource.get_import_id_fields()[0]
    first_seen: dict[str, int] = {}
    problems = []
    for line, value in enumerate(dataset[key], start=2):
        value = str(value or "").strip()
        if value in first_seen:
            problems.append(
                RowProblem(line, key, f"'{value}' is already on line {first_seen[value]}")
            )
        elif value:
            first_seen[value] = line
    return problems


def _import(resource, dataset: tablib.Dataset, *, commit: bool) -> ImportOutcome:
    problems = _column_problems(resource, dataset) or _repeated_keys(resource, dataset)
    if problems:
        return ImportOutcome(committed=False, rows=len(dataset), problems=problems)
    columns = {field.attribute: field.column_name for field in resource.get_import_fields()}

    # One transaction around the whole file: a single bad row anywhere saves nothing.
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=not commit,
            raise_errors=False,
            use_transactions=True,
            rollback_on_validation_errors=True,
        )
        outcome = ImportOutcome(committed=False, rows=result.total_rows)
        for line_number, errors in result.row_errors():
            for error in errors:
                outcome.problems.append(RowProblem(line_number + 1, "", str(error.error)))
        for invalid in result.invalid_rows:
            for column, messages in invalid.error_dict.items():
                column = "" if column == "__all__" else columns.get(column, column)
                for message in messages:
                    outcome.problems.append(RowProblem(invalid.number + 1, column, message))
        outcome.problems.sort(key=lambda problem: problem.line)
        totals = result.totals
        outcome.created = totals.get("new", 0)
        outcome.updated = totals.get("update", 0)
        outcome.unchanged = totals.get("skip", 0)
        if outcome.problems or not commit:
            transaction.set_rollback(True)
        else:
            outcome.committed = True
    return outcome


def fund_codes_import(
    *, organisation, user, dataset: tablib.Dataset, commit: bool
) -> ImportOutcome:
    """Create and update fund codes from a spreadsheet, all rows or none.

    With ``commit=False`` nothing is saved and the outcome says what would
    happen: the dry run shown to the user before they confirm.
    """
    return _import(FundCodeResource(organisation=organisation, user=user), dataset, commit=commit)


def services_import(*, organisation, user, dataset: tablib.Dataset, commit: bool) -> ImportOutcome:
    """Create and update services from a spreadsheet, all rows or none.

    See ``fund_codes_import``.
    """
    return _import(ServiceResource(organisation=organisation, user=user), dataset, commit=commit)


def _save(model, *, organisation, user, lookup: dict, fields: dict) -> tuple[models.Model, bool]:
    """Create or update one council's row found by its natural key; validate; audit.

    Returns the row and whether anything changed. An unchanged row is not
    saved or logged, so loading the same configuration twice is a no-op.
    """
    instance = model.objects.filter(organisation=organisation, **lookup).first()
    created = instance is None
    if created:
        instance = model(organisation=organisation, **lookup)
    changed = created or any(getattr(instance, name) != value for name, value in fields.items())
    if not changed:
        return instance, False
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    log(
        instance=instance,
        action="wagtail.create" if created else "wagtail.edit",
        user=user,
        content_changed=True,
    )
    return instance, True


@transaction.atomic
def department_save(*, organisation, code: str, user=None, **fields) -> tuple[Department, bool]:
    return _save(
        Department, organisation=organisation, user=user, lookup={"code": code}, fields=fields
    )


@transaction.atomic
def vat_rate_save(
    *, organisation, code: str, periods: list[tuple], user=None, **fields
) -> tuple[VatRate, bool]:
    """Save a VAT rate and the percentages it has had: ``periods`` of (date, percentage)."""
    vat_rate, changed = _save(
        VatRate, organisation=organisation, user=user, lookup={"code": code}, fields=fields
    )
    existing = {period.effective_from: period for period in vat_rate.periods.all()}
    for effective_from, percentage in periods:
        period = existing.get(effective_from)
        if period is None:
            # Through the model's own manager: the cluster's deferring manager would not save.
            VatRatePeriod.objects.create(
                vat_rate=vat_rate, effective_from=effective_from, percentage=percentage
            )
            changed = True
        elif period.percentage != percentage:
            period.percentage = percentage
            period.save(update_fields=["percentage"])
            changed = True
    return vat_rate, changed


@transaction.atomic
def reference_rule_save(
    *, organisation, name: str, user=None, **fields
) -> tuple[ReferenceRule, bool]:
    return _save(
        ReferenceRule, organisation=organisation, user=user, lookup={"name": name}, fields=fields
    )


@transaction.atomic
def fund_code_save(*, organisation, code: str, user=None, **fields) -> tuple[FundCode, bool]:
    return _save(
        FundCode, organisation=organisation, user=user, lookup={"code": code}, fields=fields
    )


@transaction.atomic
def service_save(*, organisation, slug: str, user=None, **fields) -> tuple[Service, bool]:
    return _save(
        Service, organisation=organisation, user=user, lookup={"slug": slug}, fields=fields
    )


@transaction.atomic
def fund_group_save(
    *, organisation, name: str, fund_codes: list[FundCode], user=None, **fields
) -> tuple[FundGroup, bool]:
    group, changed = _save(
        FundGroup, organisation=organisation, user=user, lookup={"name": name}, fields=fields
    )
    wanted = {fund_code.pk for fund_code in fund_codes}
    if set(group.fund_codes.values_list("pk", flat=True)) != wanted:
        group.fund_codes.set(fund_codes)
        changed = True
    return group, changed
