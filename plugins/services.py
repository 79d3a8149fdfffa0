"""Writes about integrations: a council turns a plugin on, sets it up, issues its API key."""

import datetime
import decimal
import hashlib
import hmac
import secrets
import uuid

from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.db import models, transaction

from . import encryption
from .manager import PluginNotInstalled, plugin_info
from .models import Integration
from .types import SecretField


def _hash_api_key(api_key: str) -> str:
    # The keys are 256-bit random values, so one round of SHA-256 cannot be
    # brute-forced; a slow password hash would only slow every IVR request.
    return hashlib.sha256(api_key.encode()).hexdigest()


def settings_form(
    *, plugin: str, organisation, data=None, integration: Integration | None = None, prefix=None
):
    """The plugin's own settings form, filled with the integration's settings (never secrets)."""
    info = plugin_info(plugin)
    if info.settings_form is None:
        return None
    initial = dict(integration.settings) if integration else {}
    return info.settings_form(data=data, initial=initial, organisation=organisation, prefix=prefix)


def _storable(value):
    """A settings form's cleaned value as JSON the form takes back as its initial value.

    A chosen model row is kept as its primary key (a council's fund code, say),
    dates as ISO 8601 and decimals as text, so that a plugin's form may use any
    ordinary Django field.
    """
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet):
        return [row.pk for row in value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _storable(item) for key, item in value.items()}
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def _split(plugin: str, cleaned: dict, existing: Integration | None):
    secret_names = set(plugin_info(plugin).secret_field_names())
    values = {name: _storable(value) for name, value in cleaned.items() if name not in secret_names}
    kept = existing.secrets if existing else {}
    new_secrets = {
        name: cleaned[name] if cleaned.get(name) else kept.get(name, "") for name in secret_names
    }
    return values, {name: value for name, value in new_secrets.items() if value}


def _check_required_secrets(plugin: str, secrets_: dict, is_enabled: bool):
    form_class = plugin_info(plugin).settings_form
    if form_class is None or not is_enabled:
        return
    missing = [
        str(field.label or name)
        for name, field in form_class.base_fields.items()
        if isinstance(field, SecretField)
        and getattr(field, "needed_to_enable", True)
        and not secrets_.get(name)
    ]
    if missing:
        raise ValidationError(
            f"Enter {', '.join(missing)} before enabling this integration.", code="secret_missing"
        )


def _log(integration: Integration, action: str, user):
    from wagtail.log_actions import log

    log(instance=integration, action=action, user=user, content_changed=True)


@transaction.atomic
def integration_create(
    *, organisation, plugin: str, key: str, title: str, settings: dict, is_enabled=False, user=None
) -> Integration:
    """Start using a plugin: ``settings`` are the cleaned values of its settings form.

    Raises ``ValidationError`` (nothing written) for a key the council already
    uses, or for enabling it before its required secrets are entered.
    """
    info = plugin_info(plugin)
    if Integration.objects.for_organisation(organisation).filter(key=key).exists():
        raise ValidationError(
            {"key": f"This council already has an integration with the key '{key}'."},
            code="duplicate_key",
        )
    values, secrets_ = _split(plugin, settings, None)
    _check_required_secrets(plugin, secrets_, is_enabled)
    integration = Integration(
        organisation=organisation,
        plugin=info.name,
        key=key,
        title=title,
        is_enabled=is_enabled,
        settings=values,
        secrets_encrypted=encryption.encrypt(secrets_),
        secret_names=sorted(secrets_),
    )
    integration.full_clean()
    integration.save()
    _log(integration, "wagtail.create", user)
    return integration


@transaction.atomic
def integration_update(
    *, integration: Integration, title: str, settings: dict, is_enabled: bool, user=None
) -> Integration:
    """Change an integration's settings; a secret left blank keeps its stored value."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    values, secrets_ = _split(integration.plugin, settings, integration)
    _check_required_secrets(integration.plugin, secrets_, is_enabled)
    integration.title = title
    integration.settings = values
    integration.is_enabled = is_enabled
    integration.secrets_encrypted = encryption.encrypt(secrets_)
    integration.secret_names = sorted(secrets_)
    integration.full_clean()
    integration.save()
    _log(integration, "wagtail.edit", user)
    return integration


@transaction.atomic
def integration_set_enabled(*, integration: Integration, is_enabled: bool, user=None):
    """Turn an integration on or off, keeping its settings and secrets.

    Turning it on needs its required secrets; turning it off needs nothing,
    so that an integration whose plugin has been uninstalled can still be
    switched off.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if integration.is_enabled == is_enabled:
        return integration
    if is_enabled:
        try:
            _check_required_secrets(integration.plugin, integration.secrets, is_enabled=True)
        except PluginNotInstalled:
            raise ValidationError(
                f"The plugin '{integration.plugin}' is not installed, so this integration "
                "cannot be enabled.",
                code="plugin_not_installed",
            ) from None
    integration.is_enabled = is_enabled
    integration.save(update_fields=["is_enabled", "updated_at"])
    _log(integration, "wagtail.edit", user)
    return integration


@transaction.atomic
def integration_issue_api_key(*, integration: Integration, user=None) -> str:
    """A new API key for the integration, replacing any old one; shown once, stored hashed."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    api_key = f"ims_{secrets.token_urlsafe(32)}"
    integration.api_key_hash = _hash_api_key(api_key)
    integration.api_key_hint = api_key[:12]
    integration.save(update_fields=["api_key_hash", "api_key_hint", "updated_at"])
    _log(integration, "ims.api_key_issued", user)
    return api_key


def integration_for_api_key(*, public_id, api_key: str) -> Integration | None:
    """The enabled integration this API key opens, or ``None``: compared in constant time."""
    integration = (
        Integration.objects.enabled()
        .select_related("organisation")
        .filter(public_id=public_id, organisation__is_active=True)
        .first()
    )
    if integration is None or not integration.api_key_hash or not api_key:
        return None
    if not hmac.compare_digest(integration.api_key_hash, _hash_api_key(api_key)):
        return None
    return integration


def integration_rotate_secrets() -> int:
    """Re-encrypt every integration's secrets with the newest key; returns how many.

    Raises ``SecretsUnreadable`` naming the first integration no configured
    key can read; those before it stay re-encrypted (each is saved on its own).
    """
    count = 0
    for integration in Integration.objects.exclude(secrets_encrypted="").iterator():
        with transaction.atomic():
            locked = Integration.objects.select_for_update().get(pk=integration.pk)
            try:
                locked.secrets_encrypted = encryption.rotate(locked.secrets_encrypted)
            except InvalidToken:
                raise encryption.SecretsUnreadable(
                    f"The secrets of integration '{locked.key}' of {locked.organisation} cannot "
                    "be decrypted with any key in SECRETS_ENCRYPTION_KEYS: put back the key "
                    "they were encrypted with (after the new one) and run this again."
                ) from None
            locked.save(update_fields=["secrets_encrypted"])
            count += 1
    return count
