"""Reads of suspense: items and what they still hold, suggestions for a person, the ageing."""

import datetime
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from backoffice.funds.models import FundCode
from backoffice.ledger.models import Account, AccountKind, Posting
from backoffice.payments.models import TAKEN_STATUSES, PaymentLine
from backoffice.search.scoping import visible_fund_code_ids

from .candidates import has_check_digit, one_edit_away
from .models import ItemStatus, SuspenseAllocation, SuspenseItem, SuspenseRule
from .rules import Lookups, Outcome, RuleVerdict, apply_rule, decide, rules_with


def visible_items(request, queryset=None):
    """The council's items the user may see: all, or those meant for their fund groups' funds.

    The same narrowing as payments (``backoffice.search.scoping``): a person
    whose membership has fund groups sees the items meant for those funds.
    """
    queryset = SuspenseItem.objects.all() if queryset is None else queryset
    queryset = queryset.for_organisation(request.organisation)
    fund_code_ids = visible_fund_code_ids(request)
    if fund_code_ids is None:
        return queryset
    return queryset.filter(intended_fund_code_id__in=sorted(fund_code_ids))


@dataclass(frozen=True)
class Amounts:
    held_pence: int
    pending_pence: int
    open_pence: int

    @property
    def status(self) -> str:
        if self.open_pence > 0:
            return ItemStatus.OPEN
        if self.pending_pence > 0:
            return ItemStatus.AWAITING_APPROVAL
        return ItemStatus.CLEARED


def item_amounts(item: SuspenseItem) -> Amounts:
    """What the item's line still holds in suspense, is waiting for approval, and is open."""
    row = (
        SuspenseItem.objects.filter(pk=item.pk)
        .with_amounts()
        .values("held_pence", "pending_pence", "open_pence")
        .get()
    )
    return Amounts(**row)


def open_items(organisation):
    """The council's items with money still to allocate, oldest first."""
    return (
        SuspenseItem.objects.for_organisation(organisation)
        .with_amounts()
        .in_status(ItemStatus.OPEN)
        .select_related("intended_fund_code")
        .order_by("received_at", "pk")
    )


def suspense_balance_pence(organisation) -> int:
    """What the council's suspense account holds: the credit balance, as a positive amount."""
    total = Posting.objects.filter(
        organisation=organisation, account__kind=AccountKind.SUSPENSE
    ).aggregate(total=Sum("amount_pence"))["total"]
    return -(total or 0)


def suspense_account(organisation) -> Account | None:
    return Account.objects.filter(organisation=organisation, kind=AccountKind.SUSPENSE).first()


# Suggestions for a person -------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A fund and reference the item's money may belong to, and why it is suggested."""

    fund_code: object
    reference: str
    why: str
    known: bool | None = None  # what the department's records say; None: not asked or no records


def one_edit_suggestions(item: SuspenseItem, lookups: Lookups | None = None) -> list[Suggestion]:
    """Valid references of the fund the payer meant, one typing error from what they typed.

    Only for a fund whose reference rule has a check digit (without one,
    every edit looks valid). The department is asked about each; those it
    says it does not know are left out, those it knows come first.
    """
    lookups = lookups or Lookups(item.organisation)
    fund = lookups.fund(item.intended_fund_code_id)
    rule = fund.reference_rule
    if rule is None or not has_check_digit(rule.spec) or not item.reference.strip():
        return []
    suggestions = []
    for edit in one_edit_away(item.reference, rule.spec):
        verdict = lookups.verdict(fund, edit.reference)
        if verdict is not None and not verdict.valid:
            continue
        known = None if verdict is None else True
        said = "on the department's list" if known else "the department's records do not say"
        suggestions.append(
            Suggestion(fund, edit.reference, f"Valid if {edit.how}; {said}.", known=known)
        )
    return sorted(suggestions, key=lambda suggestion: (suggestion.known is not True,))


def payer_suggestions(item: SuspenseItem, *, limit: int = 5) -> list[Suggestion]:
    """Funds and references the same payer has paid before, same amount first.

    The council's own record of what it was paid: a payer who pays the same
    account every month by bank transfer and mistypes it once is found here.
    Payments into suspense are left out, and so is the item's own payment;
    money allocated out of suspense counts with the reference it was given.
    """
    name = item.payer_name.strip()
    if not name:
        return []
    suspense_line = item.payment_line
    paid = (
        PaymentLine.objects.filter(
            organisation_id=item.organisation_id,
            payment__payer_name__iexact=name,
            payment__status__in=TAKEN_STATUSES,
            intended_fund_code__isnull=True,
            fund_code__is_suspense=False,
        )
        .exclude(payment_id=suspense_line.payment_id)
        .order_by("-payment__completed_at", "-pk")
        .values_list("fund_code", "account_reference", "gross_pence", "payment__completed_at")[:200]
    )
    allocated = (
        SuspenseAllocation.objects.filter(
            organisation_id=item.organisation_id,
            item__payer_name__iexact=name,
            journal__status="posted",
        )
        .exclude(item=item)
        .order_by("-created_at", "-pk")
        .values_list("fund_code", "reference", "item__paid_pence", "created_at")[:200]
    )
    seen: dict[tuple, dict] = {}
    for fund_id, reference, amount, when in [*paid, *allocated]:
        if not reference:
            continue
        entry = seen.setdefault(
            (fund_id, reference), {"times": 0, "same_amount": False, "last": when}
        )
        entry["times"] += 1
        entry["same_amount"] |= amount == item.paid_pence
        if when and (entry["last"] is None or when > entry["last"]):
            entry["last"] = when
    if not seen:
        return []
    funds = FundCode.objects.in_bulk({fund_id for fund_id, _ in seen})
    ordered = sorted(
        seen.items(),
        key=lambda pair: (
            not pair[1]["same_amount"],
            -pair[1]["times"],
            -(pair[1]["last"].timestamp() if pair[1]["last"] else 0),
        ),
    )
    suggestions = []
    for (fund_id, reference), entry in ordered[:limit]:
        times = "once" if entry["times"] == 1 else f"{entry['times']} times"
        amount = " the same amount" if entry["same_amount"] else ""
        last = f", last on {timezone.localtime(entry['last']):%d %b %Y}" if entry["last"] else ""
        suggestions.append(
            Suggestion(
                funds[fund_id],
                reference,
                f"{item.payer_name} paid{amount} to this account {times}{last}.",
            )
        )
    return suggestions


