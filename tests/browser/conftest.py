"""A real Chromium, driven by Playwright, against pytest-django's live server.

The tools come from outside Python: Debian's Chromium and axe-core from npm, both installed
by ``make browser-deps``. Where one is missing the tests skip and say how to get it, except
under CI=true, where a skipped browser test would hide a broken install: there they fail.
"""

import os
import re
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.test.utils import override_settings

from tests.markers import tool_missing

# Playwright's sync API runs an asyncio event loop in the test thread from the moment it
# starts, and Django then refuses ORM calls from that thread (SynchronousOnlyOperation): the
# tests' own factories and queries, and those of every test that runs while the session's
# browser is still open. Those calls are ordinary blocking ones made between browser steps,
# never inside the loop, so lifting the guard is safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PUBLIC_PAGES_BUILD = (
    Path(__file__).resolve().parents[2] / "backoffice" / "branding" / "static" / "branding"
)
# Without these Chromium reaches out to Google (updates, sync, field trials, QUIC probes),
# which on a machine with no internet only slows every launch down.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_MS = 15_000
# Screenshots are build artefacts: CI keeps var/screenshots, git ignores var/.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREEN_SIZES = {
    "desktop": {"width": 1280, "height": 800},
    # The narrowest screen WCAG 2.2 asks a page to work on without scrolling sideways.
    "mobile": {"width": 320, "height": 640},
}


@pytest.fixture(scope="session")
def _plain_http_while_starting():
    # Production defaults send plain HTTP to HTTPS, and the live server speaks plain HTTP.
    # SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread builds its
    # handler, so the override must be in force then; it is lifted straight afterwards so
    # that no other test runs with it.
    with ExitStack() as while_starting:
        while_starting.enter_context(override_settings(SECURE_SSL_REDIRECT=False))
        yield while_starting


@pytest.fixture(scope="session")
def live_server(_plain_http_while_starting, live_server):
    _plain_http_while_starting.close()
    return live_server


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        tool_missing(f"{CHROMIUM} is not installed: run `make browser-deps` as root")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        tool_missing("Playwright is not installed: run `.venv/bin/pip install -e '.[dev]'`")
    # The first request to a page compiles its templates, which on a busy CI machine can
    # take longer than Playwright's default five seconds.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in():
    """Sign in through Wagtail's own login form, as a person would."""

    def sign_in(page, username, password):
        page.goto("/admin/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/admin/")

    return sign_in


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_SCRIPT.exists():
        tool_missing(f"axe-core is not installed at {AXE_SCRIPT}: run `make browser-deps`")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source):
    """``axe(page, context)``: axe-core's WCAG 2.x A and AA violations within ``context``.

    Each violation is cut down to what a person needs to find and fix it: the rule, its
    impact, what it asks for and, for each offending element, its selector and axe's summary.
    """

    def run(page, context="main"):
        # A test may get here as soon as the address changes, before the new page has
        # loaded; axe must check the page the test means, not an empty or half one.
        page.wait_for_load_state("load")
        page.wait_for_selector(context, state="attached", timeout=TIMEOUT_MS)
        page.add_script_tag(content=axe_source)
        results = page.evaluate(
            "([context, options]) => axe.run(context, options)",
            [context, {"runOnly": {"type": "tag", "values": WCAG_TAGS}}],
        )
        return [
            {
                "rule": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [
                    {"target": node["target"], "summary": node.get("failureSummary", "")}
                    for node in violation["nodes"]
                ],
            }
            for violation in results["violations"]
        ]

    return run


@pytest.fixture
def screenshot(request):
    """``screenshot(page, label="")``: the whole page at desktop and at mobile width.

    Saved as ``var/screenshots/<test name>[-<label>]-<desktop|mobile>.png`` (a label
    tells apart the pages of one test) and returned as those two paths. The page is
    put back to the size it had.
    """

    def _slug(text):
        return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")

    def take(page, label=""):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = _slug(request.node.name) + (f"-{_slug(label)}" if label else "")
        before = page.viewport_size
        paths = []
        try:
            for size_name, size in SCREEN_SIZES.items():
                page.set_viewport_size(size)
                path = SCREENSHOTS / f"{name}-{size_name}.png"
                page.screenshot(path=str(path), full_page=True)
                paths.append(path)
        finally:
            if before:
                page.set_viewport_size(before)
        return paths

    return take


@pytest.fixture(scope="session")
def frontend_built():
    """The public pages' built CSS and JavaScript (``make frontend``): without them a page
    is unstyled, and what a test sees of it would not be what the public see."""
    missing = [
        name
        for name in ("portal.css", "govuk-frontend.min.js")
        if not (PUBLIC_PAGES_BUILD / name).exists()
    ]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not built in {PUBLIC_PAGES_BUILD}: run `make frontend`",
            pytrace=False,
        )
