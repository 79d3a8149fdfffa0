"""A council's public payments site, built for tests: a payments home as a Site's root, and
its service pages. Used by tests/portal and by the browser tests of the payment pages.

Builds what Wagtail's migrations would have made (the tree's root, the default locale)
when a browser test's flush of the database has removed them.
"""

import re

from django.conf import settings
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from backoffice.funds.models import Pricing
from backoffice.portal.models import PaymentsHomePage, ServicePage
from tests.factories import FundCodeFactory, ServiceFactory, integration


def tree_root() -> Page:
    if not Locale.objects.exists():
        Locale.objects.create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    return root


def payments_home(council, *, slug="pay", title="Pay Barsetshire", hostname=None, **fields):
    """``council``'s payments home under the tree's root; the default site's root unless a
    ``hostname`` is given, when it gets a site of its own on that host."""
    home = tree_root().add_child(
        instance=PaymentsHomePage(title=title, slug=slug, organisation=council, **fields)
    )
    if hostname is not None:
        Site.objects.create(hostname=hostname, port=80, root_page=home, site_name=council.name)
        return home
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
    else:
        site.root_page = home
        site.save()
    return home


def service_page(home, *, title, slug, **fields) -> ServicePage:
    page = ServicePage(title=title, slug=slug, **fields)
    page.checked_for_organisation = home.organisation
    page.full_clean(exclude=["path", "depth"])
    return home.add_child(instance=page)


def sandbox_provider(council):
    return integration(council, plugin="sandbox", key="sandbox", title="Sandbox")


def bins_fund(council, outside_scope):
    """Wheelie bins: fixed-price services, any reference, the payer's address collected."""
    return FundCodeFactory(
        organisation=council,
        code="BINS",
        name="Wheelie bins",
        public_name="Order a bin",
        default_vat_rate=outside_scope,
        allowed_channels=["online", "telephone"],
        collect_address=True,
    )


def replacement_bin(council, fund, *, price_pence=3_000):
    return ServiceFactory(
        organisation=council,
        fund_code=fund,
        name="Replacement wheelie bin",
        slug="replacement-wheelie-bin",
        pricing=Pricing.FIXED,
        price_pence=price_pence,
    )


def text(response) -> str:
    """A page's words, without its markup, on one line."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def public_site(council, *, ctax, parking, outside_scope):
    """A council's whole payments site for the browser tests: the sandbox as its provider,
    a £30 replacement bin (address collected), council tax and parking fines."""
    sandbox_provider(council)
    home = payments_home(council, title="Pay Barsetshire", payment_provider="sandbox")
    bins = bins_fund(council, outside_scope)
    bin_page = service_page(
        home,
        title="Order a replacement wheelie bin",
        slug="replacement-bin",
        service=replacement_bin(council, bins),
        summary="A new 240-litre wheelie bin if yours is lost or broken: £30.",
        intro="<p>We deliver it within 10 working days.</p>",
        reference_question="none",
    )
    ctax.payer_message = "Your account number is the 8-digit number at the top of your bill."
    ctax.save()
    ctax_page = service_page(
        home,
        title="Pay your council tax",
        slug="council-tax",
        fund_code=ctax,
        summary="Pay all or part of your council tax bill.",
        reference_label="Council tax account number",
        reference_hint="The 8-digit number at the top of your bill",
        minimum_amount_pence=100,
        maximum_amount_pence=500_000,
    )
    parking_page = service_page(
        home,
        title="Pay a parking fine",
        slug="parking-fine",
        fund_code=parking,
        summary="Pay a penalty charge notice.",
        reference_label="Penalty charge notice number",
        reference_question="required",
        maximum_amount_pence=19_500,
    )
    return {"home": home, "bin": bin_page, "ctax": ctax_page, "parking": parking_page}
