"""System checks of the integration secrets' encryption keys (``manage.py check``)."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks


def _keys() -> list[str]:
    return [key.strip() for key in settings.SECRETS_ENCRYPTION_KEYS if key.strip()]


def check_encryption_keys_set(app_configs=None, **kwargs):
    """On deploy (``check --deploy``): secrets need a real key, not the development fallback."""
    if _keys() or settings.DEBUG:
        return []
    return [
        checks.Error(
            "SECRETS_ENCRYPTION_KEYS is empty, so integration secrets cannot be stored or read.",
            hint=(
                "Set SECRETS_ENCRYPTION_KEYS to a Fernet key, made with: python -c "
                '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())". '
                "Keep a copy safe, apart from the database backups (docs/plugins.md)."
            ),
            id="plugins.E001",
        )
    ]


def check_encryption_keys_valid(app_configs=None, **kwargs):
    """Always: every key given must be a Fernet key, or no secret could be read or written."""
    errors = []
    for position, key in enumerate(_keys(), start=1):
        try:
            Fernet(key)
        except ValueError:
            # Say which key, never what it is: check output ends up in logs.
            errors.append(
                checks.Error(
                    f"Key number {position} in SECRETS_ENCRYPTION_KEYS is not a Fernet key "
                    "(32 bytes in URL-safe base64, 44 characters).",
                    hint="Generate keys with cryptography's Fernet.generate_key() "
                    "(docs/plugins.md).",
                    id="plugins.E002",
                )
            )
    return errors
