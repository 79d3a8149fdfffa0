"""The payer's forms, in GOV.UK markup (the page editor's are in ``admin_forms``).

The payer's item form only gathers what was typed: whether it can be paid is
decided by ``items.check_item``, whose messages the form shows against each
field, so the same words appear whether a problem is found on the question
page or again at "Pay".
"""

import re

from django import forms
from django.core.exceptions import ValidationError

from backoffice.branding.forms import GovukForm
from backoffice.money import format_pence

from . import items
from .models import PaymentsHomePage, ServicePage

# The payer's forms -------------------------------------------------------------------------


class ItemForm(GovukForm):
    """The question page: the reference (if the page asks) and the amount (if not fixed)."""

    # No max_length: its message would be Django's; ``items`` says what is too long, in words.
    reference = forms.CharField(required=False, strip=True)
    amount = forms.CharField(
        label="Amount to pay, in pounds",
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "govuk-input--width-10",
                "inputmode": "decimal",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    govuk_field_options = {"amount": {"prefix": "£"}}

    def __init__(self, *args, home: PaymentsHomePage, page: ServicePage, **kwargs):
        self.home = home
        self.page = page
        super().__init__(*args, **kwargs)
        if page.asks_for_reference:
            reference = self.fields["reference"]
            reference.label = page.reference_label
            reference.help_text = page.reference_hint or _example_hint(page)
            reference.required = page.reference_question == "required"
            reference.error_messages["required"] = (
                f"Enter your {items.lower_first(page.reference_label)}"
            )
            reference.widget.attrs.update(
                {
                    "class": "govuk-input--width-20",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "autocapitalize": "characters",
                }
            )
        else:
            del self.fields["reference"]
        if page.is_fixed_price:
            del self.fields["amount"]
        else:
            self.fields["amount"].help_text = _amount_hint(page)
            self.fields["amount"].required = True
            self.fields["amount"].error_messages["required"] = items.AMOUNT_REQUIRED
        self.checked = None

    def clean(self):
        cleaned = super().clean()
        # The fixed price is never a field; a posted one is a tampered form and is refused.
        amount_text = (
            self.data.get("amount") if self.page.is_fixed_price else cleaned.get("amount", "")
        )
        try:
            self.checked = items.check_item(
                home=self.home,
                page=self.page,
                reference=cleaned.get("reference", ""),
                amount_text=amount_text,
            )
        except ValidationError as error:
            for field, messages in error.error_dict.items():
                target = None if field == items.NON_FIELD or field not in self.fields else field
                if target is not None and target in self.errors:
                    continue  # already told, by the field's own check
                for message in messages:
                    self.add_error(target, message)
        return cleaned


def _example_hint(page: ServicePage) -> str:
    fund = page.fund
    rule = fund.reference_rule if fund is not None else None
    if rule is not None and rule.example:
        return f"For example, {rule.example}"
    return ""


def _amount_hint(page: ServicePage) -> str:
    parts = [page.amount_hint] if page.amount_hint else []
    maximum = page.maximum_pence
    if page.minimum_pence > 1 and maximum is not None:
        parts.append(
            f"Enter an amount from {format_pence(page.minimum_pence)} to {format_pence(maximum)}."
        )
    elif page.minimum_pence > 1:
        parts.append(f"Enter an amount of {format_pence(page.minimum_pence)} or more.")
    elif maximum is not None:
        parts.append(f"Enter an amount of up to {format_pence(maximum)}.")
    return " ".join(parts)


# A UK postcode, as Royal Mail writes them (spaces optional); GIR 0AA is the one oddity.
POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})$")


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", value or "").upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


class PayerForm(GovukForm):
    """Who is paying: name and email for the receipt; the address when a fund asks for it."""

    name = forms.CharField(
        label="Full name",
        max_length=200,
        error_messages={"required": "Enter your full name"},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send your receipt to this address.",
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    address_line_1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        error_messages={"required": "Enter address line 1, typically the building and street"},
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line_2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    town = forms.CharField(
        label="Town or city",
        max_length=100,
        error_messages={"required": "Enter town or city"},
        widget=forms.TextInput(
            attrs={"autocomplete": "address-level2", "class": "govuk-!-width-two-thirds"}
        ),
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        error_messages={"required": "Enter postcode"},
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "class": "govuk-input--width-10"}
        ),
    )

    ADDRESS_FIELDS = ("address_line_1", "address_line_2", "town", "postcode")

    def __init__(self, *args, with_address: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_address = with_address
        if not with_address:
            for name in self.ADDRESS_FIELDS:
                del self.fields[name]
        for field in self.fields.values():
            field.error_messages["max_length"] = (
                f"{field.label} must be {field.max_length} characters or fewer"
            )

    def clean_postcode(self):
        postcode = normalise_postcode(self.cleaned_data["postcode"])
        if not POSTCODE.match(postcode):
            raise ValidationError("Enter a full UK postcode, like AA3 1AB", code="postcode")
        return postcode