# Ageing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    min_days: int
    max_days: int | None

    def holds(self, days: int) -> bool:
        return days >= self.min_days and (self.max_days is None or days <= self.max_days)

    def received_between(self, today: datetime.date) -> tuple:
        """(from, to) datetimes of arrival for this bucket, either end open (None)."""

        def start_of(day: datetime.date) -> datetime.datetime:
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        newest = start_of(today - datetime.timedelta(days=self.min_days - 1))
        oldest = (
            None
            if self.max_days is None
            else start_of(today - datetime.timedelta(days=self.max_days))
        )
        return oldest, newest


AGE_BUCKETS = (
    AgeBucket("week", "Up to 7 days", 0, 7),
    AgeBucket("month", "8 to 30 days", 8, 30),
    AgeBucket("two_months", "31 to 60 days", 31, 60),
    AgeBucket("quarter", "61 to 90 days", 61, 90),
    AgeBucket("older", "Over 90 days", 91, None),
)


def age_in_days(item: SuspenseItem, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return (today - timezone.localtime(item.received_at).date()).days


def bucket_of(days: int) -> AgeBucket:
    return next(bucket for bucket in AGE_BUCKETS if bucket.holds(days))


@dataclass
class AgeingRow:
    label: str
    counts: list[int]
    amounts: list[int]

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def amount(self) -> int:
        return sum(self.amounts)


def ageing(queryset, today: datetime.date | None = None) -> tuple[list[AgeingRow], AgeingRow]:
    """What is still open, by the fund the payer meant and by age: (rows per fund, total).

    ``queryset`` is the items to report on (the council's, narrowed to what
    the user may see); only what is still open counts, at its open amount.
    """
    today = today or timezone.localdate()
    rows: dict[str, AgeingRow] = {}
    total = AgeingRow("Total", [0] * len(AGE_BUCKETS), [0] * len(AGE_BUCKETS))
    items = (
        queryset.with_amounts()
        .in_status(ItemStatus.OPEN)
        .values_list(
            "intended_fund_code__code", "intended_fund_code__name", "received_at", "open_pence"
        )
    )
    for code, name, received_at, open_pence in items:
        days = (today - timezone.localtime(received_at).date()).days
        index = AGE_BUCKETS.index(bucket_of(max(days, 0)))
        row = rows.setdefault(
            code, AgeingRow(f"{code}: {name}", [0] * len(AGE_BUCKETS), [0] * len(AGE_BUCKETS))
        )
        for target in (row, total):
            target.counts[index] += 1
            target.amounts[index] += open_pence
    return [rows[code] for code in sorted(rows)], total


# A rule's dry run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    item: SuspenseItem
    verdict: RuleVerdict  # what the rule previewed finds for the item
    decided_by: RuleVerdict | None = None  # the earlier rule that settles the item first


@dataclass(frozen=True)
class Preview:
    looked_at: int
    more: bool  # open items beyond those looked at
    moves: list
    ambiguous: list
    no_match: list
    earlier: list

    @property
    def applies_to(self) -> int:
        return len(self.moves) + len(self.ambiguous) + len(self.no_match) + len(self.earlier)


def rule_preview(rule: SuspenseRule, *, limit: int = 500) -> Preview:
    """What ``rule`` would do to the council's open items (oldest ``limit``), writing nothing.

    The rule is tried in its place among the switched-on rules, as it would
    run once switched on: an item an earlier rule settles is shown as such.
    """
    organisation = rule.organisation
    lookups = Lookups(organisation)
    rules = rules_with(rule, organisation)
    items = list(open_items(organisation)[: limit + 1])
    more, items = len(items) > limit, items[:limit]
    found = {Outcome.FOUND: [], Outcome.AMBIGUOUS: [], Outcome.NO_MATCH: []}
    earlier = []
    for item in items:
        decision = decide(item, rules, lookups)
        own = next((verdict for verdict in decision.verdicts if verdict.rule.pk == rule.pk), None)
        if own is not None:
            found[own.outcome].append(PreviewRow(item, own))
            continue
        own = apply_rule(rule, item, lookups)
        if own.outcome != Outcome.NOT_APPLICABLE:
            earlier.append(PreviewRow(item, own, decided_by=decision.verdicts[-1]))
    return Preview(
        looked_at=len(items),
        more=more,
        moves=found[Outcome.FOUND],
        ambiguous=found[Outcome.AMBIGUOUS],
        no_match=found[Outcome.NO_MATCH],
        earlier=earlier,
    )
