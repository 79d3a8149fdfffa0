"""The branding setting refuses what would make the public pages unreadable or unsafe."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.branding.models import FooterLink, PortalBranding
from tests.branding.sites import logo_image


def branding(site, **values):
    return PortalBranding(site=site, **values)


def errors_of(setting) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        setting.full_clean()
    return refused.value.message_dict


def test_the_defaults_are_accepted(barsetshire_site):
    branding(barsetshire_site).full_clean()


def test_colours_are_kept_in_lower_case(barsetshire_site):
    setting = branding(barsetshire_site, brand_colour=" #0B0C0C ", link_colour="#1D70B8")

    setting.full_clean()

    assert setting.brand_colour == "#0b0c0c"
    assert setting.link_colour == "#1d70b8"


@pytest.mark.parametrize("colour", ["blue", "#12345", "1d70b8", "#1d70b8;}", "#zzzzzz"])
def test_a_colour_not_written_as_hash_and_six_hex_digits_is_refused(barsetshire_site, colour):
    errors = errors_of(branding(barsetshire_site, brand_colour=colour))

    assert errors["brand_colour"][0].startswith("Give a colour as # followed by six")


def test_header_text_the_brand_colour_makes_unreadable_is_refused_naming_the_ratio(
    barsetshire_site,
):
    errors = errors_of(
        branding(barsetshire_site, brand_colour="#5694ca", header_text_colour="#ffffff")
    )

    (message,) = errors["header_text_colour"]
    assert message.startswith(
        "The header text colour on the brand colour (#ffffff on #5694ca) has a contrast "
        "ratio of 3.23:1"
    )
    assert "at least 4.5:1" in message


def test_a_link_colour_unreadable_on_the_pages_is_refused_naming_the_ratio(barsetshire_site):
    errors = errors_of(branding(barsetshire_site, link_colour="#2b8cc4"))

    (message,) = errors["link_colour"]
    assert message.startswith(
        "The link colour on the light grey of the service bar (#2b8cc4 on #f3f2f1) has a "
        "contrast ratio of 3.32:1"
    )


def test_a_dark_brand_colour_with_white_text_and_a_dark_link_colour_are_accepted(
    barsetshire_site,
):
    branding(
        barsetshire_site,
        brand_colour="#4c2c92",
        header_text_colour="#ffffff",
        link_colour="#4c2c92",
    ).full_clean()


def test_a_light_brand_colour_with_dark_text_is_accepted(barsetshire_site):
    branding(barsetshire_site, brand_colour="#ffdd00", header_text_colour="#0b0c0c").full_clean()


def test_a_logo_needs_its_alternative_text(barsetshire_site, db):
    logo = logo_image()

    errors = errors_of(branding(barsetshire_site, logo=logo))

    assert errors["logo_alt_text"] == [
        "Say what the logo shows for people who cannot see it, e.g. the council's name."
    ]
    branding(barsetshire_site, logo=logo, logo_alt_text="Barsetshire Council").full_clean()


@pytest.mark.parametrize(
    "address",
    ["https://www.barsetshire.gov.uk/accessibility", "http://example.org/", "/cookies/"],
)
def test_a_link_is_a_web_address_or_a_path_on_the_site(barsetshire_site, address):
    branding(barsetshire_site, cookies_url=address).full_clean()


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "data:text/html,hi", "//elsewhere.example/", "www.example.org", "/a b"],
)
def test_any_other_link_is_refused(barsetshire_site, address):
    errors = errors_of(branding(barsetshire_site, privacy_notice_url=address))

    assert "privacy_notice_url" in errors


def test_a_footer_link_is_checked_the_same_way(barsetshire_site):
    setting = branding(barsetshire_site)
    setting.save()

    with pytest.raises(ValidationError) as refused:
        FooterLink(branding=setting, label="Help", url="javascript:alert(1)").full_clean()

    assert "url" in refused.value.message_dict
