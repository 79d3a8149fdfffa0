"""Wagtail's content for the tests: a council's public site, the site of any other host, a logo.

Each makes what it needs of Wagtail's own rows (root page, locale, root collection)
when an earlier test's flush took the ones the migrations made.
"""

from django.conf import settings
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, Locale, Page, Site

from backoffice.portal.models import PaymentsHomePage


def root_page():
    """Wagtail's root page, made afresh (with its locale) when a flush took the migrations'."""
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    return Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))


def council_site(organisation, hostname):
    """A council's public site: its payments home at the root of a Wagtail Site."""
    home = root_page().add_child(
        instance=PaymentsHomePage(
            title=f"Pay {organisation.name}", slug=organisation.code, organisation=organisation
        )
    )
    return Site.objects.create(hostname=hostname, port=80, root_page=home, site_name="")


def default_site():
    """The site of a host that is no site's own, such as the live server's random port."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        home = root_page().add_child(instance=Page(title="Home", slug="home"))
        site = Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return site


def logo_image():
    """A small PNG in Wagtail's image library."""
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return Image.objects.create(title="Crest", file=get_test_image_file())
