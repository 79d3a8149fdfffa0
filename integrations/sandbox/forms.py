"""The card form of the sandbox's card page, with an error message for each way it can be wrong."""

import re

from django import forms
from django.utils import timezone

from . import services


def _digits(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


class CardForm(forms.Form):
    """What a payer types on a provider's card page. Only test cards are accepted."""

    card_number = forms.CharField(
        label="Card number",
        max_length=30,
        error_messages={"required": "Enter the card number"},
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    expiry_month = forms.CharField(
        label="Month",
        max_length=2,
        error_messages={"required": "Enter the expiry month"},
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-month", "inputmode": "numeric"}),
    )
    expiry_year = forms.CharField(
        label="Year",
        max_length=4,
        error_messages={"required": "Enter the expiry year"},
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-year", "inputmode": "numeric"}),
    )
    name_on_card = forms.CharField(
        label="Name on card",
        max_length=100,
        error_messages={"required": "Enter the name as it is written on the card"},
        widget=forms.TextInput(attrs={"autocomplete": "cc-name", "spellcheck": "false"}),
    )
    security_code = forms.CharField(
        label="Card security code",
        max_length=4,
        error_messages={"required": "Enter the card security code"},
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )

    def clean_card_number(self):
        number = _digits(self.cleaned_data["card_number"])
        if not number.isdigit():
            raise forms.ValidationError("Card number must only include numbers 0 to 9")
        return services.recognise_card(number).number

    def clean_expiry_month(self):
        month = self.cleaned_data["expiry_month"]
        if not re.fullmatch(r"[0-9]{1,2}", month) or not 1 <= int(month) <= 12:
            raise forms.ValidationError("Enter the expiry month as a number from 1 to 12, like 09")
        return int(month)

    def clean_expiry_year(self):
        year = self.cleaned_data["expiry_year"]
        if not re.fullmatch(r"[0-9]{2}|[0-9]{4}", year):
            raise forms.ValidationError("Enter the expiry year as 2 or 4 numbers, like 29 or 2029")
        return int(year) + 2000 if len(year) == 2 else int(year)

    def clean_security_code(self):
        code = self.cleaned_data["security_code"]
        if not re.fullmatch(r"[0-9]{3,4}", code):
            raise forms.ValidationError(
                "Enter the card security code: the last 3 numbers on the back of the card "
                "(4 on the front of an American Express card)"
            )
        return code

    def clean(self):
        cleaned = super().clean()
        month, year = cleaned.get("expiry_month"), cleaned.get("expiry_year")
        if month and year:
            today = timezone.localdate()
            # A card is valid to the end of its expiry month.
            if (year, month) < (today.year, today.month):
                self.add_error("expiry_month", "The card has expired: check the expiry date")
        return cleaned
