"""Forms of the suspense screens: a rule with its conditions and actions, an allocation, a note."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from backoffice.funds.models import FundCode
from backoffice.ledger.forms import ServiceErrorsMixin
from backoffice.money import PoundsFormField
from backoffice.tenancy.forms import TenantAdminForm

from .models import FUND_CHOICES, ActionKind


class SuspenseRuleActionForm(WagtailAdminModelForm):
    """One action of a rule: its fund is one of the rule's council's (never the suspense fund)."""

    def __init__(self, *args, organisation_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("fund_code")
        if field is not None:
            field.queryset = FundCode.objects.filter(
                organisation_id=organisation_id, is_suspense=False
            ).order_by("code")


class SuspenseRuleForm(TenantAdminForm):
    """A rule and its conditions and actions, edited together."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = self.formsets.get("actions")
        if actions is not None:
            # Given before any of the formset's forms (its blank template too) is built.
            actions.form_kwargs["organisation_id"] = self.instance.organisation_id

    def clean(self):
        cleaned_data = super().clean()
        actions = self.formsets.get("actions")
        if actions is not None and actions.is_valid():
            kinds = [
                form.cleaned_data.get("kind")
                for form in actions.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
            if sum(kind in FUND_CHOICES for kind in kinds) > 1:
                self.add_error(
                    None,
                    _("A rule sends the money to one fund: use '%(set)s' or '%(find)s', once.")
                    % {"set": ActionKind.SET_FUND.label, "find": ActionKind.FIND_FUND.label},
                )
        return cleaned_data


class AllocationPartForm(forms.Form):
    """One row of a person's allocation; a row left blank is not a part."""

    fund_code = forms.ModelChoiceField(
        label=_("Fund"), queryset=FundCode.objects.none(), required=False
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    amount = PoundsFormField(label=_("Amount"), min_value=1, required=False)

    def __init__(self, *args, organisation_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund_code"].queryset = (
            FundCode.objects.filter(organisation_id=organisation_id, is_suspense=False)
            .active()
            .order_by("code")
        )

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not (data.get("fund_code") or data.get("reference") or data.get("amount"))

    def clean(self):
        cleaned_data = super().clean()
        if self.is_blank:
            return cleaned_data
        if not cleaned_data.get("fund_code"):
            self.add_error("fund_code", _("Choose the fund for this part."))
        if not cleaned_data.get("amount") and "amount" not in self.errors:
            self.add_error("amount", _("Give this part's amount."))
        return cleaned_data


AllocationPartFormSet = forms.formset_factory(AllocationPartForm, extra=0)


class AllocationForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the money goes there: kept with the item, its journals and the ledger."),
    )


class NoteForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label=_("Add a note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the item as written, with your name and the time."),
    )
