"""What a finance administrator may enter for a council's GOV.UK Pay account."""

import pytest

from integrations.govuk_pay.forms import GovukPaySettingsForm
from plugins.models import Integration
from plugins.services import integration_create, settings_form

VALID = {
    "base_url": "https://publicapi.payments.service.gov.uk/",
    "api_key": "api_live_abc",
    "webhook_signing_secret": "webhook_live_def",
    "language": "en",
    "description_template": "{council}: {items}",
}


def form(**changes):
    return GovukPaySettingsForm(data={**VALID, **changes}, organisation=None)


def test_a_complete_form_is_valid():
    filled = form()
    assert filled.is_valid(), filled.errors
    assert filled.cleaned_data["base_url"] == "https://publicapi.payments.service.gov.uk"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"base_url": "http://publicapi.example.gov.uk"}, "base_url", "https://"),
        ({"base_url": "not a url"}, "base_url", "valid URL"),
        ({"base_url": "https://api.example.gov.uk/?x=1"}, "base_url", "without ? or #"),
        ({"description_template": "{ref}"}, "description_template", "Unknown placeholder {ref}"),
        ({"description_template": "{items"}, "description_template", "not valid"),
        ({"description_template": "{items!z}"}, "description_template", "cannot be filled in"),
        ({"language": "fr"}, "language", "valid choice"),
    ],
)
def test_bad_settings_are_refused_saying_why(changes, field, message):
    filled = form(**changes)
    assert not filled.is_valid()
    assert message in " ".join(filled.errors[field])


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:80"]
)
def test_plain_http_is_allowed_only_to_a_copy_of_the_api_on_this_machine(url):
    filled = form(base_url=url)
    assert filled.is_valid(), filled.errors


def test_the_secrets_are_stored_encrypted_and_never_in_the_settings(council):
    filled = settings_form(plugin="govuk_pay", organisation=council, data=VALID)
    assert filled.is_valid(), filled.errors

    integration = integration_create(
        organisation=council,
        plugin="govuk_pay",
        key="govuk-pay",
        title="GOV.UK Pay",
        settings=filled.cleaned_data,
        is_enabled=True,
    )

    stored = Integration.objects.get(pk=integration.pk)
    assert "api_key" not in stored.settings
    assert "webhook_signing_secret" not in stored.settings
    assert "api_live_abc" not in stored.secrets_encrypted
    assert stored.config["api_key"] == "api_live_abc"
    assert stored.secret_names == ["api_key", "webhook_signing_secret"]


def test_it_can_be_enabled_without_a_webhook_secret_but_not_without_an_api_key(council):
    from django.core.exceptions import ValidationError

    without_webhooks = {**VALID, "webhook_signing_secret": ""}
    integration_create(
        organisation=council,
        plugin="govuk_pay",
        key="govuk-pay",
        title="GOV.UK Pay",
        settings=without_webhooks,
        is_enabled=True,
    )
    with pytest.raises(ValidationError, match="Enter API key"):
        integration_create(
            organisation=council,
            plugin="govuk_pay",
            key="govuk-pay-2",
            title="GOV.UK Pay (parking)",
            settings={**VALID, "api_key": ""},
            is_enabled=True,
        )
