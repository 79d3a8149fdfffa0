"""Reports > Audit log: auditors search the log and download what they found as CSV.

The list is paged by a cursor on (at, id), newest first, so that a page costs
the same on the first day as after ten years: there is no COUNT over the log,
only "there are more". Both pages are themselves recorded in the log by the
middleware (a search, or an export, with the filters used).
"""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .filters import AuditEventFilterSet
from .models import AuditEvent

PERMISSION = "audit.view_auditevent"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
# A spreadsheet runs a cell starting with one of these as a formula: a username tried at
# sign-in, or a path, is typed by whoever is on the other end.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class InvalidCursor(ValueError):
    """A page link whose cursor was altered or cut short."""


def encode_cursor(event: AuditEvent) -> str:
    """Where the next page starts: just after ``event``, in (at, id) order."""
    return f"{event.at.isoformat()}_{event.pk}"


def decode_cursor(value: str) -> tuple:
    """The (at, id) a cursor names, or InvalidCursor."""
    at_text, _, pk_text = value.rpartition("_")
    at = parse_datetime(at_text) if at_text else None
    if at is None or timezone.is_naive(at) or not pk_text.isdigit():
        raise InvalidCursor(f"{value!r} is not a page of the audit log.")
    return at, int(pk_text)


def older_than(queryset, cursor: tuple):
    """Events after ``cursor`` in newest-first order: earlier, or as early with a lower id.

    Written as a range on ``at`` (which the (organisation, at) index serves) minus the
    ties already shown, rather than an OR that would defeat the index.
    """
    at, pk = cursor
    return queryset.filter(at__lte=at).exclude(at=at, pk__gte=pk)


class AuditLogAccessMixin:
    """Who may read the log, and which events they see."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        if request.organisation is None and not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def visible_events(self):
        """A system administrator sees every council's events; anyone else their council's."""
        events = AuditEvent.objects.select_related("organisation")
        if self.request.user.is_superuser:
            return events
        return events.for_organisation(self.request.organisation)

    def filterset(self):
        return AuditEventFilterSet(
            self.request.GET or None, queryset=self.visible_events(), request=self.request
        )


class AuditLogView(AuditLogAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """The search form and one page of matching events, newest first."""

    template_name = "audit/audit_log.html"
    page_title = "Audit log"
    header_icon = "list-ul"
    breadcrumbs_items = []

    def get_page_subtitle(self):
        if self.request.user.is_superuser:
            return "All councils"
        return str(self.request.organisation)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.filterset()
        events, cursor_error = [], ""
        if filterset.is_bound and not filterset.is_valid():
            found = AuditEvent.objects.none()
        else:
            found = filterset.qs if filterset.is_bound else self.visible_events()
        cursor = self.request.GET.get("cursor", "")
        if cursor:
            try:
                found = older_than(found, decode_cursor(cursor))
            except InvalidCursor:
                cursor_error = "That page link is not valid: the newest events are shown instead."
                cursor = ""
        events = list(found.order_by("-at", "-id")[: PAGE_SIZE + 1])
        has_more = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        context.update(
            filter_form=filterset.form,
            events=events,
            page_size=PAGE_SIZE,
            has_more=has_more,
            is_first_page=not cursor,
            cursor_error=cursor_error,
            show_council=self.request.user.is_superuser,
            first_page_url=self._url("audit_log", cursor=None),
            next_page_url=self._url("audit_log", cursor=encode_cursor(events[-1]))
            if has_more
            else "",
            export_url=self._url("audit_log_export", cursor=None),
        )
        return context

    def _url(self, url_name: str, *, cursor: str | None) -> str:
        query = self.request.GET.copy()
        query.pop("cursor", None)
        if cursor:
            query["cursor"] = cursor
        encoded = query.urlencode()
        return reverse(url_name) + (f"?{encoded}" if encoded else "")


class AuditLogExportView(AuditLogAccessMixin, View):
    """Every event the filters match, newest first, as a CSV file streamed row by row."""

    HEADER = [
        "at",
        "council",
        "username",
        "action",
        "object type",
        "object id",
        "what",
        "method",
        "path",
        "status",
        "IP address",
        "user agent",
        "search terms",
    ]

    def get(self, request):
        """The CSV file, or the filters' errors as plain text if they are not valid."""
        filterset = self.filterset()
        if filterset.is_bound and not filterset.is_valid():
            errors = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()
            )
            return HttpResponseBadRequest(
                f"The audit log was not exported: {errors}", content_type="text/plain"
            )
        found = filterset.qs if filterset.is_bound else self.visible_events()
        rows = (
            self._row(event)
            for event in found.order_by("-at", "-id").iterator(chunk_size=EXPORT_CHUNK)
        )
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in _with_header(self.HEADER, rows)),
            content_type="text/csv; charset=utf-8",
        )
        scope = "all-councils" if request.user.is_superuser else request.organisation.code
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{scope}-{stamp}.csv"'
        return response

    def _row(self, event: AuditEvent) -> list:
        cells = [
            timezone.localtime(event.at).isoformat(),
            event.organisation.code if event.organisation else "",
            event.username,
            event.get_action_display(),
            event.object_type,
            event.object_id,
            event.description,
            event.method,
            event.path,
            event.status_code or "",
            event.ip_address or "",
            event.user_agent,
            event.search_terms,
        ]
        return [_safe_for_spreadsheets(cell) for cell in cells]


def _safe_for_spreadsheets(cell):
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _with_header(header, rows):
    yield header
    yield from rows


class _Echo:
    """A file-like object csv.writer writes one row to and hands straight back."""

    def write(self, value):
        return value


audit_log = AuditLogView.as_view()
audit_log_export = AuditLogExportView.as_view()
