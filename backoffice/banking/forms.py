"""Forms of the paying-in slip screens."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.counter.models import CashReturn, TillSession
from backoffice.ledger.forms import ServiceErrorsMixin
from backoffice.money import format_pence


class SessionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}, {obj.till.office}: {format_pence(obj.counted_pence)}"


class ReturnChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}, {obj.department}: {format_pence(obj.total_pence)}"


class PrepareSlipForm(ServiceErrorsMixin, forms.Form):
    sessions = SessionChoiceField(
        label=_("Till sessions signed off"),
        queryset=TillSession.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cash_returns = ReturnChoiceField(
        label=_("Cash returns authorised"),
        queryset=CashReturn.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, sessions, cash_returns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = TillSession.objects.filter(
            pk__in=[session.pk for session in sessions]
        ).select_related("till__office")
        self.fields["cash_returns"].queryset = CashReturn.objects.filter(
            pk__in=[cash_return.pk for cash_return in cash_returns]
        ).select_related("department")
        self.fields["sessions"].initial = [session.pk for session in sessions]
        self.fields["cash_returns"].initial = [cash_return.pk for cash_return in cash_returns]

    def clean(self):
        data = super().clean()
        if not data.get("sessions") and not data.get("cash_returns"):
            raise forms.ValidationError(_("Choose at least one till session or cash return."))
        return data


class BankSlipForm(ServiceErrorsMixin, forms.Form):
    banked_on = forms.DateField(
        label=_("Banked on"),
        initial=timezone.localdate,
        help_text=_("The day the bank took the deposit, e.g. 07/03/2025."),
    )
    bank_reference = forms.CharField(
        label=_("Bank reference"),
        max_length=100,
        required=False,
        help_text=_("How the deposit shows on the bank statement, if you know it."),
    )


class CancelSlipForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
