"""Markers and skip rules shared across the suite."""

import os

import pytest
from django.db import connection


def postgresql_only(what_it_needs: str):
    """Skip on SQLite (a laptop's quick run), saying what PostgreSQL gives the test.

    Never a skip in CI: under CI=true the settings refuse to start without a
    PostgreSQL ``DATABASE_URL``, so these tests always run there.
    """
    return pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"needs PostgreSQL's {what_it_needs}; CI runs it on PostgreSQL",
    )


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def tool_missing(reason: str):
    """Skip for want of a tool (Chromium, an npm package), or fail under CI=true,
    where every tool must be installed and a skip would hide a broken install."""
    if _under_ci():
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)
