"""Settings come from the environment, with safe production defaults."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _settings(**environment):
    """Import the settings in a fresh interpreter with exactly this environment."""
    env = {"PATH": os.environ["PATH"], **environment}
    code = (
        "import json, backoffice.settings as s;"
        "print(json.dumps({'DEBUG': s.DEBUG, 'ALLOWED_HOSTS': s.ALLOWED_HOSTS,"
        " 'ENGINE': s.DATABASES['default']['ENGINE'],"
        " 'NAME': str(s.DATABASES['default']['NAME']),"
        " 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT,"
        " 'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE,"
        " 'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS, 'EMAIL_BACKEND': s.EMAIL_BACKEND,"
        " 'EMAIL_HOST': s.EMAIL_HOST}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def _read(**environment):
    import json

    result = _settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_safe():
    settings = _read(SECRET_KEY="k")

    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == []
    assert settings["SECURE_SSL_REDIRECT"] and settings["SESSION_COOKIE_SECURE"]
    assert settings["SECURE_HSTS_SECONDS"] >= 31536000


def test_without_a_secret_key_production_refuses_to_start():
    result = _settings()

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_without_database_url_a_laptop_gets_sqlite_under_var():
    settings = _read(DEBUG="true")

    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"].endswith("var/ims.sqlite3")
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_database_url_chooses_postgresql():
    settings = _read(SECRET_KEY="k", DATABASE_URL="postgres://u:p@db.internal:5432/income")

    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert settings["NAME"] == "income"


def test_ci_without_database_url_fails_loudly_instead_of_using_sqlite():
    result = _settings(SECRET_KEY="k", CI="true")

    assert result.returncode != 0
    assert "CI must test on PostgreSQL" in result.stderr


def test_hosts_and_email_come_from_the_environment():
    settings = _read(
        SECRET_KEY="k",
        ALLOWED_HOSTS="pay.council.example,admin.council.example",
        EMAIL_URL="smtp+tls://user:secret@mail.council.example:587",
    )

    assert settings["ALLOWED_HOSTS"] == ["pay.council.example", "admin.council.example"]
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert settings["EMAIL_HOST"] == "mail.council.example"
