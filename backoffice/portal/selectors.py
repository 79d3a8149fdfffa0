"""Reads for the public payment pages."""

from wagtail.models import Page, Site

from plugins import manager
from plugins.models import Integration
from plugins.types import PluginKind

from .models import Checkout, PaymentsHomePage


def payment_providers(organisation) -> list[Integration]:
    """The council's enabled integrations that take card payments, by key."""
    found = []
    for integration in Integration.objects.for_organisation(organisation).enabled().order_by("key"):
        try:
            kinds = manager.plugin_info(integration.plugin).kinds
        except manager.PluginNotInstalled:
            continue
        if PluginKind.PAYMENT_PROVIDER in kinds:
            found.append(integration)
    return found


def home_for_page(page: Page) -> PaymentsHomePage | None:
    """The payments home a page is under (or is), if any."""
    specific = page.specific
    if isinstance(specific, PaymentsHomePage):
        return specific
    return PaymentsHomePage.objects.ancestor_of(page).first()


def home_for_request(request) -> PaymentsHomePage | None:
    """The payments home of the site the request came to (by host name), if it has one."""
    site = Site.find_for_request(request)
    if site is None:
        return None
    root = site.root_page.specific
    return root if isinstance(root, PaymentsHomePage) else None


def checkout_of(payment) -> Checkout | None:
    return (
        Checkout.objects.filter(organisation_id=payment.organisation_id, payment=payment)
        .select_related("home")
        .first()
    )


def checkout_in_session(basket, pk: int | None) -> Checkout | None:
    """One of the checkouts this session made from ``basket``'s home; never anyone else's."""
    if pk is None or pk not in basket.checkout_ids:
        return None
    return (
        Checkout.objects.filter(pk=pk, home_id=basket.home_id)
        .select_related("payment__organisation")
        .first()
    )


def checkout_for_token(basket, token: str) -> Checkout | None:
    """The checkout a basket token was paid with, if this session made it."""
    checkout = (
        Checkout.objects.filter(basket_token=token, home_id=basket.home_id)
        .select_related("payment__organisation")
        .first()
    )
    if checkout is None or checkout.pk not in basket.checkout_ids:
        return None
    return checkout
