"""Integration secrets, encrypted at rest with keys from the environment.

``SECRETS_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys (make
one with ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``). The first key encrypts; every key
decrypts, so a key is rotated by putting the new one first, re-saving
(``manage.py rotate_integration_secrets``) and then dropping the old one.
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretsUnreadable(Exception):
    """Stored secrets cannot be decrypted with any configured key."""


def _development_key() -> bytes:
    # Only for DEBUG (make run on a laptop): derived from the secret key so
    # that a first run needs no extra setting.
    digest = hashlib.sha256(b"ims-integration-secrets:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.SECRETS_ENCRYPTION_KEYS if key.strip()]
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "SECRETS_ENCRYPTION_KEYS must be set to store integration secrets "
                "(see docs/configuration.md)."
            )
        keys = [_development_key()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            f"SECRETS_ENCRYPTION_KEYS holds a key that is not a Fernet key: {error}"
        ) from None


def encrypt(values: dict[str, str]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise SecretsUnreadable(
            "The integration's secrets cannot be decrypted with SECRETS_ENCRYPTION_KEYS: "
            "was the key changed without keeping the old one?"
        ) from None


def rotate(token: str) -> str:
    """The same secrets, encrypted with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode() if token else ""
