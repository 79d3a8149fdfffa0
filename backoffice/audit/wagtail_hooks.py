"""Reports > Audit log in the Wagtail admin, and staff accounts kept while the log names them."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views
from .models import AuditEvent


class AuditLogMenuItem(MenuItem):
    def is_shown(self, request):
        """Only for those who may read the log."""
        return request.user.has_perm(views.PERMISSION)


@hooks.register("register_admin_urls")
def register_audit_log_urls():
    """The search page and its CSV export, under the admin's Reports."""
    return [
        path("reports/audit-log/", views.audit_log, name="audit_log"),
        path("reports/audit-log/export/", views.audit_log_export, name="audit_log_export"),
    ]


@hooks.register("register_reports_menu_item")
def register_audit_log_menu_item():
    """Reports > Audit log."""
    return AuditLogMenuItem("Audit log", reverse("audit_log"), icon_name="list-ul", order=50)


@hooks.register("before_delete_user")
def keep_accounts_the_audit_log_names(request, user):
    """An account with audit events cannot be deleted (the log points at it): say so, and
    send the administrator to deactivate it instead, rather than fail with an error page."""
    if AuditEvent.objects.filter(user=user).exists():
        messages.error(
            request,
            f"{user.get_username()} has a history in the audit log, so the account cannot be "
            "deleted. Deactivate it instead: untick Active and save.",
        )
        return redirect("wagtailusers_users:edit", user.pk)
    return None
