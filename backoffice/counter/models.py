"""Offices and tills, the till sessions cashiers take payments in, and departmental cash returns.

A till session is one cashier's day (or shift) on one till: every payment
taken in it is a ``payments.Payment`` taken through the payment services,
linked here by a ``SessionPayment`` that keeps what only the counter knows
(cash tendered and change given, the cheque's details, the card terminal's
reference). A departmental cash return is money a department received in the
course of its work, recorded against fund codes and references, and posted
to the ledger only when a finance user other than its submitter authorises
it. Both end up on a paying-in slip (``backoffice.banking``).

Amounts are integer pence. Every state move is recorded with who, when and
a note (``SessionStatusChange``, ``ReturnStatusChange``); rows here are
written only by ``services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from backoffice.money import PenceField, format_pence
from backoffice.tenancy.models import TenantModel


class Denomination(models.IntegerChoices):
    """The notes and coins of sterling, by their value in pence."""

    FIFTY_POUNDS = 5000, "£50 notes"
    TWENTY_POUNDS = 2000, "£20 notes"
    TEN_POUNDS = 1000, "£10 notes"
    FIVE_POUNDS = 500, "£5 notes"
    TWO_POUNDS = 200, "£2 coins"
    ONE_POUND = 100, "£1 coins"
    FIFTY_PENCE = 50, "50p coins"
    TWENTY_PENCE = 20, "20p coins"
    TEN_PENCE = 10, "10p coins"
    FIVE_PENCE = 5, "5p coins"
    TWO_PENCE = 2, "2p coins"
    ONE_PENNY = 1, "1p coins"


# Offices and tills ---------------------------------------------------------------------


class OfficeKind(models.TextChoices):
    CASH_OFFICE = "cash_office", "Cash office"
    CONTACT_CENTRE = "contact_centre", "Contact centre"
    LIBRARY = "library", "Library"
    LEISURE_CENTRE = "leisure_centre", "Leisure centre"
    OTHER = "other", "Other"


class Office(TenantModel):
    """A place where staff take payments: a cash office, contact centre, library..."""

    code = models.SlugField(max_length=30, help_text="A short name, e.g. 'town-hall'.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OfficeKind.choices)
    address = models.TextField(blank=True)
    variance_fund_code = models.ForeignKey(
        "funds.FundCode",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="fund code for cash over and short",
        help_text="Where a till's surplus or shortage is posted, with the cashier's reason, "
        "when a supervisor signs its session off.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="counter_office_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Till(TenantModel):
    """A till (a cash drawer, usually with a card terminal) in an office."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="tills")
    code = models.SlugField(max_length=30, help_text="A short name, e.g. 'town-hall-1'.")
    name = models.CharField(max_length=200, help_text="What cashiers call it, e.g. 'Till 1'.")
    terminal_id = models.CharField(
        "card terminal id",
        max_length=50,
        blank=True,
        help_text="The id of the chip and PIN terminal beside this till, if there is one.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["office__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="counter_till_unique_code"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "office"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.office})"


# Till sessions -------------------------------------------------------------------------


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed, waiting for sign-off"
    SIGNED_OFF = "signed_off", "Signed off, ready for banking"
    BANKED = "banked", "Banked"


# Where each status may go next; status only ever moves forward, through services.
SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.OPEN: frozenset({SessionStatus.CLOSED}),
    SessionStatus.CLOSED: frozenset({SessionStatus.SIGNED_OFF}),
    SessionStatus.SIGNED_OFF: frozenset({SessionStatus.BANKED}),
    SessionStatus.BANKED: frozenset(),
}

COUNTED_SESSION_STATUSES = (SessionStatus.CLOSED, SessionStatus.SIGNED_OFF, SessionStatus.BANKED)


