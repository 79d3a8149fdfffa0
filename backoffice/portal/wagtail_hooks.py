"""The page explorer keeps each council to its own payments site.

The finance administrators' page permissions are granted on every council's
payments home to the one role group (``services.payments_home_grant_editors``);
``permissions.CouncilPagePermissionPolicy`` leaves out a member of staff's grants
on the sites of councils they are not staff of, and these hooks make sure they
see and change only the site of the council they act for. Superusers (the
deployment's operators) see every site.
"""

from django.contrib import messages
from django.shortcuts import redirect
from wagtail import hooks
from wagtail.models import AbstractPage
from wagtail.permissions import register_permission_policy

from . import services
from .models import PaymentsHomePage
from .permissions import CouncilPagePermissionPolicy
from .selectors import home_for_page

# Every page check of Wagtail's goes through it: another council's site is one without rights.
register_permission_policy(AbstractPage, CouncilPagePermissionPolicy())


def _closed(request, page) -> bool:
    """Whether ``page`` belongs to a council other than the one ``request`` acts for."""
    if request.user.is_superuser or page is None:
        return False
    home = home_for_page(page)
    if home is None:
        return False
    organisation = getattr(request, "organisation", None)
    return organisation is None or home.organisation_id != organisation.pk


def _refuse(request):
    messages.error(request, "That page belongs to another council's payments site.")
    return redirect("wagtailadmin_home")


@hooks.register("construct_explorer_page_queryset")
def only_own_council_in_explorer(parent_page, pages, request):
    if request.user.is_superuser:
        return pages
    if _closed(request, parent_page):
        return pages.none()
    organisation = getattr(request, "organisation", None)
    others = PaymentsHomePage.objects.exclude(organisation=organisation).values("pk")
    return pages.exclude(pk__in=others)


@hooks.register("construct_page_chooser_queryset")
def only_own_council_in_chooser(pages, request):
    if request.user.is_superuser:
        return pages
    organisation = getattr(request, "organisation", None)
    for home in PaymentsHomePage.objects.exclude(organisation=organisation):
        pages = pages.exclude(path__startswith=home.path)
    return pages


@hooks.register("before_edit_page")
def before_edit(request, page):
    if _closed(request, page):
        return _refuse(request)
    return None


@hooks.register("before_create_page")
def before_create(request, parent_page, page_class):
    if _closed(request, parent_page):
        return _refuse(request)
    return None


@hooks.register("before_delete_page")
def before_delete(request, page):
    if _closed(request, page):
        return _refuse(request)
    if isinstance(page.specific, PaymentsHomePage) and not request.user.is_superuser:
        messages.error(
            request, "A council's payments home is its whole site: only an operator can delete it."
        )
        return redirect("wagtailadmin_explore", page.get_parent().pk)
    return None


@hooks.register("before_copy_page")
def before_copy(request, page):
    if _closed(request, page):
        return _refuse(request)
    return None


@hooks.register("before_move_page")
def before_move(request, page, destination):
    if _closed(request, page) or _closed(request, destination):
        return _refuse(request)
    home = home_for_page(page)
    target = home_for_page(destination)
    if home is not None and (target is None or target.organisation_id != home.organisation_id):
        # A page pays its own council's funds: it cannot be moved to another council's site.
        messages.error(request, "A payment page can only move within its own council's site.")
        return redirect("wagtailadmin_explore", page.get_parent().pk)
    return None


@hooks.register("after_create_page")
def after_create(request, page):
    if isinstance(page.specific, PaymentsHomePage):
        services.payments_home_grant_editors(home=page.specific)
