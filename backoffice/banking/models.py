"""Paying-in slips: the cash and cheques of till sessions and cash returns, taken to the bank.

A slip gathers signed-off till sessions and authorised cash returns; its
money sits in the ledger's cash in transit account until the slip is marked
banked (by a person now, by the bank reconciliation later), which moves it
to the bank account.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backoffice.money import PenceField
from backoffice.tenancy.models import Organisation, TenantModel


class SlipStatus(models.TextChoices):
    PREPARED = "prepared", "Prepared, waiting for the bank"
    BANKED = "banked", "Banked"
    CANCELLED = "cancelled", "Cancelled"


class PayingInSlip(TenantModel):
    """One deposit of cash and cheques at the bank, with its unique number."""

    number = models.CharField(max_length=20)
    status = models.CharField(
        max_length=20, choices=SlipStatus.choices, default=SlipStatus.PREPARED
    )
    cash_pence = PenceField("cash")
    cheques_pence = PenceField("cheques")
    total_pence = PenceField("total")
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    banked_on = models.DateField(null=True, blank=True, help_text="The day the bank took it.")
    banked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    banked_actor = models.CharField(
        max_length=100,
        blank=True,
        help_text="What marked it banked when no person did, e.g. the bank reconciliation.",
    )
    banked_at = models.DateTimeField(null=True, blank=True)
    bank_reference = models.CharField(
        max_length=100, blank=True, help_text="How the deposit appears on the bank statement."
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    entry = models.OneToOneField(
        "ledger.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The entry that moved the money from cash in transit to the bank.",
    )

    class Meta:
        ordering = ["-prepared_at", "-pk"]
        default_permissions = ("view",)
        permissions = [
            ("prepare_payinginslip", "Can gather sessions and returns on a paying-in slip"),
            ("bank_payinginslip", "Can mark a paying-in slip banked, or cancel it"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="banking_slip_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(cash_pence__gte=0)
                & Q(cheques_pence__gte=0)
                & Q(total_pence=F("cash_pence") + F("cheques_pence")),
                name="banking_slip_total_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(status="banked")
                | (Q(banked_on__isnull=False) & Q(banked_at__isnull=False)),
                name="banking_slip_banked_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="banked") | Q(total_pence=0) | Q(entry__isnull=False),
                name="banking_slip_banked_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="banking_slip_cancelled_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "prepared_at"])]

    def __str__(self) -> str:
        return f"Paying-in slip {self.number}"


class PayingInSlipItem(TenantModel):
    """A till session or a cash return on a slip, and the money it brings.

    An item stays with a cancelled slip, released, so that the session or
    return can go on another; while not released it is on one slip only.
    """

    slip = models.ForeignKey(PayingInSlip, on_delete=models.PROTECT, related_name="items")
    till_session = models.ForeignKey(
        "counter.TillSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="slip_items",
    )
    cash_return = models.ForeignKey(
        "counter.CashReturn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="slip_items",
    )
    cash_pence = PenceField("cash")
    cheques_pence = PenceField("cheques")
    is_released = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(till_session__isnull=False, cash_return__isnull=True)
                | Q(till_session__isnull=True, cash_return__isnull=False),
                name="banking_item_is_a_session_or_a_return",
            ),
            models.CheckConstraint(
                condition=Q(cash_pence__gte=0) & Q(cheques_pence__gte=0),
                name="banking_item_amounts_not_negative",
            ),
            models.UniqueConstraint(
                fields=["organisation", "till_session"],
                condition=Q(is_released=False, till_session__isnull=False),
                name="banking_item_session_on_one_slip",
            ),
            models.UniqueConstraint(
                fields=["organisation", "cash_return"],
                condition=Q(is_released=False, cash_return__isnull=False),
                name="banking_item_return_on_one_slip",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "slip"])]

    def __str__(self) -> str:
        return str(self.till_session or self.cash_return)

    @property
    def total_pence(self) -> int:
        return self.cash_pence + self.cheques_pence


class SlipSequence(models.Model):
    """The last paying-in slip number a council issued; its row is locked to issue the next."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    last_number = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organisation}: {self.last_number}"
