"""Forms of the receipt screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.ledger.forms import ServiceErrorsMixin


class ReceiptEmailForm(ServiceErrorsMixin, forms.Form):
    to_email = forms.EmailField(
        label=_("Send to"),
        help_text=_("The payer's email address is filled in if the payment has one."),
    )

    fields_by_code = {"invalid_email": "to_email"}