class TillSession(TenantModel):
    """One cashier's session on one till, from opening to banking.

    Counted and expected totals are filled in when the session is closed; the
    variance is counted less expected (negative: the till is short).
    """

    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    expected_cash_pence = PenceField("expected cash", null=True, blank=True)
    expected_cheques_pence = PenceField("expected cheques", null=True, blank=True)
    counted_cash_pence = PenceField("counted cash", null=True, blank=True)
    counted_cheques_pence = PenceField("counted cheques", null=True, blank=True)
    variance_pence = models.BigIntegerField(
        "variance", null=True, blank=True, help_text="Counted less expected: negative is short."
    )
    variance_reason = models.TextField(blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    variance_entry = models.OneToOneField(
        "ledger.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The entry that posted the variance, when there was one.",
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        default_permissions = ("view",)
        permissions = [
            ("open_tillsession", "Can open a till session, take payments in it and close it"),
            ("signoff_tillsession", "Can sign off another cashier's closed till session"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "till"],
                condition=Q(status="open"),
                name="counter_session_one_open_per_till",
                violation_error_message="This till already has an open session.",
            ),
            models.CheckConstraint(
                condition=Q(status="open")
                | (
                    Q(closed_at__isnull=False)
                    & Q(expected_cash_pence__gte=0)
                    & Q(expected_cheques_pence__gte=0)
                    & Q(counted_cash_pence__gte=0)
                    & Q(counted_cheques_pence__gte=0)
                    & Q(
                        variance_pence=F("counted_cash_pence")
                        + F("counted_cheques_pence")
                        - F("expected_cash_pence")
                        - F("expected_cheques_pence")
                    )
                ),
                name="counter_session_closed_is_counted",
            ),
            models.CheckConstraint(
                condition=Q(variance_pence__isnull=True)
                | Q(variance_pence=0)
                | ~Q(variance_reason=""),
                name="counter_session_variance_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed"]) | Q(signed_off_by__isnull=False),
                name="counter_session_signed_off_has_signer",
            ),
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("opened_by")),
                name="counter_session_signer_is_not_cashier",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "opened_at"]),
            models.Index(fields=["organisation", "till", "opened_at"]),
            models.Index(fields=["organisation", "opened_by", "status"]),
        ]

    def __str__(self) -> str:
        if self.opened_at is None:
            return f"{self.till.name}, not yet opened"
        return f"{self.till.name}, {timezone.localtime(self.opened_at):%d/%m/%Y %H:%M}"

    @property
    def expected_pence(self) -> int | None:
        if self.expected_cash_pence is None:
            return None
        return self.expected_cash_pence + self.expected_cheques_pence

    @property
    def counted_pence(self) -> int | None:
        if self.counted_cash_pence is None:
            return None
        return self.counted_cash_pence + self.counted_cheques_pence

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.OPEN


class PaymentKind(models.TextChoices):
    """How the money reached the cashier."""

    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    CARD_TERMINAL = "card_terminal", "Card on the terminal (chip and PIN)"
    CARD_PHONE = "card_phone", "Card over the phone"


# The kinds whose money is in the till, counted at close and banked on a paying-in slip.
KINDS_IN_THE_TILL = (PaymentKind.CASH, PaymentKind.CHEQUE)


class SessionPayment(TenantModel):
    """A payment taken in a till session, with what only the counter knows about it.

    ``amount_pence`` is the payment's total, kept here so that the database
    can check the cash sums (tendered less change is the amount).
    """

    session = models.ForeignKey(TillSession, on_delete=models.PROTECT, related_name="payments")
    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="counter_record"
    )
    kind = models.CharField(max_length=20, choices=PaymentKind.choices)
    amount_pence = PenceField("amount")
    tendered_pence = PenceField("cash tendered", null=True, blank=True)
    change_pence = PenceField("change given", null=True, blank=True)
    cheque_number = models.CharField(max_length=6, blank=True)
    cheque_sort_code = models.CharField(max_length=8, blank=True)
    cheque_drawer = models.CharField(max_length=200, blank=True)
    cheque_in_till = models.BooleanField(
        null=True, blank=True, help_text="For a cheque: whether it was in the till at close."
    )
    terminal_reference = models.CharField(
        max_length=50,
        blank=True,
        help_text="The card terminal's reference for the transaction (never card details).",
    )
    taken_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="counter_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="cash")
                | (
                    Q(change_pence__gte=0) & Q(tendered_pence=F("amount_pence") + F("change_pence"))
                ),
                name="counter_payment_cash_change_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(kind="cheque")
                | (
                    Q(cheque_number__regex=r"^[0-9]{6}$")
                    & Q(cheque_sort_code__regex=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
                    & ~Q(cheque_drawer="")
                ),
                name="counter_payment_cheque_has_details",
            ),
            models.CheckConstraint(
                condition=~Q(kind="card_terminal") | ~Q(terminal_reference=""),
                name="counter_payment_terminal_has_reference",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "session", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.payment} ({self.get_kind_display().lower()})"


