"""The public page shell in a real browser: a council's themed page with a GOV.UK form.

The page is the test-only form page of ``tests.branding.example`` (the page shell,
an error summary and every kind of field), served with everything the project serves.
"""

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.branding.models import FooterLink, Phase, PortalBranding
from tests.branding.sites import default_site

pytestmark = [pytest.mark.slow, pytest.mark.urls("tests.branding.example")]


@pytest.fixture
def themed(transactional_db, frontend_built):
    # The live server's host (localhost on a random port) is no site's: the default site.
    setting = PortalBranding.objects.create(
        site=default_site(),
        service_name="Pay Barsetshire Council",
        council_name="Barsetshire Council",
        brand_colour="#00703c",
        header_text_colour="#ffffff",
        link_colour="#4c2c92",
        telephone="0300 123 4567",
        email="payments-and-income-team@barsetshire-borough-council.example",
        postal_address="Council Offices\nHigh Street\nBarchester BA1 1AA",
        opening_hours="Monday to Friday, 9am to 5pm",
        accessibility_statement_url="/accessibility/",
        privacy_notice_url="/privacy/",
        cookies_url="/cookies/",
        phase=Phase.BETA,
        phase_banner_text="This is a new service.",
    )
    FooterLink.objects.create(branding=setting, label="Contact us", url="/contact/")
    return setting


def submit_empty(page):
    page.goto("/example-form/")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def test_the_themed_page_with_errors_passes_axe(page, axe, themed, screenshot):
    page.goto("/example-form/")
    assert axe(page, "html") == []
    screenshot(page, "form")

    submit_empty(page)

    assert page.title().startswith("Error: Pay your bill \N{EN DASH} Pay Barsetshire Council")
    assert axe(page, "html") == []
    screenshot(page, "form-with-errors")


def test_the_council_colours_reach_the_page(page, themed):
    page.goto("/example-form/")

    header = page.locator("header.ims-header")
    expect(header).to_have_css("background-color", "rgb(0, 112, 60)")
    expect(header.get_by_role("link", name="Barsetshire Council")).to_have_css(
        "color", "rgb(255, 255, 255)"
    )
    # The service name is a link in the council's link colour.
    expect(page.get_by_role("link", name="Pay Barsetshire Council")).to_have_css(
        "color", "rgb(76, 44, 146)"
    )
    # No GDS Transport: the device's own font.
    font = page.get_by_text("What is your account number?").evaluate(
        "label => getComputedStyle(label).fontFamily"
    )
    assert "GDS Transport" not in font
    assert font.startswith("system-ui")


def test_the_error_summary_takes_focus_and_its_links_reach_the_fields(page, themed):
    submit_empty(page)

    # GOV.UK Frontend's script moves focus to the summary, so it is read out first.
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.get_by_role("link", name="Select how we should contact you").click()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.get_by_role("link", name="Enter your account number").click()
    expect(page.get_by_label("What is your account number?")).to_be_focused()


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, themed):
    page.goto("/example-form/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")

    expect(page.locator("main#main-content")).to_be_focused()
    # The next Tab goes on from the content: the back link is before main, so the form's
    # first field follows.
    page.keyboard.press("Tab")
    expect(page.get_by_label("What is your account number?")).to_be_focused()


def test_the_form_can_be_filled_in_and_sent_with_the_keyboard_alone(page, themed):
    page.goto("/example-form/")
    page.get_by_label("What is your account number?").focus()

    page.keyboard.type("12345678")
    page.keyboard.press("Tab")
    page.keyboard.type("25.00")
    page.keyboard.press("Tab")  # email, optional
    page.keyboard.press("Tab")  # the first radio
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the first checkbox
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the ward
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # notes
    page.keyboard.press("Tab")  # I understand
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("body")).to_have_text("Thank you")


def test_nothing_scrolls_sideways_at_320_pixels(page, themed):
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/example-form/", "/no-such-page/"):
        page.goto(path)
        if path == "/example-form/":
            page.get_by_role("button", name="Continue").click()
            expect(page.locator(".govuk-error-summary")).to_be_visible()

        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)


def test_the_branded_404_passes_axe(page, axe, themed, screenshot):
    response = page.goto("/no-such-page/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert axe(page, "html") == []
    screenshot(page)


def test_screenshots_are_saved_at_both_widths(page, themed, screenshot):
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto("/example-form/")

    paths = screenshot(page, "a label")

    assert [path.name for path in paths] == [
        "test_screenshots_are_saved_at_both_widths-a-label-desktop.png",
        "test_screenshots_are_saved_at_both_widths-a-label-mobile.png",
    ]
    for path in paths:
        assert path.read_bytes().startswith(b"\x89PNG")
    assert page.viewport_size == {"width": 800, "height": 600}
