"""Forms for asking for, approving and rejecting journals between fund codes."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.funds.models import FundCode
from backoffice.money import PoundsFormField


class ServiceErrorsMixin:
    """Puts a service's ``ValidationError`` on the form, next to the field it is about.

    Services name fields in their error dicts; where a service raises a plain
    error, ``fields_by_code`` says which field its code belongs to.
    Anything else becomes an error of the whole form.
    """

    fields_by_code: dict[str, str] = {}

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return
        for item in error.error_list:
            field = self.fields_by_code.get(item.code)
            self.add_error(field if field in self.fields else None, item)


class JournalRequestForm(ServiceErrorsMixin, forms.Form):
    to_fund_code = forms.ModelChoiceField(
        label=_("Move to fund"), queryset=FundCode.objects.none(), empty_label=None
    )
    amount_pence = PoundsFormField(label=_("Amount"), min_value=1)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the journal and its ledger entry, for audit."),
    )

    def __init__(self, *args, payment_line, **kwargs):
        kwargs["initial"] = {
            "amount_pence": payment_line.net_pence,
            # A suspense item is usually moved to the fund the payer meant.
            "to_fund_code": payment_line.intended_fund_code_id,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.fields["to_fund_code"].queryset = (
            FundCode.objects.filter(organisation_id=payment_line.organisation_id)
            .active()
            .exclude(pk=payment_line.fund_code_id)
            .order_by("code")
        )


class JournalDecisionForm(ServiceErrorsMixin, forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))], widget=forms.HiddenInput
    )
    decision_note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject: say why, so that the requester can put it right."),
    )
