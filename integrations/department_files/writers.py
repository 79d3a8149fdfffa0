"""The files the plugin writes for a day: payment files per fund (CSV, fixed width) and a
general ledger journal file.

Read-only: everything comes from querysets over payments, refunds and the
ledger, summed in SQL where a sum is wanted. Amounts are integer pence until
the moment they are written. Output depends only on the data, never on when
it is made, so the same day exported twice gives the same bytes (and the
same SHA-256 in the run's record) unless the data changed.

Layouts are documented in docs/integrations/department_files.md; the
constants below are that documentation's source.
"""

import csv
import datetime
import io
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Sum

from backoffice.funds.models import FundCode
from backoffice.ledger.models import AccountKind, Posting
from backoffice.listing import spreadsheet_safe
from backoffice.money import pence_to_pounds_text
from backoffice.payments.models import TAKEN_STATUSES, PaymentLine, Refund, RefundStatus
from plugins.types import ExportFile

# A council's day is its day in the UK, summer time included.
LONDON = ZoneInfo("Europe/London")


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of ``day`` in London and of the day after (23 or 25 hours apart
    on the days the clocks change)."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=LONDON)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, LONDON)
    return start, end


# Rows of a payment file ----------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    """One row of a payment file: a payment line taken (``P``) or a refund (``R``, negative)."""

    record_type: str
    receipt_number: str
    at: datetime.datetime
    fund_code: str
    account_reference: str
    amount_pence: int
    vat_pence: int
    method: str
    channel: str
    payer_name: str


def _payment_rows(organisation, fund: FundCode, start, end) -> Iterator[PaymentRow]:
    """The fund's lines of payments completed in [start, end), oldest first.

    A line sent to suspense is on the suspense fund, not on the fund the payer
    meant: the department hears of it only once it is allocated to them.
    """
    lines = (
        PaymentLine.objects.filter(
            organisation=organisation,
            fund_code=fund,
            payment__status__in=TAKEN_STATUSES,
            payment__completed_at__gte=start,
            payment__completed_at__lt=end,
        )
        .order_by("payment__completed_at", "payment__receipt_number", "pk")
        .values_list(
            "payment__receipt_number",
            "payment__completed_at",
            "account_reference",
            "gross_pence",
            "vat_pence",
            "payment__method",
            "payment__channel",
            "payment__payer_name",
        )
        .iterator(chunk_size=2000)
    )
    for receipt, at, reference, gross, vat, method, channel, payer in lines:
        yield PaymentRow(
            record_type="P",
            receipt_number=receipt,
            at=at.astimezone(LONDON),
            fund_code=fund.code,
            account_reference=reference,
            amount_pence=gross,
            vat_pence=vat,
            method=method,
            channel=channel,
            payer_name=payer,
        )


