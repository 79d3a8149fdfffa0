"""Forms of the transaction screens."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.ledger.forms import ServiceErrorsMixin
from backoffice.money import PoundsFormField


class RefundForm(ServiceErrorsMixin, forms.Form):
    amount = PoundsFormField(
        label=_("Amount to refund"),
        min_value=1,
        help_text=_("In pounds and pence: all that is left, or less for a partial refund."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the refund and its ledger entry, for audit."),
    )
    # Made when the form is first shown and sent back with it, so that a
    # form submitted twice (a double click, a resend) refunds only once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    fields_by_code = {
        "refund_amount": "amount",
        "refund_too_much": "amount",
        "refund_reason": "reason",
    }

    def __init__(self, *args, payment, **kwargs):
        kwargs["initial"] = {
            "amount": payment.refundable_pence,
            "idempotency_key": uuid.uuid4().hex,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
