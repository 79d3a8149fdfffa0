"""The public page shell: GOV.UK Frontend's template, themed per council, and its 404 and 500."""

import pytest
from django.template.loader import render_to_string

from backoffice.branding.models import FooterLink, Phase, PortalBranding
from tests.branding.sites import logo_image

from .conftest import BARSETSHIRE_HOST
from .html import child, classes, element, elements, text

pytestmark = pytest.mark.urls("tests.branding.example")


def title(*parts):
    """A page title as base.html writes it: its parts between en dashes."""
    return " \N{EN DASH} ".join(parts)


def page(client, path="/example-form/", host=BARSETSHIRE_HOST, **kwargs):
    return client.get(path, HTTP_HOST=host, **kwargs)


@pytest.fixture
def themed(barsetshire_site):
    setting = PortalBranding.objects.create(
        site=barsetshire_site,
        service_name="Pay Barsetshire Council",
        council_name="Barsetshire Council",
        telephone="0300 123 4567",
        email="pay@barsetshire.example",
        postal_address="Council Offices\nBarchester BA1 1AA",
        opening_hours="Monday to Friday, 9am to 5pm",
        accessibility_statement_url="/accessibility/",
        privacy_notice_url="https://www.barsetshire.example/privacy",
        cookies_url="/cookies/",
        phase=Phase.BETA,
        phase_banner_text="This is a new service.",
    )
    FooterLink.objects.create(branding=setting, label="Contact us", url="/contact/")
    return setting


def test_the_page_is_gov_uk_frontends_template(client, themed):
    html = page(client).content.decode()

    root = element(html, "html")
    assert root["lang"] == "en-GB"
    assert classes(root) == "govuk-template"
    assert classes(element(html, "body")) == "govuk-template__body"
    skip = element(html, "a.govuk-skip-link")
    assert skip["href"] == "#main-content"
    assert text(skip) == "Skip to main content"
    # The skip link is the first thing a keyboard reaches.
    assert element(html, "body").find("a") == skip
    main = element(html, "main")
    assert main["id"] == "main-content"
    assert classes(main) == "govuk-main-wrapper"
    assert element(html, 'link[rel=stylesheet][href="/static/branding/portal.css"]')
    assert element(html, 'script[type=module][src="/static/branding/init.js"]')


def test_the_title_names_the_page_the_service_and_the_council(client, themed):
    html = page(client).content.decode()

    assert text(element(html, "title")) == title(
        "Pay your bill", "Pay Barsetshire Council", "Barsetshire Council"
    )


def test_the_title_starts_with_error_when_the_form_has_errors(client, themed):
    response = client.post("/example-form/", {}, HTTP_HOST=BARSETSHIRE_HOST)

    assert text(element(response.content.decode(), "title")) == title(
        "Error: Pay your bill", "Pay Barsetshire Council", "Barsetshire Council"
    )


def test_the_title_starts_with_error_when_the_view_says_so(rf, themed):
    request = rf.get("/", HTTP_HOST=BARSETSHIRE_HOST)
    html = render_to_string("404.html", {"has_errors": True}, request=request)

    assert text(element(html, "title")).startswith(title("Error: Page not found", ""))


def test_the_header_has_the_council_name_linking_to_the_payments_home(client, themed):
    html = page(client).content.decode()

    link = element(html, "header.ims-header a")
    assert link["href"] == "/"
    assert text(link) == "Barsetshire Council"
    service = element(html, ".govuk-service-navigation__service-name")
    assert text(service) == "Pay Barsetshire Council"


def test_the_header_shows_the_logo_with_its_alternative_text(client, themed):
    themed.logo = logo_image()
    themed.logo_alt_text = "Barsetshire Council home"
    themed.save()

    html = page(client).content.decode()

    logo = child(element(html, "header.ims-header a"), "img")
    assert logo["alt"] == "Barsetshire Council home"
    assert classes(logo) == "ims-header__logo"
    assert logo["height"] == "60"


def test_no_crown_and_no_gds_transport_font(client, themed):
    html = page(client).content.decode()

    assert "govuk-header__logotype" not in html
    assert "crown" not in html.lower()
    assert "GDS Transport" not in html


def test_the_phase_banner_shows_when_the_council_sets_a_phase(client, themed):
    banner = element(page(client).content.decode(), ".govuk-phase-banner")

    assert text(child(child(banner, "p"), "strong")) == "Beta"
    assert "This is a new service." in text(banner)

    themed.phase = Phase.NONE
    themed.save()
    assert not elements(page(client).content.decode(), ".govuk-phase-banner")


def test_the_footer_has_the_contact_details_and_links(client, themed):
    footer = element(page(client).content.decode(), "footer.govuk-footer")

    assert text(child(child(footer, "div"), "div")).startswith("Contact Barsetshire Council")
    assert footer.select_one('a[href="tel:03001234567"]').get_text() == "0300 123 4567"
    assert footer.select_one('a[href="mailto:pay@barsetshire.example"]')
    assert text(footer.select_one("address")) == "Council Offices Barchester BA1 1AA"
    assert "Monday to Friday, 9am to 5pm" in text(footer)
    links = {text(link): link["href"] for link in footer.select(".govuk-footer__inline-list a")}
    assert links == {
        "Accessibility statement": "/accessibility/",
        "Privacy notice": "https://www.barsetshire.example/privacy",
        "Cookies": "/cookies/",
        "Contact us": "/contact/",
    }


def test_what_a_council_types_is_escaped(client, themed):
    themed.council_name = '<script>alert("x")</script>'
    themed.opening_hours = "<b>9 to 5</b>"
    themed.save()

    html = page(client).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;9 to 5&lt;/b&gt;" in html


def test_the_public_404_is_branded(client, themed):
    response = page(client, "/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert text(element(html, "title")) == title(
        "Page not found", "Pay Barsetshire Council", "Barsetshire Council"
    )
    assert text(element(html, "h1")) == "Page not found"
    assert element(html, "main a.govuk-link")["href"] == "/"
    assert "call Barsetshire Council on 0300 123 4567" in text(element(html, "main"))


def test_the_admin_keeps_its_own_404(admin_client, themed):
    response = admin_client.get("/admin/no-such-screen/", HTTP_HOST=BARSETSHIRE_HOST)

    assert response.status_code == 404
    assert "wagtailadmin/404.html" in [template.name for template in response.templates]
    assert "govuk-template" not in response.content.decode()


def test_the_500_page_needs_no_request_or_database(db, django_assert_num_queries):
    # Django renders it with no context at all, perhaps because the database is down.
    with django_assert_num_queries(0):
        html = render_to_string("500.html")

    assert text(element(html, "h1")) == "Sorry, there is a problem with the service"
    assert text(element(html, "title")) == title(
        "Sorry, there is a problem with the service", "Pay online"
    )
    assert element(html, "header.ims-header a")["href"] == "/"
    assert element(html, "main#main-content")
