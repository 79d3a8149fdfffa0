"""`make frontend`: GOV.UK Frontend from npm, compiled for councils' sites, built when needed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.markers import tool_missing

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "backoffice" / "branding" / "static" / "branding"


@pytest.fixture(scope="module")
def built():
    for tool in ("make", "npm"):
        if shutil.which(tool) is None:
            tool_missing(f"{tool} is not installed: `make frontend` needs it")
    first = subprocess.run(
        ["make", "--no-print-directory", "frontend"], cwd=ROOT, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stdout + first.stderr
    return BUILT


def test_the_style_sheet_and_script_are_built(built):
    css = (built / "portal.css").read_text()
    script = (built / "govuk-frontend.min.js").read_text()

    assert ".govuk-error-summary" in css
    assert ".ims-header" in css
    assert "var(--ims-brand-colour" in css
    assert "export{" in script and "initAll" in script


def test_it_is_gov_uk_frontend_version_5_from_npm(built):
    package = ROOT / "node_modules" / "govuk-frontend" / "package.json"

    version = json.loads(package.read_text())["version"]
    assert version.startswith("5.")
    assert f'const version="{version}"' in (built / "govuk-frontend.min.js").read_text()


def test_no_gds_transport_font_and_no_crown(built):
    css = (built / "portal.css").read_text()

    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "crest" not in css
    assert "url(" not in css
    assert "font-family:system-ui" in css


def test_a_second_run_builds_nothing(built):
    before = (built / "portal.css").stat().st_mtime_ns

    again = subprocess.run(
        ["make", "--no-print-directory", "frontend"], cwd=ROOT, capture_output=True, text=True
    )

    assert again.returncode == 0, again.stdout + again.stderr
    assert "sass" not in again.stdout
    assert (built / "portal.css").stat().st_mtime_ns == before


def test_the_built_files_are_not_committed():
    ignored = subprocess.run(
        [
            "git",
            "check-ignore",
            "--no-index",
            *(
                str(BUILT / name)
                for name in (
                    "portal.css",
                    "govuk-frontend.min.js",
                    "govuk-frontend.min.js.map",
                    ".built",
                )
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if ignored.returncode == 128:
        tool_missing("not a git checkout: cannot read .gitignore's verdict")
    assert len(ignored.stdout.splitlines()) == 4, ignored.stdout + ignored.stderr
