from django import forms

from backoffice.tenancy.forms import TenantAdminForm

from .models import ZERO_PERCENT_CATEGORIES, Channel, VatCategory


class FundCodeForm(TenantAdminForm):
    allowed_channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The ways this fund may be paid.",
    )


class VatRateForm(TenantAdminForm):
    def clean(self):
        cleaned_data = super().clean()
        category = cleaned_data.get("category")
        formset = self.formsets["periods"]
        # The parent form is cleaned before its formsets; clean them now to see the percentages.
        if not formset.is_valid():
            return cleaned_data
        periods = [
            form.cleaned_data
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if category in ZERO_PERCENT_CATEGORIES:
            if any(period["percentage"] != 0 for period in periods):
                self.add_error(
                    "category",
                    f"{VatCategory(category).label} is always 0%: remove the other percentages.",
                )
        elif category and not periods:
            self.add_error("category", "Add the percentage in force and the date it applies from.")
        return cleaned_data


class TryReferenceForm(forms.Form):
    reference = forms.CharField(
        max_length=100,
        label="Try a reference",
        help_text="Type a reference to see whether this rule accepts it, and if not, why.",
    )
