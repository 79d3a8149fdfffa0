"""Integration secrets are encrypted at rest, readable with any configured key, rotatable."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from plugins import encryption
from plugins.models import Integration
from tests.factories import integration
from tests.plugins.third_party import installed_for_test

SECRET = "sk_live_7Hq2mV9xR4tLp8Zc"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def test_plugins():
    with installed_for_test():
        yield


def card_provider(council):
    return integration(
        council,
        plugin="test_card_provider",
        key="cards",
        settings={"merchant_id": "acct_42", "api_key": SECRET, "webhook_secret": "whsec_9"},
    )


def test_secrets_come_back_as_they_went_in():
    token = encryption.encrypt({"api_key": SECRET, "other": "é ✓"})

    assert SECRET not in token
    assert encryption.decrypt(token) == {"api_key": SECRET, "other": "é ✓"}


def test_no_secrets_are_stored_as_nothing():
    assert encryption.encrypt({}) == ""
    assert encryption.decrypt("") == {}


def test_nothing_secret_is_in_plain_text_in_the_database(council):
    created = card_provider(council)

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {Integration._meta.db_table} WHERE id = %s",  # noqa: S608 - model's table
            [created.pk],
        )
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert SECRET not in stored
    assert "whsec_9" not in stored
    assert "acct_42" in stored  # settings that are not secret are plain JSON


def test_an_old_key_still_reads_after_a_new_key_is_put_first():
    with override_settings(SECRETS_ENCRYPTION_KEYS=[OLD_KEY]):
        token = encryption.encrypt({"api_key": SECRET})

    with override_settings(SECRETS_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert encryption.decrypt(token) == {"api_key": SECRET}
        rotated = encryption.rotate(token)

    with override_settings(SECRETS_ENCRYPTION_KEYS=[NEW_KEY]):
        assert encryption.decrypt(rotated) == {"api_key": SECRET}


def test_rotating_re_encrypts_every_integration_so_the_old_key_can_go(council, other_council):
    with override_settings(SECRETS_ENCRYPTION_KEYS=[OLD_KEY]):
        ours = card_provider(council)
        theirs = card_provider(other_council)
        integration(council, plugin="test_ivr", key="ivr", settings={"line_name": "1"})

    with override_settings(SECRETS_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        output = io.StringIO()
        call_command("rotate_integration_secrets", stdout=output)
    assert "Re-encrypted the secrets of 2 integration(s)." in output.getvalue()

    with override_settings(SECRETS_ENCRYPTION_KEYS=[NEW_KEY]):
        for row in (ours, theirs):
            row.refresh_from_db()
            assert row.secrets == {"api_key": SECRET, "webhook_secret": "whsec_9"}


def test_secrets_under_a_key_no_longer_configured_give_a_clear_error(council):
    with override_settings(SECRETS_ENCRYPTION_KEYS=[OLD_KEY]):
        stored = card_provider(council)

    with override_settings(SECRETS_ENCRYPTION_KEYS=[NEW_KEY]):
        stored.refresh_from_db()
        with pytest.raises(encryption.SecretsUnreadable, match="was the key changed"):
            stored.secrets  # noqa: B018 - reading is what fails
        with pytest.raises(CommandError, match="integration 'cards' of Barsetshire"):
            call_command("rotate_integration_secrets")


@override_settings(SECRETS_ENCRYPTION_KEYS=[], DEBUG=False)
def test_without_a_key_and_debug_off_nothing_is_encrypted_at_all():
    with pytest.raises(ImproperlyConfigured, match="SECRETS_ENCRYPTION_KEYS must be set"):
        encryption.encrypt({"api_key": SECRET})


@override_settings(SECRETS_ENCRYPTION_KEYS=["not-a-fernet-key"])
def test_a_key_that_is_not_a_fernet_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        encryption.encrypt({"api_key": SECRET})
