"""`branding` in every template: found from the request's site, with defaults for what is unset."""

import pytest
from django.test import RequestFactory
from wagtail.models import Site

from backoffice.branding.context_processors import branding as branding_context
from backoffice.branding.models import FooterLink, Phase, PortalBranding
from backoffice.branding.selectors import branding_for_request, organisation_for_site
from tests.branding.sites import logo_image

from .conftest import BARSETSHIRE_HOST, WESSEX_HOST


def branding_at(host):
    request = RequestFactory().get("/", HTTP_HOST=host)
    return branding_context(request)["branding"]


def test_a_site_without_branding_shows_its_councils_name_and_contact_details(
    barsetshire_site, council
):
    council.telephone = "01234 567890"
    council.email = "payments@barsetshire.example"
    council.save()

    branding = branding_at(BARSETSHIRE_HOST)

    assert branding.council_name == "Barsetshire Borough Council"
    assert branding.service_name == "Pay Barsetshire Borough Council"
    assert branding.home_url == "/"
    assert branding.telephone == "01234 567890"
    assert branding.email == "payments@barsetshire.example"
    assert branding.postal_address == ("Town Hall", "Anytown", "AN1 1AA")
    assert branding.brand_colour == "#1d70b8"
    assert branding.header_text_colour == "#ffffff"
    assert branding.link_colour == "#1d70b8"
    assert branding.logo is None
    assert branding.phase == ""
    assert branding.footer_links == ()
    # Looking is not writing: no branding row is made for the site.
    assert not PortalBranding.objects.exists()


def test_with_no_site_at_all_the_pages_still_have_a_name(db, settings):
    Site.objects.all().delete()
    settings.ALLOWED_HOSTS = ["nowhere.test"]

    branding = branding_at("nowhere.test")

    assert branding.service_name == "Pay online"
    assert branding.council_name == settings.WAGTAIL_SITE_NAME
    assert branding.home_url == "/"
    assert not branding.has_contact_details


def test_the_sites_branding_overrides_the_councils_details(barsetshire_site, wessex_site):
    logo = logo_image()
    setting = PortalBranding.objects.create(
        site=barsetshire_site,
        service_name="Pay Barsetshire Council",
        council_name="Barsetshire Council",
        logo=logo,
        logo_alt_text="Barsetshire Council",
        brand_colour="#00703c",
        link_colour="#4c2c92",
        telephone="0300 123 4567",
        email="pay@barsetshire.example",
        postal_address="Council Offices\n\nHigh Street\nBarchester BA1 1AA\n",
        opening_hours="Monday to Friday, 9am to 5pm",
        accessibility_statement_url="/accessibility/",
        privacy_notice_url="https://www.barsetshire.example/privacy",
        cookies_url="/cookies/",
        phase=Phase.BETA,
        phase_banner_text="This is a new service.",
    )
    FooterLink.objects.create(branding=setting, label="Contact us", url="/contact/", sort_order=1)
    FooterLink.objects.create(branding=setting, label="Council tax", url="/ctax/", sort_order=0)

    branding = branding_at(BARSETSHIRE_HOST)

    assert branding.service_name == "Pay Barsetshire Council"
    assert branding.council_name == "Barsetshire Council"
    assert branding.logo == logo
    assert branding.logo_alt_text == "Barsetshire Council"
    assert branding.brand_colour == "#00703c"
    assert branding.link_colour == "#4c2c92"
    assert branding.telephone == "0300 123 4567"
    assert branding.postal_address == ("Council Offices", "High Street", "Barchester BA1 1AA")
    assert branding.opening_hours == "Monday to Friday, 9am to 5pm"
    assert branding.phase_label == "Beta"
    assert [(link.label, link.url) for link in branding.footer_links] == [
        ("Council tax", "/ctax/"),
        ("Contact us", "/contact/"),
    ]
    # Another council's site is untouched by it.
    other = branding_at(WESSEX_HOST)
    assert other.council_name == "Wessex District Council"
    assert other.brand_colour == "#1d70b8"


def test_a_blank_service_name_is_pay_and_the_council_name(barsetshire_site):
    PortalBranding.objects.create(site=barsetshire_site, council_name="Barsetshire Council")

    assert branding_at(BARSETSHIRE_HOST).service_name == "Pay Barsetshire Council"


def test_values_that_got_round_the_model_never_reach_the_page(barsetshire_site):
    setting = PortalBranding.objects.create(site=barsetshire_site)
    # As a bad import or a hand edit of the table might leave them.
    PortalBranding.objects.filter(pk=setting.pk).update(
        brand_colour="red;}*{",
        cookies_url="javascript:alert(1)",
    )
    FooterLink.objects.create(branding=setting, label="Evil", url="javascript:alert(2)")

    branding = branding_at(BARSETSHIRE_HOST)

    assert branding.brand_colour == "#1d70b8"
    assert branding.cookies_url == ""
    assert branding.footer_links == ()


def test_the_site_is_found_from_the_host_name(barsetshire_site, wessex_site, other_council):
    assert organisation_for_site(wessex_site) == other_council
    assert branding_at(WESSEX_HOST).organisation == other_council


def test_it_is_looked_up_once_a_request_and_only_when_used(
    barsetshire_site, django_assert_num_queries
):
    request = RequestFactory().get("/", HTTP_HOST=BARSETSHIRE_HOST)

    with django_assert_num_queries(0):
        lazy = branding_context(request)["branding"]
    assert lazy.council_name == "Barsetshire Borough Council"
    with django_assert_num_queries(0):
        assert branding_for_request(request).service_name == lazy.service_name


@pytest.mark.urls("tests.branding.example")
def test_every_template_has_it(client, barsetshire_site):
    response = client.get("/example-form/", HTTP_HOST=BARSETSHIRE_HOST)

    assert response.context["branding"].council_name == "Barsetshire Borough Council"
