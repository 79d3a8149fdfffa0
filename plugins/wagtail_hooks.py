"""The Integrations screens in the admin's Settings menu, and the log action they record."""

from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from . import admin_views


class IntegrationsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.PERMISSION)


class IntegrationsViewSet(ViewSet):
    """The list, set-up, edit, switch and API key pages of a council's integrations."""

    icon = "cogs"
    menu_label = _("Integrations")
    add_to_settings_menu = True
    menu_order = 20

    @cached_property
    def menu_item_class(self):
        return IntegrationsMenuItem

    def get_urlpatterns(self):
        return [
            path("", admin_views.IntegrationIndexView.as_view(), name="index"),
            path(
                "add/<str:plugin>/",
                admin_views.IntegrationCreateView.as_view(),
                name="add",
            ),
            path("<int:pk>/", admin_views.IntegrationEditView.as_view(), name="edit"),
            path("<int:pk>/switch/", admin_views.IntegrationSwitchView.as_view(), name="switch"),
            path("<int:pk>/api-key/", admin_views.ApiKeyIssueView.as_view(), name="api_key"),
        ]


@hooks.register("register_admin_viewset")
def register_integrations_viewset():
    return IntegrationsViewSet("plugins_integrations", url_prefix="integrations")


@hooks.register("register_log_actions")
def register_integration_log_actions(actions):
    """Give the API key's log entry its words in the integration's history and reports."""
    actions.register_action("ims.api_key_issued", _("Issue API key"), _("API key issued"))
