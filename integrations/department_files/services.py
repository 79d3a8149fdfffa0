"""Writes of the departmental files plugin: replacing a department's list of known references."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from backoffice.funds.models import FundCode
from backoffice.funds.references import normalise_reference
from plugins.models import Integration

from .models import KnownReference

REQUIRED_COLUMNS = ("fund_code", "reference")
REFERENCE_MAX_LENGTH = KnownReference._meta.get_field("reference").max_length
# Enough to put a file right without drowning the page when every row is wrong.
PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of an uploaded file; ``row`` is its line number in the file."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}"


class KnownReferencesFileError(ValidationError):
    """An uploaded list was refused; nothing was changed. ``problems`` says where and why."""

    def __init__(self, problems: list[RowProblem], *, more: int = 0):
        self.problems = problems
        self.more = more
        messages = [str(problem) for problem in problems]
        if more:
            messages.append(f"… and {more} more problems.")
        super().__init__(messages, code="bad_known_references")


@dataclass(frozen=True)
class ReplaceOutcome:
    """What an accepted upload left in place."""

    total: int
    per_fund: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    @property
    def duplicates(self) -> int:
        return self.rows_read - self.total


def _normaliser(fund: FundCode):
    # Stored as the fund's rule compares references (trimmed, separators removed,
    # upper-cased where the rule says so), so that a payer's "ab 123" finds "AB123".
    if fund.reference_rule is None:
        return str.strip
    spec = fund.reference_rule.spec
    return lambda raw: normalise_reference(raw, spec)


def _decode(content) -> str:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise KnownReferencesFileError(
            [
                RowProblem(
                    content[: error.start].count(b"\n") + 1,
                    "the file is not UTF-8 text. Save it from your spreadsheet as "
                    "'CSV UTF-8 (comma delimited)'.",
                )
            ]
        ) from error


def _read(integration: Integration, content) -> tuple[set[tuple[int, str]], dict, int]:
    """Check every row: the distinct (fund id, reference) pairs, or raise with every problem."""
    reader = csv.reader(io.StringIO(_decode(content), newline=""))
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise KnownReferencesFileError(
            [RowProblem(1, "the file is empty: it needs the header row fund_code,reference.")]
        )
    columns = [cell.strip().lower() for cell in header]
    if any(name not in columns for name in REQUIRED_COLUMNS):
        raise KnownReferencesFileError(
            [
                RowProblem(
                    reader.line_num,
                    "the first row must be the header fund_code,reference; "
                    f"it is {','.join(header)}.",
                )
            ]
        )
    fund_at, reference_at = (columns.index(name) for name in REQUIRED_COLUMNS)

    council_funds = {
        fund.code: fund
        for fund in FundCode.objects.for_organisation(integration.organisation).select_related(
            "reference_rule"
        )
    }
    looked_after = set(integration.settings.get("fund_codes") or [])
    normalisers = {}
    pairs: set[tuple[int, str]] = set()
    problems: list[RowProblem] = []
    problem_count = rows_read = 0

    def problem(message: str):
        nonlocal problem_count
        problem_count += 1
        if len(problems) < PROBLEMS_SHOWN:
            problems.append(RowProblem(reader.line_num, message))

    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        rows_read += 1
        code = row[fund_at].strip() if fund_at < len(row) else ""
        raw = row[reference_at] if reference_at < len(row) else ""
        fund = council_funds.get(code)
        if not code:
            problem("the fund code is blank.")
            continue
        if fund is None:
            problem(f"fund code {code} is not one of this council's fund codes.")
            continue
        if code not in looked_after:
            problem(
                f"fund code {code} is not looked after by {integration.title}: "
                "add it in the integration's settings first."
            )
            continue
        if fund.pk not in normalisers:
            normalisers[fund.pk] = _normaliser(fund)
        reference = normalisers[fund.pk](raw)
        if not reference:
            problem("the reference is blank.")
            continue
        if len(reference) > REFERENCE_MAX_LENGTH:
            problem(f"the reference is longer than {REFERENCE_MAX_LENGTH} characters.")
            continue
        pairs.add((fund.pk, reference))
    if problem_count:
        raise KnownReferencesFileError(problems, more=problem_count - len(problems))
    codes = {fund.pk: code for code, fund in council_funds.items()}
    return pairs, codes, rows_read


def _insert(integration: Integration, pairs: set[tuple[int, str]]) -> None:
    table = KnownReference._meta.db_table
    if connection.vendor == "postgresql":
        # COPY: tens of thousands of rows in well under a second, memory kept flat.
        with connection.cursor() as cursor:
            sql = f"COPY {table} (organisation_id, integration_id, fund_code_id, reference) FROM STDIN"  # noqa: E501
            with cursor.copy(sql) as copy:
                for fund_id, reference in pairs:
                    copy.write_row(
                        (integration.organisation_id, integration.pk, fund_id, reference)
                    )
        return
    KnownReference.objects.bulk_create(
        (
            KnownReference(
                organisation_id=integration.organisation_id,
                integration=integration,
                fund_code_id=fund_id,
                reference=reference,
            )
            for fund_id, reference in pairs
        ),
        batch_size=2000,
    )


def known_references_replace(*, integration: Integration, content, user=None) -> ReplaceOutcome:
    """Replace the integration's whole list of known references with an uploaded CSV file.

    ``content`` is the file's bytes (UTF-8, a byte-order mark allowed) or
    text. Every row is checked before anything is written; if any row is
    wrong, ``KnownReferencesFileError`` lists the rows and the old list stays
    exactly as it was. Rows repeated in the file are kept once.
    """
    if integration.plugin != "department_files":
        raise ValidationError(f"{integration.title} does not keep a list of known references.")
    pairs, codes, rows_read = _read(integration, content)
    with transaction.atomic():
        # One upload at a time per integration: a second waits, then replaces the first's.
        Integration.objects.select_for_update().filter(pk=integration.pk).first()
        KnownReference.objects.filter(integration=integration).delete()
        _insert(integration, pairs)
        _log(integration, user, total=len(pairs))
    per_fund: dict[str, int] = {}
    for fund_id, _reference in pairs:
        per_fund[codes[fund_id]] = per_fund.get(codes[fund_id], 0) + 1
    return ReplaceOutcome(
        total=len(pairs), per_fund=dict(sorted(per_fund.items())), rows_read=rows_read
    )


def _log(integration: Integration, user, *, total: int) -> None:
    from wagtail.log_actions import log

    log(
        instance=integration,
        action="department_files.references_replaced",
        user=user,
        data={"references": total},
        content_changed=True,
    )
