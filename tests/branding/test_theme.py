"""The per-site theme: each council's colours as a small style sheet, cached by its content."""

import re

import pytest

from backoffice.branding.models import PortalBranding
from backoffice.branding.selectors import shade

from .conftest import BARSETSHIRE_HOST, WESSEX_HOST

pytestmark = pytest.mark.urls("tests.branding.example")

CUSTOM_PROPERTY = re.compile(r"^  --ims-[a-z-]+: #[0-9a-f]{6};$")


def theme(client, host, **query):
    return client.get("/branding/theme.css", query, HTTP_HOST=host)


def properties(response) -> dict[str, str]:
    css = response.content.decode()
    return dict(re.findall(r"(--ims-[a-z-]+): ([^;]+);", css))


def test_each_site_gets_its_own_colours(client, barsetshire_site, wessex_site):
    PortalBranding.objects.create(
        site=barsetshire_site,
        brand_colour="#00703c",
        header_text_colour="#ffffff",
        link_colour="#4c2c92",
    )

    barsetshire = theme(client, BARSETSHIRE_HOST)
    wessex = theme(client, WESSEX_HOST)

    assert barsetshire.status_code == 200
    assert barsetshire["Content-Type"] == "text/css; charset=utf-8"
    assert properties(barsetshire) == {
        "--ims-brand-colour": "#00703c",
        "--ims-header-text-colour": "#ffffff",
        "--ims-link-colour": "#4c2c92",
        "--ims-link-hover-colour": shade("#4c2c92", 0.4),
    }
    assert properties(wessex)["--ims-brand-colour"] == "#1d70b8"


def test_the_sheet_is_nothing_but_custom_properties_of_colours(client, barsetshire_site):
    PortalBranding.objects.create(site=barsetshire_site, brand_colour="#0b0c0c")

    lines = theme(client, BARSETSHIRE_HOST).content.decode().splitlines()

    assert lines[0] == ":root {"
    assert lines[-1] == "}"
    assert all(CUSTOM_PROPERTY.match(line) for line in lines[1:-1]), lines


def test_a_value_written_around_the_model_cannot_inject_css(client, barsetshire_site):
    setting = PortalBranding.objects.create(site=barsetshire_site)
    PortalBranding.objects.filter(pk=setting.pk).update(
        brand_colour="#000;}*", header_text_colour="</style", link_colour="\\22 ;}"
    )

    css = theme(client, BARSETSHIRE_HOST).content.decode()

    assert properties(theme(client, BARSETSHIRE_HOST)) == {
        "--ims-brand-colour": "#1d70b8",
        "--ims-header-text-colour": "#ffffff",
        "--ims-link-colour": "#1d70b8",
        "--ims-link-hover-colour": shade("#1d70b8", 0.4),
    }
    assert css.count("{") == css.count("}") == 1
    assert "<" not in css
    assert "\\" not in css


def test_the_hover_colour_is_darker_so_it_reads_at_least_as_well():
    from backoffice.branding.colours import contrast_ratio

    for colour in ("#1d70b8", "#4c2c92", "#00703c", "#0b0c0c"):
        darker = shade(colour, 0.4)
        assert contrast_ratio(darker, "#f3f2f1") >= contrast_ratio(colour, "#f3f2f1")


def test_pages_link_the_current_version_which_may_be_cached_for_a_year(client, barsetshire_site):
    page = client.get("/example-form/", HTTP_HOST=BARSETSHIRE_HOST)
    url = page.context["branding"].theme_css_url
    assert re.fullmatch(r"/branding/theme\.css\?v=[0-9a-f]{16}", url)
    assert f'<link rel="stylesheet" href="{url}">' in page.content.decode()

    response = client.get(url, HTTP_HOST=BARSETSHIRE_HOST)

    assert "max-age=31536000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]


def test_a_change_of_colour_is_a_new_address(client, barsetshire_site):
    before = client.get("/example-form/", HTTP_HOST=BARSETSHIRE_HOST).context["branding"]
    PortalBranding.objects.create(site=barsetshire_site, brand_colour="#0b0c0c")

    after = client.get("/example-form/", HTTP_HOST=BARSETSHIRE_HOST).context["branding"]

    assert after.theme_css_url != before.theme_css_url
    # The old address now answers with the new colours, and only for a short while.
    stale = client.get(before.theme_css_url, HTTP_HOST=BARSETSHIRE_HOST)
    assert properties(stale)["--ims-brand-colour"] == "#0b0c0c"
    assert "max-age=300" in stale["Cache-Control"]
    assert "immutable" not in stale["Cache-Control"]


def test_an_unchanged_sheet_is_not_sent_again(client, barsetshire_site):
    first = theme(client, BARSETSHIRE_HOST)

    again = client.get(
        "/branding/theme.css", HTTP_HOST=BARSETSHIRE_HOST, HTTP_IF_NONE_MATCH=first["ETag"]
    )

    assert again.status_code == 304
    assert again.content == b""


def test_it_only_answers_reads(client, barsetshire_site):
    assert client.post("/branding/theme.css", HTTP_HOST=BARSETSHIRE_HOST).status_code == 405
