"""Who may change which site's branding: a council's own staff theirs, and no other's."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from backoffice.accounts.roles import INCOME_OFFICER
from backoffice.branding.models import PortalBranding
from tests.conftest import assert_permission_denied
from tests.factories import UserFactory, staff


def edit_url(site=None):
    args = ["branding", "portalbranding"] + ([site.pk] if site else [])
    return reverse("wagtailsettings:edit", args=args)


def grant(user, codename):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="branding", codename=codename)
    )
    return user


@pytest.fixture
def branding_editor(council):
    """A finance administrator of Barsetshire allowed to theme their council's sites."""
    return grant(staff(council, username="theme.editor"), "change_own_council_branding")


def form_data(**values):
    data = {
        "service_name": "Pay Barsetshire Council",
        "council_name": "",
        "logo": "",
        "logo_alt_text": "",
        "brand_colour": "#00703c",
        "header_text_colour": "#ffffff",
        "link_colour": "#1d70b8",
        "telephone": "",
        "email": "",
        "postal_address": "",
        "opening_hours": "",
        "accessibility_statement_url": "",
        "privacy_notice_url": "",
        "cookies_url": "",
        "phase": "",
        "phase_banner_text": "",
        "footer_links-TOTAL_FORMS": "1",
        "footer_links-INITIAL_FORMS": "0",
        "footer_links-MIN_NUM_FORMS": "0",
        "footer_links-MAX_NUM_FORMS": "1000",
        "footer_links-0-label": "Contact us",
        "footer_links-0-url": "/contact/",
        "footer_links-0-ORDER": "1",
        "footer_links-0-DELETE": "",
        "footer_links-0-id": "",
    }
    data.update(values)
    return data


def test_a_council_editor_changes_their_own_sites_branding(
    client, branding_editor, barsetshire_site, wessex_site
):
    client.force_login(branding_editor)

    response = client.post(edit_url(barsetshire_site), form_data())

    assert response.status_code == 302, response.content.decode()[:2000]
    setting = PortalBranding.objects.get(site=barsetshire_site)
    assert setting.service_name == "Pay Barsetshire Council"
    assert setting.brand_colour == "#00703c"
    assert [(link.label, link.url) for link in setting.footer_links.all()] == [
        ("Contact us", "/contact/")
    ]


def test_the_edit_form_refuses_an_unreadable_pair_naming_its_ratio(
    client, branding_editor, barsetshire_site
):
    client.force_login(branding_editor)

    response = client.post(
        edit_url(barsetshire_site), form_data(brand_colour="#ffdd00", header_text_colour="#ffffff")
    )

    assert response.status_code == 200
    assert "has a contrast ratio of 1.34:1" in response.content.decode()
    # Wagtail makes the site's row with its defaults on opening the form; nothing is saved.
    assert PortalBranding.objects.get(site=barsetshire_site).brand_colour == "#1d70b8"


def test_another_councils_site_is_closed_to_them(
    client, branding_editor, barsetshire_site, wessex_site
):
    client.force_login(branding_editor)

    assert_permission_denied(client.get(edit_url(wessex_site)))
    assert_permission_denied(client.post(edit_url(wessex_site), form_data()))
    assert not PortalBranding.objects.filter(site=wessex_site).exists()


def test_the_settings_menu_opens_their_councils_site(
    client, branding_editor, barsetshire_site, wessex_site
):
    client.force_login(branding_editor)

    response = client.get(edit_url())

    assert response.status_code == 302
    assert response.url == edit_url(barsetshire_site)


def test_the_site_switcher_offers_only_their_councils_sites(
    client, branding_editor, barsetshire_site, wessex_site
):
    client.force_login(branding_editor)

    html = client.get(edit_url(barsetshire_site)).content.decode()

    assert "pay.wessex.test" not in html


def test_staff_without_the_permission_cannot_change_any_branding(client, council, barsetshire_site):
    client.force_login(staff(council, roles=(INCOME_OFFICER,), username="plain.officer"))

    assert_permission_denied(client.get(edit_url(barsetshire_site)))


def test_a_council_editor_of_a_council_with_no_site_changes_nothing(
    client, other_council, barsetshire_site
):
    editor = grant(staff(other_council, username="wessex.editor"), "change_own_council_branding")
    client.force_login(editor)

    assert_permission_denied(client.get(edit_url(barsetshire_site)))


def test_a_system_administrator_with_the_global_permission_changes_any_site(
    client, council, barsetshire_site, wessex_site
):
    operator = grant(UserFactory(username="operator", roles=[]), "change_portalbranding")
    operator.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(operator)

    assert client.get(edit_url(wessex_site)).status_code == 200
    assert client.get(edit_url(barsetshire_site)).status_code == 200
