"""A finance administrator sets up the council's integrations in a real browser.

They add a sandbox card provider with a secret and see that it is stored but
never shown, then set up the telephone line and issue its API key, which is
shown once. Both are built-in plugins; the settings form each one has is
whatever it has today, so the test fills only what every integration has and
the plugin's secret (found as a password field). axe-core checks each screen.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from plugins.models import Integration
from plugins.services import integration_for_api_key
from tests.factories import staff

pytestmark = pytest.mark.slow

USERNAME = "finance.admin"
PASSWORD = "correct-horse-battery-staple"
SECRET = "sandbox-signing-secret-4b7d91e2"


@pytest.fixture
def administrator(council):
    user = staff(council, username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    return user


def field(page, label):
    """The form control labelled ``label``, whether or not it carries the required mark."""
    controls = page.locator("input, select, textarea")
    return controls.and_(page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")))


def violations_in(page, axe):
    """axe's violations in the page's own content, once it has loaded and settled."""
    page.wait_for_load_state()
    messages = page.get_by_role("status").locator("ul")
    if messages.locator("li").count():
        # Wagtail fades its messages in; axe measuring contrast mid-fade reports colours
        # that are gone half a second later.
        expect(messages).to_have_css("opacity", "1")
    return axe(page, "main")


def open_integrations(page):
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/integrations/$"))


def set_up(page, plugin_title, *, key, title):
    page.get_by_role("link", name=f"Set up {plugin_title}").click()
    field(page, "Key").fill(key)
    field(page, "Title").fill(title)
    field(page, "Enabled").check()


def save(page, title):
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Integration '{title}' saved.")


def test_finance_administrator_stores_a_secret_and_issues_an_api_key(
    page, sign_in, axe, council, administrator
):
    violations = {}
    sign_in(page, USERNAME, PASSWORD)

    open_integrations(page)
    violations["list, empty"] = violations_in(page, axe)

    # A sandbox card provider, with its secret.
    set_up(page, "Sandbox card payments", key="sandbox-parking", title="Sandbox (parking)")
    secret_field = page.locator("fieldset input[type=password]").first
    secret_field.fill(SECRET)
    violations["set up the sandbox"] = violations_in(page, axe)
    save(page, "Sandbox (parking)")

    expect(page.get_by_text("A value is stored; leave blank to keep it.")).to_be_visible()
    expect(page.locator("fieldset input[type=password]").first).to_have_value("")
    assert SECRET not in page.content()
    violations["edit the sandbox"] = violations_in(page, axe)
    sandbox = Integration.objects.get(organisation=council, key="sandbox-parking")
    assert SECRET in sandbox.secrets.values()
    assert sandbox.is_enabled

    # Saved again without typing the secret: it is kept.
    save(page, "Sandbox (parking)")
    sandbox.refresh_from_db()
    assert SECRET in sandbox.secrets.values()

    # The telephone line, and its API key.
    open_integrations(page)
    set_up(page, "Telephone payments (generic IVR)", key="ivr", title="Council IVR")
    save(page, "Council IVR")
    expect(page.get_by_text("No API key has been issued yet")).to_be_visible()
    page.get_by_role("link", name="Issue a new API key").click()
    violations["confirm a new API key"] = violations_in(page, axe)
    page.get_by_role("button", name="Issue a new API key").click()

    shown = page.locator("[data-api-key]")
    expect(shown).to_have_text(re.compile(r"^ims_\S{40,}$"))
    api_key = shown.inner_text()
    ivr = Integration.objects.get(organisation=council, key="ivr")
    expect(page.get_by_text(f"/integrations/{ivr.public_id}/telephone/check/")).to_be_visible()
    violations["API key shown"] = violations_in(page, axe)
    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) == ivr

    # Shown once: the integration's page names only its first characters.
    page.get_by_role("link", name="Back to Council IVR").click()
    expect(page.get_by_text(f"starting {api_key[:8]}")).to_be_visible()
    assert api_key not in page.content()

    open_integrations(page)
    expect(page.get_by_role("cell", name="Council IVR", exact=True)).to_be_visible()
    violations["list with two integrations"] = violations_in(page, axe)

    assert violations == {name: [] for name in violations}
