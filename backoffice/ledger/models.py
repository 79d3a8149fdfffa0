"""The ledger: every movement of money as a balanced, append-only journal entry.

Signs: a posting's amount is positive for a debit and negative for a credit,
so every entry sums to zero. Income credits a fund's account: a fund's income
is the negated sum of its postings (``Account.balance_pence`` gives the raw
sum; ``ledger.selectors.fund_income_pence`` the income).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from backoffice.money import PenceField
from backoffice.tenancy.models import TenantModel, TenantQuerySet


class AppendOnlyError(Exception):
    """Ledger rows are never changed or deleted: correct a mistake with a reversing entry."""


class AppendOnlyQuerySet(TenantQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; post a reversal.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only; post a reversal.")

    # Django's bulk_update and update_or_create reach update() above.


class AppendOnlyModel(TenantModel):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only; post a reversal.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only; post a reversal.")


class AccountKind(models.TextChoices):
    FUND = "fund", "Fund income"
    SUSPENSE = "suspense", "Suspense"
    PROVIDER_CLEARING = "provider_clearing", "Payment provider clearing"
    BANK = "bank", "Bank"
    CASH_IN_TRANSIT = "cash_in_transit", "Cash in transit"
    VAT_OUTPUT = "vat_output", "VAT output tax"


# Kinds a council has exactly one account of.
SINGLE_ACCOUNT_KINDS = (AccountKind.BANK, AccountKind.CASH_IN_TRANSIT, AccountKind.VAT_OUTPUT)


class Account(TenantModel):
    """A ledger account: one per fund code, and the council's system accounts."""

    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    code = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    fund_code = models.OneToOneField(
        "funds.FundCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_account",
    )
    provider = models.CharField(
        max_length=50, blank=True, help_text="For a clearing account: the payment provider."
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="ledger_account_unique_code"
            ),
            models.UniqueConstraint(
                fields=["organisation", "kind"],
                condition=Q(kind__in=SINGLE_ACCOUNT_KINDS),
                name="ledger_account_one_per_system_kind",
            ),
            models.UniqueConstraint(
                fields=["organisation", "provider"],
                condition=Q(kind=AccountKind.PROVIDER_CLEARING),
                name="ledger_account_one_clearing_per_provider",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[AccountKind.FUND, AccountKind.SUSPENSE], fund_code__isnull=False
                )
                | (
                    ~Q(kind__in=[AccountKind.FUND, AccountKind.SUSPENSE])
                    & Q(fund_code__isnull=True)
                ),
                name="ledger_account_fund_accounts_have_a_fund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class EntryKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
    JOURNAL = "journal", "Journal"
    REVERSAL = "reversal", "Reversal"
    SUSPENSE_ALLOCATION = "suspense_allocation", "Suspense allocation"
    MIGRATION = "migration", "Imported history"


class JournalEntry(AppendOnlyModel):
    """One movement of money: what, why, who, when, and the object it came from."""

    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    description = models.CharField(max_length=255, help_text="What happened.")
    reason = models.TextField(blank=True, help_text="Why, in the words of whoever asked for it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    is_migration = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["organisation", "created_at"]),
            models.Index(fields=["organisation", "source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return f"Entry {self.pk}: {self.description}"


class Posting(AppendOnlyModel):
    """One line of an entry: an amount on one account (debit positive, credit negative)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_pence = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount_pence=0), name="ledger_posting_amount_not_zero"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "account", "entry"])]

    def __str__(self) -> str:
        side = "DR" if self.amount_pence > 0 else "CR"
        return f"{side} {abs(self.amount_pence)}p {self.account.code}"


class JournalStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Waiting for approval"
    POSTED = "posted", "Posted"
    REJECTED = "rejected", "Rejected"


class Journal(TenantModel):
    """A request to move money from one fund code to another, with its reason and approval."""

    from_fund_code = models.ForeignKey(
        "funds.FundCode", on_delete=models.PROTECT, related_name="journals_out"
    )
    to_fund_code = models.ForeignKey(
        "funds.FundCode", on_delete=models.PROTECT, related_name="journals_in"
    )
    amount_pence = PenceField("amount")
    reason = models.TextField()
    payment_line = models.ForeignKey(
        "payments.PaymentLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journals",
        help_text="The payment line whose money is moved, where there is one.",
    )
    status = models.CharField(max_length=20, choices=JournalStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="journal"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("request_journal", "Can request a journal between fund codes"),
            ("approve_journal", "Can approve or reject another person's journal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="ledger_journal_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(from_fund_code=models.F("to_fund_code")),
                name="ledger_journal_between_different_funds",
            ),
            models.CheckConstraint(
                condition=Q(status="posted", entry__isnull=False) | ~Q(status="posted"),
                name="ledger_journal_posted_has_entry",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "requested_at"])]

    def __str__(self) -> str:
        return f"Journal {self.pk}: {self.from_fund_code.code} to {self.to_fund_code.code}"
