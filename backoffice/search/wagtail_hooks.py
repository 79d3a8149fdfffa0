"""Transactions > Search in the Wagtail admin: its pages, and its place in the menu."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem, SubmenuMenuItem

from . import views


class SearchMenuItem(MenuItem):
    def is_shown(self, request):
        """For staff of a council who may read payments."""
        return getattr(request, "organisation", None) is not None and request.user.has_perm(
            views.PERMISSION
        )


@hooks.register("register_admin_urls")
def register_transaction_search_urls():
    """The search page and its CSV export."""
    return [
        path("transactions/search/", views.transaction_search, name="transaction_search"),
        path(
            "transactions/search/export/",
            views.transaction_search_export,
            name="transaction_search_export",
        ),
    ]


@hooks.register("construct_main_menu")
def add_search_to_transactions_menu(request, menu_items):
    """Put "Search" first in the Transactions menu that backoffice/payments registers.

    That menu is built from the payments' viewsets; adding the item here keeps
    the search's wiring in this app. It is added once: the submenu's items are
    built on the first request and kept.
    """
    for item in menu_items:
        if isinstance(item, SubmenuMenuItem) and item.name == "transactions":
            items = item.menu.registered_menu_items
            if not any(isinstance(existing, SearchMenuItem) for existing in items):
                items.append(
                    SearchMenuItem(
                        "Search", reverse("transaction_search"), icon_name="search", order=0
                    )
                )
            return
