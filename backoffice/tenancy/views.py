"""Wagtail admin screens that would show every council's rows, closed to council staff."""

from django.core.exceptions import PermissionDenied
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports.audit_logging import LogEntriesView


def superusers_only(view):
    """Wagtail's site history lists the changes of every council; council staff see
    each row's own History instead, which the council screens keep to their council."""

    @require_admin_access
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


site_history = superusers_only(LogEntriesView.as_view())
site_history_results = superusers_only(LogEntriesView.as_view(results_only=True))
