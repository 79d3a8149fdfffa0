"""Long lists in the back office: keyset pages, their links, and CSV files safe to open.

The transaction search and the audit log both page newest first over tables
of millions of rows, and both export what their filters match.
"""

import csv
import datetime

from django.core import signing
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime

# A spreadsheet runs a cell starting with one of these as a formula; payers type
# their names and anyone can type a username at sign-in.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell) -> str:
    """The cell as text a spreadsheet shows as it is, never runs."""
    text = "" if cell is None else str(cell)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines."""

    def write(self, value):
        return value


def csv_download(rows, *, filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` (the header first) as a CSV attachment, memory flat; cells made safe."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([spreadsheet_safe(cell) for cell in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def filter_errors(filterset) -> str:
    """A filter form's errors on one line, for a plain-text answer."""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())


class InvalidCursor(ValueError):
    """A page link whose cursor was altered, cut short or made for another list."""


def cursor_encode(moment: datetime.datetime, pk: int, *, salt: str) -> str:
    """An opaque, signed token for "the rows after this one" in newest-first order."""
    return signing.dumps([moment.isoformat(), pk], salt=salt)


def cursor_decode(token: str, *, salt: str) -> tuple[datetime.datetime, int]:
    """The (moment, id) a cursor names; ``InvalidCursor`` unless it was made here unchanged."""
    try:
        moment_text, pk = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise InvalidCursor("That page link is not valid.") from error
    moment = parse_datetime(moment_text) if isinstance(moment_text, str) else None
    if moment is None or not isinstance(pk, int):
        raise InvalidCursor("That page link is not valid.")
    return moment, pk


def after_cursor(queryset, field: str, cursor: tuple[datetime.datetime, int]):
    """Rows after ``cursor`` newest first: earlier, or as early with a lower id.

    A range on ``field`` (which an (organisation, field) index serves) less the
    ties already shown, rather than an OR that would defeat the index.
    """
    moment, pk = cursor
    return queryset.filter(**{f"{field}__lte": moment}).exclude(**{field: moment, "pk__gte": pk})


def page_url(request, url_name: str, *, cursor: str = "") -> str:
    """The list's address with the same filters, at ``cursor`` (or the first page)."""
    query = request.GET.copy()
    query.pop("cursor", None)
    if cursor:
        query["cursor"] = cursor
    encoded = query.urlencode()
    return reverse(url_name) + (f"?{encoded}" if encoded else "")
