"""Writes about integrations: settings and secrets, enabling, and the vendor's API key."""

import hmac

import pytest
from django.core.exceptions import ValidationError
from wagtail.models import ModelLogEntry

from plugins import services
from plugins.models import Integration
from plugins.services import (
    integration_create,
    integration_for_api_key,
    integration_issue_api_key,
    integration_set_enabled,
    integration_update,
)
from tests.factories import integration
from tests.plugins.third_party import installed_for_test

SECRET = "sk_live_7Hq2mV9xR4tLp8Zc"


@pytest.fixture(autouse=True)
def test_plugins():
    with installed_for_test():
        yield


@pytest.fixture
def card_provider(council):
    return integration(
        council,
        plugin="test_card_provider",
        key="cards",
        settings={"merchant_id": "acct_42", "api_key": SECRET},
    )


@pytest.fixture
def ivr(council):
    return integration(council, plugin="test_ivr", key="ivr", settings={"line_name": "0300"})


# Settings and secrets ---------------------------------------------------------------------


def test_settings_are_stored_as_they_are_and_secrets_encrypted_apart(card_provider):
    assert card_provider.settings == {"merchant_id": "acct_42"}
    assert card_provider.secret_names == ["api_key"]
    assert card_provider.secrets == {"api_key": SECRET}
    assert card_provider.config == {"merchant_id": "acct_42", "api_key": SECRET}


def test_a_chosen_fund_code_is_stored_as_its_id(council, parking):
    created = integration(
        council,
        plugin="test_card_provider",
        settings={"merchant_id": "acct_1", "fund_code": parking, "api_key": SECRET},
    )

    created.refresh_from_db()
    assert created.settings["fund_code"] == parking.pk


def test_a_secret_left_blank_keeps_the_stored_value(card_provider):
    integration_update(
        integration=card_provider,
        title="Cards",
        settings={"merchant_id": "acct_43", "api_key": "", "webhook_secret": ""},
        is_enabled=True,
    )

    card_provider.refresh_from_db()
    assert card_provider.settings == {"merchant_id": "acct_43"}
    assert card_provider.secrets == {"api_key": SECRET}


def test_a_secret_given_replaces_the_stored_value(card_provider, finance_admin):
    integration_update(
        integration=card_provider,
        title="Cards",
        settings={"merchant_id": "acct_42", "api_key": "sk_live_new"},
        is_enabled=True,
        user=finance_admin,
    )

    card_provider.refresh_from_db()
    assert card_provider.secrets == {"api_key": "sk_live_new"}
    assert ModelLogEntry.objects.filter(
        object_id=str(card_provider.pk), action="wagtail.edit", user=finance_admin
    ).exists()


def test_required_secrets_must_be_set_before_enabling(council):
    with pytest.raises(ValidationError, match="Enter API key before enabling"):
        integration_create(
            organisation=council,
            plugin="test_card_provider",
            key="cards",
            title="Cards",
            settings={"merchant_id": "acct_1"},
            is_enabled=True,
        )
    assert not Integration.objects.exists()


def test_an_integration_without_its_secrets_can_be_kept_disabled_and_enabled_later(council):
    draft = integration(
        council, plugin="test_card_provider", settings={"merchant_id": "acct_1"}, is_enabled=False
    )

    with pytest.raises(ValidationError, match="Enter API key"):
        integration_set_enabled(integration=draft, is_enabled=True)
    draft.refresh_from_db()
    assert not draft.is_enabled

    integration_update(
        integration=draft, title="Cards", settings={"api_key": SECRET}, is_enabled=False
    )
    integration_set_enabled(integration=draft, is_enabled=True)
    draft.refresh_from_db()
    assert draft.is_enabled


def test_a_secret_marked_not_needed_to_enable_is_optional(card_provider):
    assert "webhook_secret" not in card_provider.secret_names
    assert card_provider.is_enabled


def test_disabling_needs_nothing_and_keeps_settings_and_secrets(card_provider):
    integration_set_enabled(integration=card_provider, is_enabled=False)

    card_provider.refresh_from_db()
    assert not card_provider.is_enabled
    assert card_provider.secrets == {"api_key": SECRET}


def test_a_key_is_unique_within_a_council_but_not_across_councils(
    council, other_council, card_provider
):
    with pytest.raises(ValidationError) as refused:
        integration(council, plugin="test_ivr", key="cards")
    assert refused.value.message_dict == {
        "key": ["This council already has an integration with the key 'cards'."]
    }

    theirs = integration(other_council, plugin="test_ivr", key="cards", settings={"line_name": "1"})
    assert theirs.key == "cards"


# API keys ---------------------------------------------------------------------------------


def test_an_api_key_is_returned_once_and_only_its_hash_and_hint_are_kept(ivr, finance_admin):
    api_key = integration_issue_api_key(integration=ivr, user=finance_admin)

    ivr.refresh_from_db()
    assert api_key.startswith("ims_") and len(api_key) > 40
    assert api_key not in ivr.api_key_hash
    assert ivr.api_key_hint == api_key[:12]
    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) == ivr
    assert ModelLogEntry.objects.filter(
        object_id=str(ivr.pk), action="ims.api_key_issued", user=finance_admin
    ).exists()


def test_a_wrong_or_missing_api_key_opens_nothing(ivr):
    api_key = integration_issue_api_key(integration=ivr)

    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key + "x") is None
    assert integration_for_api_key(public_id=ivr.public_id, api_key="") is None


def test_an_integration_with_no_api_key_issued_opens_to_nothing(ivr):
    assert integration_for_api_key(public_id=ivr.public_id, api_key="") is None
    assert integration_for_api_key(public_id=ivr.public_id, api_key="ims_anything") is None


def test_issuing_a_new_key_stops_the_old_one(ivr):
    old = integration_issue_api_key(integration=ivr)
    new = integration_issue_api_key(integration=ivr)

    assert integration_for_api_key(public_id=ivr.public_id, api_key=old) is None
    assert integration_for_api_key(public_id=ivr.public_id, api_key=new) == ivr


def test_a_key_opens_only_its_own_integration(council, other_council, ivr):
    theirs = integration(other_council, plugin="test_ivr", key="ivr", settings={"line_name": "1"})
    ours = integration_issue_api_key(integration=ivr)

    assert integration_for_api_key(public_id=theirs.public_id, api_key=ours) is None


def test_a_disabled_integration_or_inactive_council_opens_to_nothing(council, ivr):
    api_key = integration_issue_api_key(integration=ivr)

    integration_set_enabled(integration=ivr, is_enabled=False)
    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) is None

    integration_set_enabled(integration=ivr, is_enabled=True)
    council.is_active = False
    council.save()
    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) is None


def test_api_keys_are_compared_in_constant_time(ivr, monkeypatch):
    # A spy around the standard library's constant-time comparison (which it still calls):
    # timing itself cannot be measured reliably on a shared test machine.
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(services.hmac, "compare_digest", spy)
    api_key = integration_issue_api_key(integration=ivr)
    ivr.refresh_from_db()

    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) == ivr
    assert compared == [(ivr.api_key_hash, ivr.api_key_hash)]
