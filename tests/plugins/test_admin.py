"""The Integrations screens: a finance administrator sets up, changes and switches their
council's integrations, and issues an API key; secrets go in and never come out."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from backoffice.accounts.roles import AUDITOR, CASHIER, INCOME_OFFICER, SYSTEM_ADMINISTRATOR
from plugins.models import Integration
from plugins.services import integration_for_api_key
from tests.conftest import assert_permission_denied
from tests.factories import integration, staff
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
        key="cards-parking",
        title="Cards for parking",
        settings={"merchant_id": "acct_42", "api_key": SECRET},
    )


@pytest.fixture
def ivr(council):
    return integration(
        council,
        plugin="test_ivr",
        key="ivr",
        title="Automated telephone line",
        settings={"line_name": "0300 123 4567"},
    )


def add_url(plugin="test_card_provider"):
    return reverse("plugins_integrations:add", args=[plugin])


def edit_url(row):
    return reverse("plugins_integrations:edit", args=[row.pk])


def card_provider_post(**changes):
    return {
        "key": "cards-parking",
        "title": "Cards for parking",
        "is_enabled": "on",
        "settings-merchant_id": "acct_42",
        "settings-api_key": SECRET,
        "settings-webhook_secret": "",
        "settings-fund_code": "",
        **changes,
    }


# The list ---------------------------------------------------------------------------------


def test_the_list_shows_installed_plugins_and_this_councils_integrations_only(
    admin_client, card_provider, other_council
):
    integration(other_council, plugin="test_ivr", title="Wessex telephone line")

    response = admin_client.get(reverse("plugins_integrations:index"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Test card provider" in page
    assert "Takes card payments on its hosted page (tests only)." in page
    assert "2.1 (built-in)" in page
    assert "Telephone payments (IVR)" in page
    assert "Cards for parking" in page
    assert "cards-parking" in page
    assert "API key" in page  # the secret's label, listed as stored
    assert SECRET not in page
    assert "Wessex telephone line" not in page


def test_an_integration_whose_plugin_is_uninstalled_is_listed_as_such(admin_client, council):
    Integration.objects.create(organisation=council, plugin="gone", key="gone", title="Old IVR")

    page = admin_client.get(reverse("plugins_integrations:index")).content.decode()
    edit = admin_client.get(edit_url(Integration.objects.get(key="gone"))).content.decode()

    assert "gone (not installed)" in page
    assert "is not installed on this system" in edit


def test_an_integration_whose_plugin_is_uninstalled_can_be_disabled_but_not_enabled(
    admin_client, council
):
    gone = Integration.objects.create(
        organisation=council, plugin="gone", key="gone", title="Old IVR", is_enabled=True
    )
    switch = reverse("plugins_integrations:switch", args=[gone.pk])

    admin_client.post(switch, {"is_enabled": ""})
    gone.refresh_from_db()
    assert not gone.is_enabled

    response = admin_client.post(switch, {"is_enabled": "1"}, follow=True)
    gone.refresh_from_db()
    assert not gone.is_enabled
    assert "The plugin &#x27;gone&#x27; is not installed" in response.content.decode()


def test_a_change_to_an_integration_whose_secrets_cannot_be_read_is_refused_clearly(
    admin_client, card_provider
):
    from cryptography.fernet import Fernet

    with override_settings(SECRETS_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        response = admin_client.post(
            edit_url(card_provider), card_provider_post(**{"settings-api_key": ""})
        )

    assert response.status_code == 200
    assert "cannot be decrypted" in response.content.decode()
    card_provider.refresh_from_db()
    assert card_provider.secrets == {"api_key": SECRET}


def test_the_settings_menu_offers_integrations_to_a_finance_administrator_only(
    admin_client, council
):
    index = reverse("plugins_integrations:index")
    officer = Client()
    officer.force_login(staff(council, roles=[INCOME_OFFICER], username="officer"))

    assert index in admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert index not in officer.get(reverse("wagtailadmin_home")).content.decode()


# Setting one up ---------------------------------------------------------------------------


def test_setting_one_up_stores_its_settings_and_encrypts_its_secrets(
    admin_client, council, parking, finance_admin
):
    response = admin_client.post(
        add_url(), card_provider_post(**{"settings-fund_code": str(parking.pk)})
    )

    assert response.status_code == 302
    created = Integration.objects.get(organisation=council, key="cards-parking")
    assert response.url == edit_url(created)
    assert created.is_enabled
    assert created.plugin == "test_card_provider"
    assert created.settings == {"merchant_id": "acct_42", "fund_code": parking.pk}
    assert created.secrets == {"api_key": SECRET}
    assert SECRET not in created.secrets_encrypted
    assert ModelLogEntry.objects.filter(
        object_id=str(created.pk), action="wagtail.create", user=finance_admin
    ).exists()


def test_the_plugins_own_form_refuses_bad_settings_and_nothing_is_saved(admin_client):
    response = admin_client.post(add_url(), card_provider_post(**{"settings-merchant_id": "42"}))

    assert response.status_code == 200
    assert response.context["plugin_form"].errors == {
        "merchant_id": ["Enter the merchant id the provider gave you, like acct_123."]
    }
    assert SECRET not in response.content.decode()
    assert not Integration.objects.exists()


def test_another_councils_fund_code_is_not_offered(admin_client, other_council):
    from tests.factories import FundCodeFactory

    theirs = FundCodeFactory(organisation=other_council, code="WXPARK")

    response = admin_client.post(
        add_url(), card_provider_post(**{"settings-fund_code": str(theirs.pk)})
    )

    assert "fund_code" in response.context["plugin_form"].errors
    assert not Integration.objects.exists()


def test_enabling_without_its_required_secret_is_refused(admin_client):
    response = admin_client.post(add_url(), card_provider_post(**{"settings-api_key": ""}))

    assert response.status_code == 200
    assert "Enter API key before enabling this integration." in response.content.decode()
    assert not Integration.objects.exists()


def test_a_key_the_council_already_uses_is_refused(admin_client, card_provider):
    response = admin_client.post(add_url(), card_provider_post(title="Second account"))

    assert response.status_code == 200
    assert response.context["integration_form"].errors == {
        "key": ["This council already has an integration with the key 'cards-parking'."]
    }
    assert Integration.objects.count() == 1


def test_a_key_must_be_a_slug(admin_client):
    response = admin_client.post(add_url(), card_provider_post(key="Cards Parking"))

    assert "key" in response.context["integration_form"].errors
    assert not Integration.objects.exists()


def test_a_plugin_that_is_not_installed_cannot_be_set_up(admin_client):
    assert admin_client.get(add_url("no_such_plugin")).status_code == 404
    assert admin_client.post(add_url("no_such_plugin"), card_provider_post()).status_code == 404


# Editing ----------------------------------------------------------------------------------


def test_the_edit_page_says_a_secret_is_stored_but_never_sends_it(admin_client, card_provider):
    response = admin_client.get(edit_url(card_provider))

    page = response.content.decode()
    assert response.status_code == 200
    assert SECRET not in page
    assert "A value is stored; leave blank to keep it." in page
    assert 'name="settings-api_key"' in page
    assert re.search(r'<input[^>]*name="key"[^>]*disabled', page)


def test_a_secret_left_blank_is_kept_and_the_key_cannot_be_changed(admin_client, card_provider):
    response = admin_client.post(
        edit_url(card_provider),
        card_provider_post(
            key="renamed",
            title="Parking cards",
            **{"settings-api_key": "", "settings-merchant_id": "acct_43"},
        ),
    )

    assert response.status_code == 302
    card_provider.refresh_from_db()
    assert (card_provider.key, card_provider.title) == ("cards-parking", "Parking cards")
    assert card_provider.settings["merchant_id"] == "acct_43"
    assert card_provider.secrets == {"api_key": SECRET}


def test_a_secret_typed_in_replaces_the_stored_one(admin_client, card_provider):
    admin_client.post(
        edit_url(card_provider),
        card_provider_post(**{"settings-api_key": "sk_live_new", "settings-webhook_secret": "whs"}),
    )

    card_provider.refresh_from_db()
    assert card_provider.secrets == {"api_key": "sk_live_new", "webhook_secret": "whs"}
    assert card_provider.secret_names == ["api_key", "webhook_secret"]


def test_a_form_with_errors_does_not_send_back_the_secret_just_typed(admin_client, card_provider):
    response = admin_client.post(
        edit_url(card_provider),
        card_provider_post(**{"settings-api_key": "sk_live_typed_now", "settings-merchant_id": ""}),
    )

    assert response.status_code == 200
    assert "sk_live_typed_now" not in response.content.decode()
    assert SECRET not in response.content.decode()
    card_provider.refresh_from_db()
    assert card_provider.secrets == {"api_key": SECRET}


@override_settings(PUBLIC_BASE_URL="https://pay.barsetshire.example")
def test_a_payment_providers_page_gives_its_callback_address(admin_client, card_provider):
    page = admin_client.get(edit_url(card_provider)).content.decode()

    assert (
        f"https://pay.barsetshire.example/integrations/{card_provider.public_id}/callback/" in page
    )
    assert "Issue a new API key" not in page


# Enabling and disabling -------------------------------------------------------------------


def test_an_integration_is_disabled_and_enabled_again_from_the_list(admin_client, card_provider):
    switch = reverse("plugins_integrations:switch", args=[card_provider.pk])

    admin_client.post(switch, {"is_enabled": ""})
    card_provider.refresh_from_db()
    assert not card_provider.is_enabled

    admin_client.post(switch, {"is_enabled": "1"})
    card_provider.refresh_from_db()
    assert card_provider.is_enabled
    assert card_provider.secrets == {"api_key": SECRET}


def test_enabling_from_the_list_still_needs_the_required_secrets(admin_client, council):
    unfinished = integration(
        council, plugin="test_card_provider", settings={"merchant_id": "acct_1"}, is_enabled=False
    )

    response = admin_client.post(
        reverse("plugins_integrations:switch", args=[unfinished.pk]),
        {"is_enabled": "1"},
        follow=True,
    )

    unfinished.refresh_from_db()
    assert not unfinished.is_enabled
    assert "Enter API key before enabling this integration." in response.content.decode()


def test_switching_is_a_post_only(admin_client, card_provider):
    response = admin_client.get(reverse("plugins_integrations:switch", args=[card_provider.pk]))

    assert response.status_code == 405


# API keys ---------------------------------------------------------------------------------


@override_settings(PUBLIC_BASE_URL="https://pay.barsetshire.example")
def test_a_new_api_key_is_shown_once_with_the_addresses_to_give_the_vendor(
    admin_client, ivr, finance_admin
):
    url = reverse("plugins_integrations:api_key", args=[ivr.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert b"ims_" not in confirm.content
    ivr.refresh_from_db()
    assert not ivr.api_key_hash  # asking is not issuing

    issued = admin_client.post(url)

    api_key = issued.context["api_key"]
    page = issued.content.decode()
    assert api_key in page
    base = f"https://pay.barsetshire.example/integrations/{ivr.public_id}"
    assert f"{base}/telephone/check/" in page
    assert f"{base}/telephone/payments/" in page
    assert integration_for_api_key(public_id=ivr.public_id, api_key=api_key) == ivr
    entry = ModelLogEntry.objects.get(object_id=str(ivr.pk), action="ims.api_key_issued")
    assert entry.user == finance_admin
    assert log_registry.get_action_label("ims.api_key_issued") == "Issue API key"

    later = admin_client.get(edit_url(ivr)).content.decode()
    assert api_key not in later
    assert api_key[:8] in later


def test_an_api_key_is_not_offered_for_a_plugin_that_does_not_use_one(admin_client, card_provider):
    url = reverse("plugins_integrations:api_key", args=[card_provider.pk])

    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url).status_code == 404
    card_provider.refresh_from_db()
    assert not card_provider.api_key_hash


# Who may, and whose ------------------------------------------------------------------------


def _urls(row):
    return [
        ("get", reverse("plugins_integrations:index")),
        ("get", add_url()),
        ("post", add_url()),
        ("get", edit_url(row)),
        ("post", edit_url(row)),
        ("post", reverse("plugins_integrations:switch", args=[row.pk])),
        ("post", reverse("plugins_integrations:api_key", args=[row.pk])),
    ]


@pytest.mark.parametrize("role", [INCOME_OFFICER, AUDITOR, CASHIER, SYSTEM_ADMINISTRATOR])
def test_other_roles_are_refused_every_screen(client, council, ivr, role):
    client.force_login(staff(council, roles=[role], username="someone"))

    for method, url in _urls(ivr):
        assert_permission_denied(getattr(client, method)(url, card_provider_post()))
    ivr.refresh_from_db()
    assert (ivr.is_enabled, ivr.api_key_hash, ivr.title) == (True, "", "Automated telephone line")


def test_another_councils_integration_answers_404_and_is_left_alone(admin_client, other_council):
    theirs = integration(other_council, plugin="test_ivr", settings={"line_name": "0300"})

    for method, url in _urls(theirs)[3:]:
        assert getattr(admin_client, method)(url, card_provider_post()).status_code == 404, url
    theirs.refresh_from_db()
    assert (theirs.is_enabled, theirs.api_key_hash, theirs.title) == (True, "", "Test Ivr")
