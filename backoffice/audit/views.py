"""Reports > Audit log: auditors search the log and download what they found as CSV.

The list is paged by a cursor on (at, id), newest first, so that a page costs
the same on the first day as after ten years: there is no COUNT over the log,
only "there are more". Both pages are themselves recorded in the log by the
middleware (a search, or an export, with the filters used).
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from backoffice.listing import (
    InvalidCursor,
    after_cursor,
    csv_download,
    cursor_decode,
    cursor_encode,
    filter_errors,
    page_url,
)

from .filters import AuditEventFilterSet
from .models import AuditEvent

PERMISSION = "audit.view_auditevent"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
CURSOR_SALT = "ims.audit-log-page"


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
                found = after_cursor(found, "at", cursor_decode(cursor, salt=CURSOR_SALT))
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
            first_page_url=page_url(self.request, "audit_log"),
            next_page_url=(
                page_url(
                    self.request,
                    "audit_log",
                    cursor=cursor_encode(events[-1].at, events[-1].pk, salt=CURSOR_SALT),
                )
                if has_more
                else ""
            ),
            export_url=page_url(self.request, "audit_log_export"),
        )
        return context


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
            return HttpResponseBadRequest(
                f"The audit log was not exported: {filter_errors(filterset)}",
                content_type="text/plain",
            )
        found = filterset.qs if filterset.is_bound else self.visible_events()
        rows = (
            self._row(event)
            for event in found.order_by("-at", "-id").iterator(chunk_size=EXPORT_CHUNK)
        )
        scope = "all-councils" if request.user.is_superuser else request.organisation.code
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_download(
            _with_header(self.HEADER, rows), filename=f"audit-log-{scope}-{stamp}.csv"
        )

    def _row(self, event: AuditEvent) -> list:
        return [
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


def _with_header(header, rows):
    yield header
    yield from rows


audit_log = AuditLogView.as_view()
audit_log_export = AuditLogExportView.as_view()