def _apportion(total: int, weights: dict) -> dict:
    """Share ``total`` in proportion to ``weights`` to the penny (largest remainder)."""
    weight_sum = sum(weights.values())
    if not weight_sum:
        return dict.fromkeys(weights, 0)
    shares = {key: total * weight // weight_sum for key, weight in weights.items()}
    by_remainder = sorted(weights, key=lambda key: -(total * weights[key] % weight_sum))
    for key in by_remainder[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def _refund_rows(organisation, funds: list[FundCode], start, end) -> dict[int, list[PaymentRow]]:
    """Refunds completed in [start, end), as negative rows per fund id.

    What a refund gave back from each fund is read from its ledger entry (the
    fund's posting is the net refunded). The entry has one VAT posting for the
    whole refund: it is given to the fund whose lines carried the VAT, or
    shared in proportion to the lines' VAT when several funds of one payment
    carried VAT.
    """
    wanted = {fund.pk: fund for fund in funds}
    refunds = (
        Refund.objects.filter(
            organisation=organisation,
            status=RefundStatus.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
            payment__lines__fund_code__in=list(wanted),
        )
        .distinct()
        .select_related("payment", "entry")
        .prefetch_related(
            "payment__lines",
            Prefetch("entry__postings", queryset=Posting.objects.select_related("account")),
        )
        .order_by("completed_at", "pk")
    )
    rows: dict[int, list[PaymentRow]] = defaultdict(list)
    for refund in refunds:
        net: dict[int, int] = defaultdict(int)
        vat_total = 0
        for posting in refund.entry.postings.all():
            if posting.account.fund_code_id is not None:
                net[posting.account.fund_code_id] += posting.amount_pence
            elif posting.account.kind == AccountKind.VAT_OUTPUT:
                vat_total += posting.amount_pence
        lines = sorted(refund.payment.lines.all(), key=lambda line: line.pk)
        vat_weights = {
            fund_id: sum(line.vat_pence for line in lines if line.fund_code_id == fund_id)
            for fund_id in net
        }
        vat = _apportion(vat_total, vat_weights)
        for fund_id in net:
            if fund_id not in wanted or not net[fund_id] + vat[fund_id]:
                continue
            references = dict.fromkeys(
                line.account_reference for line in lines if line.fund_code_id == fund_id
            )
            rows[fund_id].append(
                PaymentRow(
                    "R",
                    refund.payment.receipt_number,
                    refund.completed_at.astimezone(LONDON),
                    wanted[fund_id].code,
                    "; ".join(reference for reference in references if reference),
                    -(net[fund_id] + vat[fund_id]),
                    -vat[fund_id],
                    refund.payment.method,
                    refund.payment.channel,
                    refund.payment.payer_name,
                )
            )
    return rows


# The payment file as CSV ---------------------------------------------------------------

CSV_COLUMNS = (
    "record_type",
    "receipt_number",
    "date_time",
    "fund_code",
    "account_reference",
    "amount",
    "vat",
    "method",
    "channel",
    "payer_name",
)


def payment_csv(
    organisation, fund: FundCode, rows: list[PaymentRow], *, filename: str
) -> ExportFile:
    """The payment file of one fund as CSV: a header, one row per line or refund, a total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.record_type,
                row.receipt_number,
                row.at.strftime("%Y-%m-%d %H:%M:%S"),
                row.fund_code,
                spreadsheet_safe(row.account_reference),
                pence_to_pounds_text(row.amount_pence),
                pence_to_pounds_text(row.vat_pence),
                row.method,
                row.channel,
                spreadsheet_safe(row.payer_name),
            ]
        )
    total = sum(row.amount_pence for row in rows)
    vat = sum(row.vat_pence for row in rows)
    # The count of rows goes in the receipt number's column, the totals in their own.
    trailer = ["TOTAL", len(rows), "", fund.code, "", pence_to_pounds_text(total)]
    writer.writerow([*trailer, pence_to_pounds_text(vat), "", "", ""])
    return ExportFile(
        filename=filename,
        content=out.getvalue().encode("utf-8"),
        rows=len(rows),
        meta={"fund_code": fund.code, "total_pence": total, "vat_pence": vat},
    )


# The payment file as fixed width -------------------------------------------------------

# (field, length): every record is RECORD_LENGTH characters, then CR LF.
DETAIL_LAYOUT = (
    ("record_type", 1),
    ("receipt_number", 30),
    ("date_time", 14),
    ("fund_code", 20),
    ("account_reference", 100),
    ("amount_sign", 1),
    ("amount", 11),
    ("vat_sign", 1),
    ("vat", 11),
    ("method", 20),
    ("channel", 20),
    ("payer_name", 50),
)
HEADER_LAYOUT = (
    ("record_type", 1),
    ("council_code", 40),
    ("fund_code", 20),
    ("file_date", 8),
)
TRAILER_LAYOUT = (
    ("record_type", 1),
    ("detail_records", 9),
    ("amount_sign", 1),
    ("amount", 11),
    ("vat_sign", 1),
    ("vat", 11),
)
RECORD_LENGTH = sum(length for _name, length in DETAIL_LAYOUT)


def _ascii(value: str) -> str:
    # One character, one byte, so positions hold whatever reads the file: accents
    # are dropped (é -> e) and anything else without an ASCII form becomes '?'.
    decomposed = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode("ascii")


def _record(layout, values: dict) -> str:
    fields = []
    for name, length in layout:
        value = values[name]
        if isinstance(value, int):
            fields.append(f"{value:0{length}d}")
        else:
            fields.append(_ascii(value)[:length].ljust(length))
    return "".join(fields).ljust(RECORD_LENGTH) + "\r\n"


def _signed(pence: int) -> tuple[str, int]:
    return ("-" if pence < 0 else "+"), abs(pence)


def payment_fixed_width(
    organisation, fund: FundCode, day: datetime.date, rows: list[PaymentRow], *, filename: str
) -> ExportFile:
    """The payment file of one fund in fixed-width records: header, details, trailer."""
    records = [
        _record(
            HEADER_LAYOUT,
            {
                "record_type": "H",
                "council_code": organisation.code,
                "fund_code": fund.code,
                "file_date": day.strftime("%Y%m%d"),
            },
        )
    ]
    for row in rows:
        amount_sign, amount = _signed(row.amount_pence)
        vat_sign, vat = _signed(row.vat_pence)
        records.append(
            _record(
                DETAIL_LAYOUT,
                {
                    "record_type": row.record_type,
                    "receipt_number": row.receipt_number,
                    "date_time": row.at.strftime("%Y%m%d%H%M%S"),
                    "fund_code": row.fund_code,
                    "account_reference": row.account_reference,
                    "amount_sign": amount_sign,
                    "amount": amount,
                    "vat_sign": vat_sign,
                    "vat": vat,
                    "method": row.method,
                    "channel": row.channel,
                    "payer_name": row.payer_name,
                },
            )
        )
    total = sum(row.amount_pence for row in rows)
    vat_total = sum(row.vat_pence for row in rows)
    amount_sign, amount = _signed(total)
    vat_sign, vat = _signed(vat_total)
    records.append(
        _record(
            TRAILER_LAYOUT,
            {
                "record_type": "T",
                "detail_records": len(rows),
                "amount_sign": amount_sign,
                "amount": amount,
                "vat_sign": vat_sign,
                "vat": vat,
            },
        )
    )
    return ExportFile(
        filename=filename,
        content="".join(records).encode("ascii"),
        rows=len(rows),
        meta={"fund_code": fund.code, "total_pence": total, "vat_pence": vat_total},
    )


# The general ledger journal file -------------------------------------------------------

GL_COLUMNS = ("posting_date", "gl_account_code", "cost_centre", "description", "debit", "credit")


class UnbalancedDay(Exception):
    """The day's postings do not sum to zero: the ledger is broken; no file is written."""


def gl_journal(organisation, day: datetime.date, *, filename: str) -> ExportFile:
    """Every posting the council made on ``day``, summed per GL account code and cost centre.

    A fund's account goes to its fund code's GL account code and cost centre
    (its own ledger code where the fund code has no GL code); a system account
    (bank, clearing, cash in transit, VAT) to its own code and name. One row
    per (GL code, cost centre) with its net as a debit or a credit; groups
    that net to nothing are left out. Debits equal credits, always.
    """
    start, end = day_bounds(day)
    sums = (
        Posting.objects.filter(
            organisation=organisation, entry__created_at__gte=start, entry__created_at__lt=end
        )
        .values(
            "account__code",
            "account__name",
            "account__fund_code__gl_account_code",
            "account__fund_code__cost_centre",
        )
        .annotate(total=Sum("amount_pence"))
        .order_by()
    )
    groups: dict[tuple[str, str], dict] = {}
    for row in sums:
        key = (
            row["account__fund_code__gl_account_code"] or row["account__code"],
            row["account__fund_code__cost_centre"] or "",
        )
        group = groups.setdefault(key, {"total": 0, "names": []})
        group["total"] += row["total"]
        group["names"].append(row["account__name"])
    if sum(group["total"] for group in groups.values()):
        raise UnbalancedDay(f"The postings of {day} do not balance; the ledger needs checking.")

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GL_COLUMNS)
    debits = credits = rows = 0
    for (gl_code, cost_centre), group in sorted(groups.items()):
        total = group["total"]
        if not total:
            continue
        debit, credit = (total, 0) if total > 0 else (0, -total)
        debits += debit
        credits += credit
        rows += 1
        writer.writerow(
            [
                day.isoformat(),
                gl_code,
                cost_centre,
                "; ".join(sorted(set(group["names"]))),
                pence_to_pounds_text(debit),
                pence_to_pounds_text(credit),
            ]
        )
    writer.writerow(
        ["TOTAL", "", "", "", pence_to_pounds_text(debits), pence_to_pounds_text(credits)]
    )
    return ExportFile(
        filename=filename,
        content=out.getvalue().encode("utf-8"),
        rows=rows,
        meta={"debit_pence": debits, "credit_pence": credits},
    )


# Everything the integration writes for a day -------------------------------------------


def export_files(integration, day: datetime.date) -> list[ExportFile]:
    """The files the integration's settings ask for, for ``day``, in a fixed order."""
    from .forms import ExportKind

    settings = integration.settings
    kinds = set(settings.get("exports") or [])
    prefix = settings.get("file_prefix") or ""
    organisation = integration.organisation
    stamp = day.strftime("%Y%m%d")
    files: list[ExportFile] = []
    if kinds & {ExportKind.PAYMENT_CSV, ExportKind.PAYMENT_FIXED_WIDTH}:
        funds = list(
            FundCode.objects.for_organisation(organisation)
            .filter(code__in=settings.get("fund_codes") or [])
            .order_by("code")
        )
        start, end = day_bounds(day)
        refunds = _refund_rows(organisation, funds, start, end)
        for fund in funds:
            rows = [*_payment_rows(organisation, fund, start, end), *refunds.get(fund.pk, [])]
            if ExportKind.PAYMENT_CSV in kinds:
                name = f"{prefix}{fund.code}_{stamp}.csv"
                files.append(payment_csv(organisation, fund, rows, filename=name))
            if ExportKind.PAYMENT_FIXED_WIDTH in kinds:
                name = f"{prefix}{fund.code}_{stamp}.txt"
                files.append(payment_fixed_width(organisation, fund, day, rows, filename=name))
    if ExportKind.GL_JOURNAL in kinds:
        files.append(gl_journal(organisation, day, filename=f"{prefix}gl-journal_{stamp}.csv"))
    return files
