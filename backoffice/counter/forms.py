"""Forms of the counter screens: taking a payment, counting a till, and cash returns.

Forms read and check what was typed; the services decide and write.
"""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.ledger.forms import ServiceErrorsMixin
from backoffice.money import PoundsFormField
from plugins import departments

from . import selectors
from .models import Denomination, PaymentKind, ReturnTemplate

# Open a session -----------------------------------------------------------------------


class OpenSessionForm(forms.Form):
    till = forms.ModelChoiceField(
        label=_("Till"),
        queryset=None,
        empty_label=None,
        help_text=_("Tills with a session already open are not listed."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["till"].queryset = selectors.tills_free_to_open(organisation)


# Take a payment ------------------------------------------------------------------------


class ReceiptChoice:
    PRINT = "print"
    EMAIL = "email"
    NONE = "none"
    CHOICES = [
        (PRINT, _("Print")),
        (EMAIL, _("Email it to the payer")),
        (NONE, _("None: the payer did not want one")),
    ]


class TakePaymentForm(ServiceErrorsMixin, forms.Form):
    """One payment at the till. Fields are in the order a cashier works: how much, for what,
    how paid, then who and the receipt; Enter in any field takes the payment."""

    amount = PoundsFormField(
        label=_("Amount"),
        min_value=1,
        help_text=_("In pounds and pence, e.g. 12.50."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    fund_code = forms.ModelChoiceField(
        label=_("Fund"), queryset=None, empty_label=_("Choose a fund")
    )
    account_reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The account, invoice or notice number being paid."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    accept_suspense = forms.BooleanField(
        label=_("Take it into suspense"),
        required=False,
        help_text=_(
            "The money is in hand: it is kept in suspense until someone matches the reference."
        ),
    )
    kind = forms.ChoiceField(
        label=_("How they paid"),
        widget=forms.RadioSelect,
        initial=PaymentKind.CASH,
    )
    tendered = PoundsFormField(
        label=_("Cash handed over"),
        required=False,
        help_text=_("Leave blank if they gave the exact amount; the change is worked out."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cheque_number = forms.CharField(
        label=_("Cheque number"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    cheque_sort_code = forms.CharField(
        label=_("Sort code"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    cheque_drawer = forms.CharField(
        label=_("Drawer (who wrote the cheque)"), max_length=200, required=False
    )
    terminal_reference = forms.CharField(
        label=_("Card terminal reference"),
        max_length=50,
        required=False,
        help_text=_("From the terminal's receipt. Never write down card numbers."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    provider = forms.ChoiceField(label=_("Take the card through"), required=False)
    payer_name = forms.CharField(label=_("Payer's name"), max_length=200, required=False)
    payer_email = forms.EmailField(label=_("Payer's email"), required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=10, required=False)
    receipt = forms.ChoiceField(
        label=_("Receipt"),
        choices=ReceiptChoice.CHOICES,
        widget=forms.RadioSelect,
        initial=ReceiptChoice.PRINT,
    )
    # Made when the form is first shown and kept with the draft, so that a form
    # sent again (a double press, a resend after a lost connection) takes one payment.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    fields_by_code = {
        "tendered": "tendered",
        "cheque": "cheque_number",
        "terminal_reference": "terminal_reference",
        "provider": "provider",
    }

    def __init__(self, *args, organisation, phone_providers=(), **kwargs):
        initial = {"idempotency_key": uuid.uuid4().hex, **(kwargs.pop("initial", None) or {})}
        super().__init__(*args, initial=initial, **kwargs)
        self.organisation = organisation
        self.reference_problem = ""
        self.fields["fund_code"].queryset = selectors.till_fund_codes(organisation)
        kinds = [(value, label) for value, label in PaymentKind.choices]
        if not phone_providers:
            kinds = [choice for choice in kinds if choice[0] != PaymentKind.CARD_PHONE]
            del self.fields["provider"]
        else:
            self.fields["provider"].choices = [
                (integration.key, integration.title) for integration in phone_providers
            ]
            self.fields["provider"].initial = phone_providers[0].key
        self.fields["kind"].choices = kinds

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == PaymentKind.CHEQUE:
            for name in ("cheque_number", "cheque_sort_code", "cheque_drawer"):
                if not data.get(name):
                    self.add_error(name, _("Needed for a cheque."))
        if kind == PaymentKind.CARD_TERMINAL and not data.get("terminal_reference"):
            self.add_error("terminal_reference", _("Needed for a card payment on the terminal."))
        if kind == PaymentKind.CARD_PHONE and not data.get("provider"):
            self.add_error("provider", _("Choose the payment provider."))
        if kind == PaymentKind.CASH:
            tendered, amount = data.get("tendered"), data.get("amount")
            if tendered is not None and amount is not None and tendered < amount:
                self.add_error("tendered", _("Less than the amount being paid."))
        if data.get("receipt") == ReceiptChoice.EMAIL and not data.get("payer_email"):
            self.add_error("payer_email", _("Give the payer's email to email the receipt to."))
        self._check_reference(data)
        return data

    def _check_reference(self, data):
        """The reference checked as a payer's online would be; where it fails, the cashier
        corrects it or, the money being in hand, takes it into suspense knowingly."""
        fund = data.get("fund_code")
        if fund is None:
            return
        check = fund.check_reference(data.get("account_reference", ""))
        if check.is_valid:
            verdict = departments.reference_verdict(
                organisation=self.organisation, fund_code=fund, reference=check.reference
            )
            if verdict is None or verdict.valid:
                return
            problem = verdict.reason or _("The department does not know this reference.")
        else:
            problem = check.problems[0].message
        self.reference_problem = problem
        if not data.get("accept_suspense"):
            self.add_error(
                "account_reference",
                ValidationError(
                    _("%(problem)s Correct it, or tick 'Take it into suspense'.")
                    % {"problem": problem},
                    code="bad_reference",
                ),
            )


# Counting the till ---------------------------------------------------------------------


def denomination_field_name(denomination: int) -> str:
    return f"count_{denomination}"


class DenominationsMixin:
    """A whole-number field per note and coin; ``cash_counts()`` gives denomination -> count."""

    def add_denomination_fields(self, initial=None):
        initial = initial or {}
        for denomination, label in Denomination.choices:
            self.fields[denomination_field_name(denomination)] = forms.IntegerField(
                label=label,
                min_value=0,
                required=False,
                initial=initial.get(denomination),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "step": 1}),
            )

    def denomination_fields(self):
        return [self[denomination_field_name(value)] for value in Denomination.values]

    def cash_counts(self) -> dict[int, int]:
        return {
            value: self.cleaned_data.get(denomination_field_name(value)) or 0
            for value in Denomination.values
        }


class CloseSessionForm(DenominationsMixin, ServiceErrorsMixin, forms.Form):
    cheques_in_till = forms.MultipleChoiceField(
        label=_("Cheques in the till"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick any cheque that is not there."),
    )
    variance_reason = forms.CharField(
        label=_("Reason for any difference"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed if the count differs from what was taken."),
    )

    fields_by_code = {"variance_reason": "variance_reason", "cheques": "cheques_in_till"}

    def __init__(self, *args, cheque_records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_denomination_fields()
        choices = [
            (
                str(record.pk),
                f"{record.cheque_number} · {record.cheque_sort_code} · {record.cheque_drawer} · "
                f"{record.payment.receipt_number}",
            )
            for record in cheque_records
        ]
        self.fields["cheques_in_till"].choices = choices
        self.fields["cheques_in_till"].initial = [value for value, _label in choices]
        if not choices:
            del self.fields["cheques_in_till"]

    def cheque_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data.get("cheques_in_till", [])]


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, note_required=False, note_help="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
        if note_help:
            self.fields["note"].help_text = note_help


class ReceiptEmailForm(forms.Form):
    to_email = forms.EmailField(label=_("Email address"))


# Cash returns --------------------------------------------------------------------------


class StartReturnForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=None)
    template = forms.ModelChoiceField(
        label=_("Start from template"),
        queryset=None,
        required=False,
        empty_label=_("No template: an empty return"),
        help_text=_("The department's usual lines, saved from an earlier return."),
    )
    period = forms.CharField(
        label=_("Period"),
        max_length=100,
        required=False,
        help_text=_("What the return covers, e.g. 'Week ending 7 March'."),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        departments_ = selectors.return_departments(request)
        self.fields["department"].queryset = departments_
        self.fields["template"].queryset = (
            ReturnTemplate.objects.filter(
                organisation=request.organisation, is_active=True, department__in=departments_
            )
            .select_related("department")
            .order_by("department__name", "name")
        )

    def clean(self):
        data = super().clean()
        template, department = data.get("template"), data.get("department")
        if (
            template is not None
            and department is not None
            and template.department_id != department.pk
        ):
            self.add_error("template", _("That template is another department's."))
        return data


class ReturnLineForm(forms.Form):
    fund_code = forms.ModelChoiceField(label=_("Fund"), queryset=None)
    account_reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    narrative = forms.CharField(label=_("Description"), max_length=255, required=False)
    amount = PoundsFormField(label=_("Amount"), required=False, min_value=0)

    def __init__(self, *args, fund_codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund_code"].queryset = fund_codes


class ReturnChequeForm(forms.Form):
    cheque_number = forms.CharField(label=_("Cheque number"), max_length=6)
    sort_code = forms.CharField(label=_("Sort code"), max_length=8)
    drawer = forms.CharField(label=_("Drawer"), max_length=200)
    amount = PoundsFormField(label=_("Amount"), min_value=1)


ReturnLineFormSet = forms.formset_factory(ReturnLineForm, extra=3, can_delete=True)
ReturnChequeFormSet = forms.formset_factory(ReturnChequeForm, extra=2, can_delete=True)


class ReturnMoneyForm(DenominationsMixin, ServiceErrorsMixin, forms.Form):
    period = forms.CharField(label=_("Period"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Anything finance should know; kept in the return's history."),
    )

    def __init__(self, *args, cash_counts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_denomination_fields(cash_counts)


class SaveTemplateForm(forms.Form):
    name = forms.CharField(
        label=_("Template name"),
        max_length=100,
        help_text=_("A template of the same name is replaced."),
    )
