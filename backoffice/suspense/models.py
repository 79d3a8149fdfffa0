"""Suspense: money whose reference could not be matched, the rules that clear it, and who did.

A ``SuspenseItem`` is a payment line posted to the suspense fund. It is never
changed to say where its money went: each move out of suspense is a journal
of the ledger (``SuspenseAllocation`` points at it), so what an item still
holds is always read from its line and its journals (``with_amounts``).
"""

import contextlib
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from backoffice.funds.models import Channel
from backoffice.ledger.models import Journal, JournalStatus
from backoffice.money import PenceField, format_pence, parse_pounds
from backoffice.tenancy.models import TenantModel, TenantQuerySet


class ItemStatus(models.TextChoices):
    OPEN = "open", "In suspense"
    AWAITING_APPROVAL = "awaiting_approval", "Allocated, waiting for approval"
    CLEARED = "cleared", "Cleared"


def _journalled(status: str):
    """The sum of the item's line's journals in ``status`` (0 when none)."""
    return Coalesce(
        Subquery(
            Journal.objects.filter(payment_line=OuterRef("payment_line"), status=status)
            .order_by()
            .values("payment_line")
            .annotate(total=Sum("amount_pence"))
            .values("total")
        ),
        Value(0),
    )


class SuspenseItemQuerySet(TenantQuerySet):
    def with_amounts(self):
        """Each item with what its line still holds in suspense, worked out from the ledger.

        ``held_pence``: the line's net, less the net refunded and the journals
        posted out of suspense (what the suspense account holds for it);
        ``pending_pence``: journals waiting for approval; ``open_pence``: held
        less pending, what is still to be allocated.
        """
        return (
            self.annotate(
                posted_pence=_journalled(JournalStatus.POSTED),
                pending_pence=_journalled(JournalStatus.PENDING_APPROVAL),
            )
            .annotate(
                held_pence=F("amount_pence")
                - (F("payment_line__refunded_pence") - F("payment_line__refunded_vat_pence"))
                - F("posted_pence"),
            )
            .annotate(open_pence=F("held_pence") - F("pending_pence"))
        )

    def in_status(self, status: str):
        """Items of one ``ItemStatus``; call on ``with_amounts()``."""
        if status == ItemStatus.OPEN:
            return self.filter(open_pence__gt=0)
        if status == ItemStatus.AWAITING_APPROVAL:
            return self.filter(open_pence__lte=0, pending_pence__gt=0)
        return self.filter(open_pence__lte=0, pending_pence=0)


class SuspenseItem(TenantModel):
    """A payment line posted to suspense: as it arrived, and why it could not be matched.

    Written once, when its payment is taken (``services.suspense_items_record``);
    afterwards only the rules' last verdict on it changes.
    """

    payment_line = models.OneToOneField(
        "payments.PaymentLine", on_delete=models.PROTECT, related_name="suspense_item"
    )
    reference = models.CharField(
        max_length=100, blank=True, help_text="The reference exactly as the payer gave it."
    )
    narrative = models.CharField(max_length=255, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source = models.CharField(
        max_length=50,
        blank=True,
        help_text="The payment provider that took the money, or how it was paid without one.",
    )
    intended_fund_code = models.ForeignKey(
        "funds.FundCode",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="fund the payer meant",
    )
    reason = models.CharField(max_length=255, help_text="Why the line went to suspense.")
    amount_pence = PenceField(
        "amount", help_text="What went into suspense: the line's net (the VAT is posted apart)."
    )
    paid_pence = PenceField("paid", help_text="What the payer paid for the line, VAT included.")
    received_at = models.DateTimeField()
    last_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When the suspense rules last looked at the item."
    )
    last_run_outcome = models.TextField(
        blank=True, help_text="Why the rules left the item in suspense, the last time they ran."
    )

    objects = SuspenseItemQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]
        permissions = [("allocate_suspenseitem", "Can allocate a suspense item to fund codes")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gte=0) & Q(paid_pence__gt=0),
                name="suspense_item_amounts_positive",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "received_at"])]

    def __str__(self) -> str:
        return f"Suspense item {self.pk}: {self.reference or '(no reference)'}"


