from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backoffice.funds.models import Channel
from backoffice.money import PenceField
from backoffice.tenancy.models import Organisation, TenantModel, TenantQuerySet


class Method(models.TextChoices):
    """How the payer paid."""

    CARD = "card", "Card"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    OTHER = "other", "Other"


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Created"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCESS = "success", "Successful"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    ERROR = "error", "Error"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


# Where each status may go next; status only ever moves forward, through services.
TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.CREATED: frozenset(
        {
            PaymentStatus.IN_PROGRESS,
            PaymentStatus.SUCCESS,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELLED,
            PaymentStatus.EXPIRED,
            PaymentStatus.ERROR,
        }
    ),
    PaymentStatus.IN_PROGRESS: frozenset(
        {
            PaymentStatus.SUCCESS,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELLED,
            PaymentStatus.EXPIRED,
            PaymentStatus.ERROR,
        }
    ),
    PaymentStatus.SUCCESS: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.CANCELLED: frozenset(),
    PaymentStatus.EXPIRED: frozenset(),
    PaymentStatus.ERROR: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}

# Statuses in which the council holds the money.
TAKEN_STATUSES = frozenset(
    {PaymentStatus.SUCCESS, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


class PaymentQuerySet(TenantQuerySet):
    def taken(self):
        return self.filter(status__in=TAKEN_STATUSES)


class Payment(TenantModel):
    """Money a payer pays in one go, for one or more things (its lines)."""

    channel = models.CharField(max_length=20, choices=Channel.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    provider = models.CharField(
        max_length=50, blank=True, help_text="The payment provider that took the money, if any."
    )
    provider_reference = models.CharField(max_length=100, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_email = models.EmailField(blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    total_pence = PenceField("total")
    refunded_pence = PenceField("refunded", default=0)
    receipt_number = models.CharField(max_length=30, null=True, blank=True)
    tax_point = models.DateField(help_text="The date VAT is worked out for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A retried request (a till resending, a double click) finds its payment by
    # its key: kept on the payment itself rather than in an IdempotencyRecord,
    # so that taking a payment writes one row fewer and looks nothing up first.
    idempotency_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="The key the request that created the payment came with, if any.",
    )
    idempotency_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of that request's content: a repeat must match it.",
    )

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("refund_payment", "Can refund a payment")]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "receipt_number"], name="payments_payment_unique_receipt"
            ),
            # One payment per key and council (payments without a key have none: NULLs differ).
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                name="payments_payment_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(total_pence__gt=0), name="payments_payment_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_pence__gte=0) & Q(refunded_pence__lte=F("total_pence")),
                name="payments_payment_refund_within_total",
            ),
            models.CheckConstraint(
                condition=Q(receipt_number__isnull=False) | ~Q(status__in=TAKEN_STATUSES),
                name="payments_payment_taken_has_receipt",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "created_at"]),
            models.Index(fields=["organisation", "status", "created_at"]),
            models.Index(fields=["organisation", "provider", "provider_reference"]),
        ]

    def __str__(self) -> str:
        return self.receipt_number or f"Payment {self.pk} ({self.get_status_display().lower()})"

    @property
    def refundable_pence(self) -> int:
        return self.total_pence - self.refunded_pence if self.status in TAKEN_STATUSES else 0


class PaymentLine(TenantModel):
    """One thing paid for: a fund code and reference, with its net, VAT and gross."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines")
    fund_code = models.ForeignKey(
        "funds.FundCode",
        on_delete=models.PROTECT,
        related_name="payment_lines",
        help_text="The fund the money was posted to: the suspense fund for a suspense item.",
    )
    service = models.ForeignKey(
        "funds.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    account_reference = models.CharField(max_length=100, blank=True)
    vat_rate = models.ForeignKey("funds.VatRate", on_delete=models.PROTECT, related_name="+")
    net_pence = PenceField("net")
    vat_pence = PenceField("VAT")
    gross_pence = PenceField("gross")
    refunded_pence = PenceField("refunded", default=0)
    refunded_vat_pence = PenceField("VAT refunded", default=0)
    narrative = models.CharField(max_length=255, blank=True)
    intended_fund_code = models.ForeignKey(
        "funds.FundCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a suspense item: the fund the payer meant to pay.",
    )
    suspense_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(net_pence__gte=0) & Q(vat_pence__gte=0) & Q(gross_pence__gt=0),
                name="payments_line_amounts_positive",
            ),
            models.CheckConstraint(
                condition=Q(gross_pence=F("net_pence") + F("vat_pence")),
                name="payments_line_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(refunded_pence__gte=0)
                & Q(refunded_pence__lte=F("gross_pence"))
                & Q(refunded_vat_pence__gte=0)
                & Q(refunded_vat_pence__lte=F("vat_pence")),
                name="payments_line_refund_within_line",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "fund_code", "payment"])]

    def __str__(self) -> str:
        return f"{self.fund_code.code} {self.account_reference}".strip()

    @property
    def in_suspense(self) -> bool:
        return self.intended_fund_code_id is not None


class StatusChange(TenantModel):
    """Every move of a payment's status: from, to, who and why."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=PaymentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(
        max_length=100,
        blank=True,
        help_text="Who moved it when no person did, e.g. a provider callback.",
    )
    reason = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Sent to the provider"
    SUCCEEDED = "succeeded", "Refunded"
    REJECTED = "rejected", "Rejected by the provider"


class Refund(TenantModel):
    """Money given back to the payer: all or part of a payment, with why and who asked."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = PenceField("amount")
    reason = models.TextField()
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    entry = models.OneToOneField(
        "ledger.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund",
    )
    # As on Payment: a retried refund request finds its refund by the key it came with.
    idempotency_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="The key the request for the refund came with, if any.",
    )
    idempotency_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of that request's content: a repeat must match it.",
    )

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                name="payments_refund_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="succeeded", entry__isnull=False) | ~Q(status="succeeded"),
                name="payments_refund_succeeded_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of {self.payment}"


class ReceiptSequence(models.Model):
    """The last receipt number a council issued; its row is locked to issue the next."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    last_number = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organisation}: {self.last_number}"


class IdempotencyRecord(TenantModel):
    """The first result of a retryable request, so that a repeat returns it and writes nothing.

    For journals and anything else retryable; payments and refunds, written
    far more often, keep their key on their own row (``idempotency_key``).
    """

    scope = models.CharField(max_length=50, help_text="The operation, e.g. 'journal_request'.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's content.")
    result_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "scope", "key"], name="payments_idempotency_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
