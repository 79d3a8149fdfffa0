"""The Suspense menu, its ageing report's place in it, and the rules' log entries."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem, SubmenuMenuItem

from .models import SuspenseItem
from .viewsets import SuspenseViewSetGroup


@hooks.register("register_admin_viewset")
def register_suspense_viewsets():
    return SuspenseViewSetGroup()


class AgeingMenuItem(MenuItem):
    def is_shown(self, request):
        """For those who may read suspense items."""
        return request.user.has_perm(f"suspense.view_{SuspenseItem._meta.model_name}")


@hooks.register("construct_main_menu")
def add_ageing_to_suspense_menu(request, menu_items):
    """Suspense > Ageing, after the items and rules the viewsets put there (added once: the
    submenu's items are built on the first request and kept)."""
    for item in menu_items:
        if isinstance(item, SubmenuMenuItem) and item.name == "suspense":
            items = item.menu.registered_menu_items
            if not any(isinstance(existing, AgeingMenuItem) for existing in items):
                items.append(
                    AgeingMenuItem(
                        _("Ageing"),
                        reverse("suspense_item:ageing"),
                        icon_name="time",
                        order=300,
                    )
                )
            return


@hooks.register("register_log_actions")
def register_suspense_log_actions(actions):
    """Switching a rule on or off, in the rule's history."""
    actions.register_action(
        "suspense.rule_switched_on", _("Switch on"), _("Rule switched on: it moves money")
    )
    actions.register_action(
        "suspense.rule_switched_off", _("Switch off"), _("Rule switched off: it moves nothing")
    )