class SuspenseNote(TenantModel):
    """A note on an item by a member of staff: kept, never edited."""

    item = models.ForeignKey(SuspenseItem, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"Note on {self.item}"


# Rules ------------------------------------------------------------------------------------


class SuspenseRule(TenantModel, ClusterableModel):
    """A finance administrator's rule for clearing suspense: when it applies, and what it does.

    Rules are tried in order (``sort_order``) on every item that arrives and
    whenever someone asks. A rule only moves money once switched on, which
    is done from its dry run, by a named person; editing a rule switches it off.
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    sort_order = models.IntegerField(null=True, blank=True, editable=False)
    is_enabled = models.BooleanField("switched on", default=False, editable=False)
    enabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="switched on by",
    )
    enabled_at = models.DateTimeField("switched on at", null=True, blank=True, editable=False)

    sort_order_field = "sort_order"

    class Meta:
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="suspense_rule_unique_name"
            ),
            # The journals a rule posts are in the name of whoever switched it on.
            models.CheckConstraint(
                condition=Q(is_enabled=False) | Q(enabled_by__isnull=False),
                name="suspense_rule_enabled_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConditionField(models.TextChoices):
    REFERENCE = "reference", "Reference"
    NARRATIVE = "narrative", "Narrative"
    AMOUNT = "amount", "Amount paid"
    PAYER_NAME = "payer_name", "Payer's name"
    CHANNEL = "channel", "Channel"
    SOURCE = "source", "Source"
    INTENDED_FUND = "intended_fund", "Fund the payer meant (its code)"


class Operator(models.TextChoices):
    EQUALS = "equals", "equals"
    CONTAINS = "contains", "contains"
    STARTS_WITH = "starts_with", "starts with"
    ENDS_WITH = "ends_with", "ends with"
    MATCHES = "matches", "matches the regular expression"
    GREATER_THAN = "greater_than", "is more than"
    LESS_THAN = "less_than", "is less than"
    IS_BLANK = "is_blank", "is blank"


NEGATED = {
    Operator.EQUALS: "does not equal",
    Operator.CONTAINS: "does not contain",
    Operator.STARTS_WITH: "does not start with",
    Operator.ENDS_WITH: "does not end with",
    Operator.MATCHES: "does not match the regular expression",
    Operator.GREATER_THAN: "is not more than",
    Operator.LESS_THAN: "is not less than",
    Operator.IS_BLANK: "is not blank",
}

TEXT_OPERATORS = frozenset(
    {
        Operator.EQUALS,
        Operator.CONTAINS,
        Operator.STARTS_WITH,
        Operator.ENDS_WITH,
        Operator.MATCHES,
        Operator.IS_BLANK,
    }
)
AMOUNT_OPERATORS = frozenset({Operator.EQUALS, Operator.GREATER_THAN, Operator.LESS_THAN})


class SuspenseRuleCondition(Orderable):
    """One test of an item. Conditions in the same group must all hold; any one group will do."""

    rule = ParentalKey(SuspenseRule, on_delete=models.CASCADE, related_name="conditions")
    group = models.PositiveSmallIntegerField(
        default=1,
        help_text="Conditions with the same group number must all hold (AND); the rule applies "
        "when any one group holds (OR).",
    )
    field = models.CharField(max_length=20, choices=ConditionField.choices)
    negate = models.BooleanField("not", default=False, help_text="Holds when the test fails.")
    operator = models.CharField(max_length=20, choices=Operator.choices)
    value = models.CharField(
        max_length=200,
        blank=True,
        help_text="Text is compared ignoring capitals; an amount in pounds, e.g. 12.50.",
    )

    class Meta(Orderable.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(group__gte=1), name="suspense_condition_group"),
        ]

    def __str__(self) -> str:
        return describe_condition(self)

    def clean(self):
        errors = {}
        if self.field == ConditionField.AMOUNT:
            if self.operator not in AMOUNT_OPERATORS:
                errors["operator"] = (
                    "An amount can only be compared: equals, is more than or is less than."
                )
            else:
                try:
                    parse_pounds(self.value)
                except ValueError as error:
                    errors["value"] = str(error)
        elif self.operator not in TEXT_OPERATORS:
            errors["operator"] = "Only an amount can be more or less than a value."
        elif self.operator == Operator.MATCHES:
            try:
                re.compile(self.value)
            except re.error as error:
                errors["value"] = f"The regular expression is not valid: {error}."
        elif self.operator != Operator.IS_BLANK and not self.value.strip():
            errors["value"] = "Give the text to compare with, or choose 'is blank'."
        if (
            not errors
            and self.field == ConditionField.CHANNEL
            and self.operator == Operator.EQUALS
            and self.value.strip().lower() not in Channel.values
        ):
            errors["value"] = "A channel is one of: " + ", ".join(Channel.values) + "."
        if errors:
            raise ValidationError(errors)


def describe_condition(condition) -> str:
    """The condition in words, e.g. 'Reference starts with "REF"'."""
    label = ConditionField(condition.field).label if condition.field else "?"
    operator = Operator(condition.operator).label if condition.operator else "?"
    if condition.negate:
        operator = NEGATED.get(condition.operator, f"not {operator}")
    if condition.operator == Operator.IS_BLANK:
        return f"{label} {operator}"
    value = condition.value
    if condition.field == ConditionField.AMOUNT:
        with contextlib.suppress(ValueError):
            value = format_pence(parse_pounds(value))
    else:
        value = f'"{value}"'
    return f"{label} {operator} {value}"


class ActionKind(models.TextChoices):
    REMOVE_CHARACTERS = "remove_characters", "Remove characters"
    STRIP_PREFIX = "strip_prefix", "Remove a prefix"
    ADD_PREFIX = "add_prefix", "Add a missing prefix"
    PAD = "pad", "Pad to a length"
    REPLACE = "replace", "Replace (fix a known typing pattern)"
    FROM_NARRATIVE = "from_narrative", "Take the reference from the narrative"
    SET_FUND = "set_fund", "Use this fund"
    FIND_FUND = "find_fund", "Find the fund whose reference rule accepts it"
    CORRECT_ONE_EDIT = "correct_one_edit", "Correct one typing error, by the check digit"
    LOOK_UP = "look_up", "Confirm it with the department's records"


# Which actions change the reference (in their order), and which choose where it goes.
TRANSFORMS = frozenset(
    {
        ActionKind.REMOVE_CHARACTERS,
        ActionKind.STRIP_PREFIX,
        ActionKind.ADD_PREFIX,
        ActionKind.PAD,
        ActionKind.REPLACE,
        ActionKind.FROM_NARRATIVE,
    }
)
FUND_CHOICES = frozenset({ActionKind.SET_FUND, ActionKind.FIND_FUND})


class SuspenseRuleAction(Orderable):
    """One step of a rule: reference transforms apply in order, then the fund and checks."""

    rule = ParentalKey(SuspenseRule, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField("action", max_length=20, choices=ActionKind.choices)
    value = models.CharField(
        max_length=200,
        blank=True,
        help_text="Remove characters: the characters (blank: spaces and punctuation). Remove a "
        "prefix: prefixes separated by commas. Add a prefix: the prefix. Pad: the character "
        "(blank: 0). Replace and take from the narrative: a regular expression.",
    )
    replacement = models.CharField(
        max_length=100, blank=True, help_text="Replace: what each match becomes (\\1 for a group)."
    )
    length = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Pad: the length to pad the reference to."
    )
    fund_code = models.ForeignKey(
        "funds.FundCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Use this fund: the fund the money goes to.",
    )

    def __str__(self) -> str:
        return describe_action(self)

    def clean(self):
        errors = {}
        kind = self.kind
        if kind in (ActionKind.REPLACE, ActionKind.FROM_NARRATIVE):
            if not self.value:
                errors["value"] = "Give the regular expression to look for."
            else:
                try:
                    pattern = re.compile(self.value)
                except re.error as error:
                    errors["value"] = f"The regular expression is not valid: {error}."
                else:
                    if kind == ActionKind.REPLACE:
                        try:
                            pattern.sub(self.replacement, "")
                        except re.error as error:
                            errors["replacement"] = f"The replacement is not valid: {error}."
        elif kind in (ActionKind.STRIP_PREFIX, ActionKind.ADD_PREFIX):
            if not self.value.strip():
                errors["value"] = "Give the prefix."
            elif kind == ActionKind.STRIP_PREFIX and any(
                not prefix.strip() for prefix in self.value.split(",")
            ):
                errors["value"] = "One of the prefixes is blank: separate them with single commas."
        elif kind == ActionKind.PAD:
            if not self.length:
                errors["length"] = "Give the length to pad the reference to."
            if len(self.value) > 1:
                errors["value"] = "Pad with one character (blank for 0)."
        elif kind == ActionKind.SET_FUND:
            if self.fund_code_id is None:
                errors["fund_code"] = "Choose the fund the money goes to."
            elif self.fund_code.is_suspense:
                errors["fund_code"] = "Money cannot be moved from suspense to suspense."
        if kind != ActionKind.SET_FUND and self.fund_code_id is not None:
            errors["fund_code"] = "Only 'Use this fund' takes a fund."
        if errors:
            raise ValidationError(errors)


def describe_action(action) -> str:
    """The action in words, e.g. 'Remove a prefix: REF, A/C'."""
    kind = ActionKind(action.kind)
    if kind == ActionKind.REMOVE_CHARACTERS:
        return f"Remove {action.value!r}" if action.value else "Remove spaces and punctuation"
    if kind in (ActionKind.STRIP_PREFIX, ActionKind.ADD_PREFIX):
        return f"{kind.label}: {action.value}"
    if kind == ActionKind.PAD:
        return f"Pad on the left with {action.value or '0'} to {action.length} characters"
    if kind == ActionKind.REPLACE:
        return f"Replace /{action.value}/ with {action.replacement!r}"
    if kind == ActionKind.FROM_NARRATIVE:
        return f"Take the reference from the narrative: /{action.value}/"
    if kind == ActionKind.SET_FUND:
        return f"Use fund {action.fund_code.code}" if action.fund_code_id else kind.label
    return kind.label


# Allocations ----------------------------------------------------------------------------------


class SuspenseAllocation(TenantModel):
    """Money moved out of suspense: which fund and reference, by which rule or person, and why.

    The move itself is the ``journal``: posted at once by a rule, or as any
    journal is when a person allocates (waiting for approval above the
    council's limit; a rejected journal moves nothing).
    """

    item = models.ForeignKey(SuspenseItem, on_delete=models.PROTECT, related_name="allocations")
    fund_code = models.ForeignKey("funds.FundCode", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=100)
    amount_pence = PenceField("amount")
    journal = models.OneToOneField(
        Journal, on_delete=models.PROTECT, related_name="suspense_allocation"
    )
    rule = models.ForeignKey(
        SuspenseRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="allocations",
        help_text="The rule that made it, if a rule did.",
    )
    rule_name = models.CharField(
        max_length=100, blank=True, help_text="The rule's name then, kept if it is deleted."
    )
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person who allocated it; for a rule, the person who switched it on.",
    )
    explanation = models.TextField(help_text="Why this fund and reference.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="suspense_allocation_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "fund_code", "created_at"])]

    def __str__(self) -> str:
        return f"{format_pence(self.amount_pence)} of {self.item} to {self.fund_code.code}"

    @property
    def by_rule(self) -> bool:
        return bool(self.rule_name)
