"""The known-references screens in the admin, and the log action an upload records."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views


@hooks.register("register_admin_urls")
def register_department_files_urls():
    return [
        path(
            "department-files/", views.IntegrationListView.as_view(), name="department_files_index"
        ),
        path(
            "department-files/<int:pk>/references/",
            views.KnownReferencesView.as_view(),
            name="department_files_references",
        ),
    ]


class KnownReferencesMenuItem(MenuItem):
    def is_shown(self, request):
        return views.may_manage(request.user)


@hooks.register("register_settings_menu_item")
def register_known_references_menu_item():
    return KnownReferencesMenuItem(
        _("Known references"), reverse("department_files_index"), icon_name="doc-full", order=25
    )


@hooks.register("register_log_actions")
def register_department_files_log_actions(actions):
    """Give an upload's log entry its words in the integration's history."""
    actions.register_action(
        "department_files.references_replaced",
        _("Replace known references"),
        _("Known references replaced from an uploaded file"),
    )
