"""The sandbox provider's own record of the card payments it was asked to take.

This is the pretend provider's side of a payment, as a real provider keeps
its own: the system's ``Payment`` refers to it by ``provider_reference``.
It holds no card number and no security code; only the card's brand and
last four digits, as a real provider shows them back to a council.
"""

import secrets

from django.db import models
from django.db.models import F, Q

from backoffice.money import PenceField
from backoffice.tenancy.models import TenantModel
from plugins.models import Integration


def new_sandbox_payment_id() -> str:
    """A random id: it is the address of the card page, so it must not be guessable."""
    return f"sbx_{secrets.token_urlsafe(18)}"


class CardPaymentState(models.TextChoices):
    CREATED = "created", "Created"
    STARTED = "started", "Card page opened"
    SUCCESS = "success", "Paid"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled by the payer"
    EXPIRED = "expired", "Expired"


# The payer may still pay while the payment is in one of these states.
OPEN_STATES = (CardPaymentState.CREATED, CardPaymentState.STARTED)


class SandboxPayment(TenantModel):
    """One card payment the sandbox was asked to take, from start to its outcome."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_sandbox_payment_id, editable=False
    )
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="+")
    amount_pence = PenceField("amount")
    description = models.CharField(max_length=255)
    return_url = models.URLField(
        max_length=2000, help_text="Where the payer is sent back to when they finish."
    )
    state = models.CharField(
        max_length=20, choices=CardPaymentState.choices, default=CardPaymentState.CREATED
    )
    is_moto = models.BooleanField(
        "taken by staff over the phone (MOTO)",
        default=False,
        help_text="A member of staff types the card details a caller reads out.",
    )
    card_brand = models.CharField(max_length=20, blank=True)
    card_last_four = models.CharField(max_length=4, blank=True)
    refunded_pence = PenceField("refunded", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="sandbox_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_pence__gte=0) & Q(refunded_pence__lte=F("amount_pence")),
                name="sandbox_payment_refund_within_amount",
            ),
            # Four digits or nothing: never more of the card number than that.
            models.CheckConstraint(
                condition=Q(card_last_four="") | Q(card_last_four__regex=r"^[0-9]{4}$"),
                name="sandbox_payment_only_last_four",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organisation", "integration", "state", "finished_at"],
                name="sandbox_pay_settlement_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Sandbox payment {self.id} ({self.get_state_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
