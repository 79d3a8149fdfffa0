"""The demo council's payment site, as `make run` serves it at http://127.0.0.1:8000/."""

from wagtail.models import Site

from backoffice.portal.models import PaymentsHomePage, ServicePage
from fixtures.demo import load_demo_council

from .site import text


def test_the_demo_councils_payments_home_is_the_default_sites_root(db):
    council = load_demo_council(password="demo")["organisation"]

    home = PaymentsHomePage.objects.get(organisation=council)
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert home.payment_provider == "sandbox"
    pages = {page.slug: page for page in ServicePage.objects.child_of(home).live()}
    assert {"replacement-bin", "council-tax", "parking-fine"} <= set(pages)
    assert pages["replacement-bin"].is_fixed_price
    for page in pages.values():
        assert page.setup_problems(council) == [], page.slug


def test_loading_the_demo_again_adds_no_pages(db):
    load_demo_council(password="demo")
    count = ServicePage.objects.count()

    load_demo_council(password="demo")

    assert ServicePage.objects.count() == count
    assert PaymentsHomePage.objects.count() == 1


def test_the_demo_site_lists_what_can_be_paid(client, settings, db):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    load_demo_council(password="demo")

    page = text(client.get("/", HTTP_HOST="localhost"))

    assert "Order a replacement wheelie bin" in page and "Pay your council tax" in page