class SessionCashCount(TenantModel):
    """How many of one note or coin were counted in the till at close."""

    session = models.ForeignKey(TillSession, on_delete=models.PROTECT, related_name="cash_counts")
    denomination_pence = models.PositiveIntegerField(choices=Denomination.choices)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["-denomination_pence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "session", "denomination_pence"],
                name="counter_session_count_one_per_denomination",
            ),
            models.CheckConstraint(
                condition=Q(denomination_pence__in=Denomination.values),
                name="counter_session_count_is_a_denomination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.get_denomination_pence_display()}"

    @property
    def amount_pence(self) -> int:
        return self.denomination_pence * self.quantity


class SessionStatusChange(TenantModel):
    """Every move of a session: from, to, who, when and their note."""

    session = models.ForeignKey(
        TillSession, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=SessionStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=SessionStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(
        max_length=100, blank=True, help_text="Who moved it when no person did."
    )
    note = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["organisation", "session", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class SessionDraft(TenantModel):
    """The payment a cashier is typing, saved as they type, so that closing the browser or
    losing the connection loses nothing. Holds no card details: none are typed here."""

    session = models.OneToOneField(TillSession, on_delete=models.CASCADE, related_name="draft")
    fields = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Draft payment of {self.session}"


# Departmental cash returns -------------------------------------------------------------


class ReturnStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    AUTHORISED = "authorised", "Authorised"
    VOIDED = "voided", "Voided"
    BANKED = "banked", "Banked"


RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    ReturnStatus.NEW: frozenset({ReturnStatus.IN_PROGRESS, ReturnStatus.VOIDED}),
    ReturnStatus.IN_PROGRESS: frozenset(
        {ReturnStatus.IN_PROGRESS, ReturnStatus.SUBMITTED, ReturnStatus.VOIDED}
    ),
    # Sent back to the department for correction, authorised, or voided.
    ReturnStatus.SUBMITTED: frozenset(
        {ReturnStatus.IN_PROGRESS, ReturnStatus.AUTHORISED, ReturnStatus.VOIDED}
    ),
    ReturnStatus.AUTHORISED: frozenset({ReturnStatus.BANKED}),
    ReturnStatus.VOIDED: frozenset(),
    ReturnStatus.BANKED: frozenset(),
}

# A return's lines and money can be changed only while the department is working on it.
EDITABLE_RETURN_STATUSES = (ReturnStatus.NEW, ReturnStatus.IN_PROGRESS)


class CashReturn(TenantModel):
    """Cash and cheques a department received, against fund codes and references."""

    department = models.ForeignKey(
        "funds.Department", on_delete=models.PROTECT, related_name="cash_returns"
    )
    period = models.CharField(
        max_length=100, blank=True, help_text="What the return covers, e.g. 'Week ending 7 March'."
    )
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.NEW)
    template = models.ForeignKey(
        "ReturnTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorised_at = models.DateTimeField(null=True, blank=True)
    cash_pence = PenceField("cash", default=0)
    cheques_pence = PenceField("cheques", default=0)
    payment = models.OneToOneField(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cash_return",
        help_text="The payment its lines were posted as, once authorised.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        permissions = [
            ("prepare_cashreturn", "Can create, fill in, submit and void their cash returns"),
            ("authorise_cashreturn", "Can authorise, send back or void submitted cash returns"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(cash_pence__gte=0) & Q(cheques_pence__gte=0),
                name="counter_return_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["authorised", "banked"])
                | (Q(payment__isnull=False) & Q(authorised_by__isnull=False)),
                name="counter_return_authorised_has_payment",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=True) | Q(status__in=["authorised", "banked"]),
                name="counter_return_only_authorised_posts",
            ),
            models.CheckConstraint(
                condition=Q(authorised_by__isnull=True) | ~Q(authorised_by=F("submitted_by")),
                name="counter_return_authoriser_is_not_submitter",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "created_at"]),
            models.Index(fields=["organisation", "department", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Cash return {self.pk}"

    @property
    def total_pence(self) -> int:
        return self.cash_pence + self.cheques_pence

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_RETURN_STATUSES

    def total_display(self) -> str:
        return format_pence(self.total_pence)


class ReturnLine(TenantModel):
    """One fund code and reference of a return, and how much was received for it."""

    cash_return = models.ForeignKey(CashReturn, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    fund_code = models.ForeignKey("funds.FundCode", on_delete=models.PROTECT, related_name="+")
    account_reference = models.CharField(max_length=100, blank=True)
    narrative = models.CharField(max_length=255, blank=True)
    amount_pence = PenceField("amount", default=0)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organisation", "cash_return"])]

    def __str__(self) -> str:
        return f"{self.fund_code.code} {self.account_reference}".strip()


class ReturnCashCount(TenantModel):
    """How many of one note or coin a return holds."""

    cash_return = models.ForeignKey(
        CashReturn, on_delete=models.CASCADE, related_name="cash_counts"
    )
    denomination_pence = models.PositiveIntegerField(choices=Denomination.choices)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["-denomination_pence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "cash_return", "denomination_pence"],
                name="counter_return_count_one_per_denomination",
            ),
            models.CheckConstraint(
                condition=Q(denomination_pence__in=Denomination.values),
                name="counter_return_count_is_a_denomination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.get_denomination_pence_display()}"

    @property
    def amount_pence(self) -> int:
        return self.denomination_pence * self.quantity


class ReturnCheque(TenantModel):
    """A cheque a return holds."""

    cash_return = models.ForeignKey(CashReturn, on_delete=models.CASCADE, related_name="cheques")
    cheque_number = models.CharField(max_length=6)
    sort_code = models.CharField(max_length=8)
    drawer = models.CharField(max_length=200)
    amount_pence = PenceField("amount")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0)
                & Q(cheque_number__regex=r"^[0-9]{6}$")
                & Q(sort_code__regex=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}$")
                & ~Q(drawer=""),
                name="counter_return_cheque_has_details",
            ),
        ]

    def __str__(self) -> str:
        return f"Cheque {self.cheque_number} ({self.sort_code})"


class ReturnStatusChange(TenantModel):
    """Every move of a return: from, to, who, when and their note."""

    cash_return = models.ForeignKey(
        CashReturn, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=ReturnStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReturnStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["organisation", "cash_return", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class ReturnTemplate(TenantModel):
    """A department's usual lines, saved from a return, to start the next one from."""

    department = models.ForeignKey(
        "funds.Department", on_delete=models.PROTECT, related_name="return_templates"
    )
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["department__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "department", "name"],
                name="counter_return_template_unique_name",
                violation_error_message="The department already has a template of that name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.department})"


class ReturnTemplateLine(TenantModel):
    template = models.ForeignKey(ReturnTemplate, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    fund_code = models.ForeignKey("funds.FundCode", on_delete=models.PROTECT, related_name="+")
    account_reference = models.CharField(max_length=100, blank=True)
    narrative = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organisation", "template"])]

    def __str__(self) -> str:
        return f"{self.fund_code.code} {self.account_reference}".strip()
