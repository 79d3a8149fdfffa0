"""A card payment provider plugin, for the tests: a settings form with secrets and validation."""

import re

from django import forms

from backoffice.funds.models import FundCode
from plugins import hookimpl
from plugins.forms import PluginSettingsForm
from plugins.types import PluginInfo, PluginKind, ProviderStart, SecretField


class OptionalSecretField(SecretField):
    needed_to_enable = False


class CardProviderSettingsForm(PluginSettingsForm):
    merchant_id = forms.CharField(
        label="Merchant id", help_text="The provider's id for the council, like acct_123."
    )
    fund_code = forms.ModelChoiceField(
        label="Fund for unmatched payments", queryset=FundCode.objects.none(), required=False
    )
    api_key = SecretField(label="API key")
    webhook_secret = OptionalSecretField(label="Webhook signing secret")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the council's own fund codes are offered.
        self.fields["fund_code"].queryset = FundCode.objects.filter(organisation=self.organisation)

    def clean_merchant_id(self):
        merchant_id = self.cleaned_data["merchant_id"]
        if not re.fullmatch(r"acct_[a-z0-9]+", merchant_id):
            raise forms.ValidationError(
                "Enter the merchant id the provider gave you, like acct_123."
            )
        return merchant_id


@hookimpl
def ims_plugin_info():
    """A payment provider whose API key must be entered before it is enabled."""
    return PluginInfo(
        name="test_card_provider",
        title="Test card provider",
        kinds=(PluginKind.PAYMENT_PROVIDER,),
        description="Takes card payments on its hosted page (tests only).",
        settings_form=CardProviderSettingsForm,
        version="2.1",
    )


@hookimpl
def ims_provider_start(integration, payment, return_url):
    """Pretend to start a payment: the hosted page's address is made up, nothing is called."""
    merchant = integration.config["merchant_id"]
    return ProviderStart(
        next_url=f"https://pay.provider.example/{merchant}/{payment.pk}",
        provider_reference=f"test-{payment.pk}",
    )
