"""`manage.py check` stops a deployment whose integration secrets could not be kept."""

import pytest
from cryptography.fernet import Fernet
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

BAD_KEY = "this-is-not-a-fernet-key"


def check_ids(*, deploy: bool) -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=deploy)}


@override_settings(SECRETS_ENCRYPTION_KEYS=[], DEBUG=False)
def test_a_deployment_without_an_encryption_key_fails_check_deploy():
    with pytest.raises(SystemCheckError, match=r"plugins\.E001"):
        call_command("check", "--deploy")


@override_settings(SECRETS_ENCRYPTION_KEYS=["  "], DEBUG=False)
def test_a_blank_key_counts_as_none():
    assert "plugins.E001" in check_ids(deploy=True)


@override_settings(SECRETS_ENCRYPTION_KEYS=[], DEBUG=False)
def test_the_missing_key_is_a_deployment_check_only():
    assert "plugins.E001" not in check_ids(deploy=False)


@override_settings(SECRETS_ENCRYPTION_KEYS=[], DEBUG=True)
def test_a_laptop_with_debug_on_needs_no_key():
    assert "plugins.E001" not in check_ids(deploy=True)


@override_settings(SECRETS_ENCRYPTION_KEYS=[Fernet.generate_key().decode()], DEBUG=False)
def test_a_deployment_with_good_keys_passes():
    assert not {"plugins.E001", "plugins.E002"} & check_ids(deploy=True)


@override_settings(SECRETS_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), BAD_KEY])
def test_a_key_that_is_not_a_fernet_key_is_an_error_in_every_check_without_showing_it():
    errors = [message for message in run_checks() if message.id == "plugins.E002"]

    assert len(errors) == 1
    assert "Key number 2" in errors[0].msg
    assert BAD_KEY not in errors[0].msg + (errors[0].hint or "")
