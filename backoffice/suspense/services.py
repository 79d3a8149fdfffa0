"""Suspense items: recording them as they arrive, allocating them by rule or by hand, notes.

Every move out of suspense is a journal of the ledger, from the suspense
fund to the fund the money belongs to, on the item's payment line, so that
the ledger's own checks apply (only what is still on the line can move).

- A rule's journal is posted at once, whatever its amount, in the name of
  the finance administrator who switched the rule on: the rule is that
  person's standing decision, made after its dry run, and its journals are
  limited to moving one item's money to the one fund and valid reference
  found for it. The allocation records the rule and why.
- A person's allocation follows the council's approval limit: if the item's
  amount is above it, every part waits for a second person (approving or
  rejecting each is the ledger's journal approval), so that splitting an
  item cannot slip under the limit.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from backoffice.funds.models import FundCode
from backoffice.ledger.models import Journal, JournalStatus
from backoffice.ledger.services import (  # the ledger's own checks and posting of a journal
    _check_journal,
    _check_line,
    _journal_post,
    insert_rows,
)
from backoffice.money import format_pence
from backoffice.payments.models import PaymentLine

from .models import (
    FUND_CHOICES,
    SuspenseAllocation,
    SuspenseItem,
    SuspenseNote,
    SuspenseRule,
    SuspenseRuleAction,
    SuspenseRuleCondition,
)
from .rules import Lookups, decide, enabled_rules
from .selectors import item_amounts

logger = logging.getLogger(__name__)


# Arrival ------------------------------------------------------------------------------------


def _source(payment) -> str:
    return payment.provider or payment.method


def _insert_items_sql() -> str:
    item, line = SuspenseItem._meta, PaymentLine._meta
    quote = connection.ops.quote_name
    columns = {
        "organisation": f"l.{quote(line.get_field('organisation').column)}",
        "payment_line": f"l.{quote(line.pk.column)}",
        "reference": f"l.{quote(line.get_field('account_reference').column)}",
        "narrative": f"l.{quote(line.get_field('narrative').column)}",
        "payer_name": "%s",
        "channel": "%s",
        "source": "%s",
        "intended_fund_code": f"l.{quote(line.get_field('intended_fund_code').column)}",
        "reason": f"l.{quote(line.get_field('suspense_reason').column)}",
        "amount_pence": f"l.{quote(line.get_field('net_pence').column)}",
        "paid_pence": f"l.{quote(line.get_field('gross_pence').column)}",
        "received_at": "%s",
        "last_run_outcome": "''",
    }
    names = ", ".join(quote(item.get_field(name).column) for name in columns)
    # Only names from the models and placeholders go into the text: values are parameters.
    return (
        f"INSERT INTO {quote(item.db_table)} ({names}) "  # noqa: S608
        f"SELECT {', '.join(columns.values())} FROM {quote(line.db_table)} l "
        f"WHERE l.{quote(line.get_field('payment').column)} = %s "
        f"AND l.{quote(line.get_field('intended_fund_code').column)} IS NOT NULL"
    )


def suspense_items_record(*, payment) -> None:
    """A suspense item for each line of a taken ``payment`` that went to suspense.

    In the caller's transaction, in one statement (the lines are read by the
    database, not fetched), and only for a payment that has such lines. Once
    the payment commits, the rules are run on the new items in the
    background (``tasks.allocate_arrivals_task``): a slow rule or department
    never slows taking a payment.
    """
    received_at = SuspenseItem._meta.get_field("received_at").get_db_prep_save(
        payment.completed_at or timezone.now(), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_items_sql(),
            [
                payment.payer_name[:200],
                payment.channel,
                _source(payment)[:50],
                received_at,
                payment.pk,
            ],
        )
    transaction.on_commit(partial(_allocate_arrivals_later, payment.pk), robust=True)


def _allocate_arrivals_later(payment_id: int) -> None:
    from .tasks import allocate_arrivals_task

    allocate_arrivals_task.enqueue(payment_id)


# Journals out of suspense -------------------------------------------------------------------


def _locked_item(item: SuspenseItem) -> SuspenseItem:
    return (
        SuspenseItem.objects.select_for_update(of=("self",))
        .select_related("payment_line__fund_code", "intended_fund_code", "organisation")
        .get(pk=item.pk)
    )


def _journal(*, item, fund: FundCode, amount_pence: int, reason: str, requested_by) -> Journal:
    """A journal of the item's money from suspense to ``fund``, checked as the ledger checks
    any journal of a line's money (and the line locked), not yet posted.

    The ledger's own checks and posting, as ``journal_request`` uses them: an
    allocation is a journal like any other; only who decides when it posts differs.
    """
    line = item.payment_line
    _check_journal(
        organisation=item.organisation,
        from_fund_code=line.fund_code,
        to_fund_code=fund,
        amount_pence=amount_pence,
        reason=reason,
    )
    _check_line(line, from_fund_code=line.fund_code, amount_pence=amount_pence)
    journal = Journal(
        organisation=item.organisation,
        from_fund_code=line.fund_code,
        to_fund_code=fund,
        amount_pence=amount_pence,
        reason=reason,
        payment_line=line,
        requested_by=requested_by,
        status=JournalStatus.PENDING_APPROVAL,
    )
    insert_rows([journal])
    return journal


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "nobody"


# Allocation by the rules --------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """What the rules did with one item: the allocation they made, or why they made none."""

    item: SuspenseItem
    allocation: SuspenseAllocation | None
    explanation: str


def allocate_suspense(*, item: SuspenseItem, lookups=None, rules=None) -> RunOutcome:
    """Try the council's switched-on rules on ``item``; move its money only if they are sure.

    The item's money moves when the rules find exactly one fund and valid
    reference (``rules.decide``): the whole open amount, with one journal
    posted at once (see the module's docstring). Otherwise nothing moves,
    and the item keeps why, for the person who allocates it.

    The rules are read, and the departments asked, before the item is
    locked; the move is then made only if the item still has that money open.
    """
    organisation = item.organisation
    lookups = lookups or Lookups(organisation)
    rules = enabled_rules(organisation) if rules is None else rules
    item = SuspenseItem.objects.select_related("intended_fund_code").get(pk=item.pk)
    decision = decide(item, rules, lookups)
    with transaction.atomic():
        locked = _locked_item(item)
        open_pence = item_amounts(locked).open_pence
        deciding = decision.deciding
        # Read again under the item's lock: a rule switched off meanwhile moves nothing.
        rule = (
            SuspenseRule.objects.select_related("enabled_by")
            .filter(pk=deciding.rule.pk, is_enabled=True)
            .first()
            if deciding is not None
            else None
        )
        allocation = None
        if open_pence <= 0:
            explanation = "Nothing is left in suspense to allocate."
        elif deciding is None:
            explanation = decision.explanation()
        elif rule is None:
            explanation = f"Rule '{deciding.rule.name}' was switched off while it ran."
        else:
            explanation = deciding.explanation()
            allocation = _allocate_by_rule(
                item=locked,
                rule=rule,
                found=deciding.found,
                amount_pence=open_pence,
                explanation=explanation,
            )
        locked.last_run_at = timezone.now()
        locked.last_run_outcome = "" if allocation is not None else explanation
        locked.save(update_fields=["last_run_at", "last_run_outcome"])
    return RunOutcome(locked, allocation, explanation)


def _allocate_by_rule(
    *, item, rule, found, amount_pence: int, explanation: str
) -> SuspenseAllocation:
    person = rule.enabled_by
    journal = _journal(
        item=item,
        fund=found.fund,
        amount_pence=amount_pence,
        reason=f"Suspense item {item.pk} ({item.reference or 'no reference'}): {explanation}",
        requested_by=person,
    )
    switched_on = timezone.localtime(rule.enabled_at) if rule.enabled_at else None
    _journal_post(
        journal,
        decided_by=person,
        note=f"Posted by the suspense rule '{rule.name}', switched on by {_person(person)}"
        + (f" on {switched_on:%d %B %Y}" if switched_on else "")
        + ": a switched-on rule posts at once.",
    )
    return SuspenseAllocation.objects.create(
        organisation=item.organisation,
        item=item,
        fund_code=found.fund,
        reference=found.reference,
        amount_pence=amount_pence,
        journal=journal,
        rule=rule,
        rule_name=rule.name,
        allocated_by=person,
        explanation=explanation,
    )


@dataclass(frozen=True)
class RunReport:
    tried: int
    allocated: int
    allocated_pence: int
    failed: int = 0

    @property
    def left(self) -> int:
        return self.tried - self.allocated


def suspense_run_rules(*, organisation, items=None) -> RunReport:
    """Run the switched-on rules on ``items`` (default: every open item of the council).

    Each item is allocated in a transaction of its own, so that one item's
    problem (a journal the ledger refuses) leaves the others' moves in place.
    """
    from .selectors import open_items

    items = list(open_items(organisation) if items is None else items)
    if not items:
        return RunReport(tried=0, allocated=0, allocated_pence=0)
    lookups = Lookups(organisation)
    rules = enabled_rules(organisation)
    allocated = allocated_pence = failed = 0
    for item in items:
        try:
            outcome = allocate_suspense(item=item, lookups=lookups, rules=rules)
        except ValidationError:
            logger.exception("The suspense rules could not allocate item %s.", item.pk)
            failed += 1
            continue
        if outcome.allocation is not None:
            allocated += 1
            allocated_pence += outcome.allocation.amount_pence
    return RunReport(
        tried=len(items), allocated=allocated, allocated_pence=allocated_pence, failed=failed
    )


# Allocation by a person ---------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a person's allocation: where, to which reference, and how much."""

    fund_code: FundCode
    reference: str
    amount_pence: int


def _checked_parts(item, parts) -> list[tuple[Part, str]]:
    """Each part with its reference as its fund's rule reads it; every problem raised at once."""
    errors, checked = [], []
    for number, part in enumerate(parts, start=1):
        where = f"Part {number}" if len(parts) > 1 else "The allocation"
        fund = part.fund_code
        if fund.organisation_id != item.organisation_id:
            errors.append(f"{where}: {fund.code} belongs to another council.")
            continue
        if fund.is_suspense:
            errors.append(f"{where}: choose the fund the money belongs to, not suspense.")
            continue
        if not fund.is_active:
            errors.append(f"{where}: {fund.code} is not active: money cannot be moved to it.")
            continue
        if not isinstance(part.amount_pence, int) or part.amount_pence <= 0:
            errors.append(f"{where}: the amount must be more than £0.00.")
            continue
        check = fund.check_reference(part.reference or "")
        if not check.is_valid:
            errors.append(
                f"{where}: {part.reference!r} is not a valid {fund.code} reference: "
                f"{check.problems[0].message}"
            )
            continue
        checked.append((part, check.reference))
    if errors:
        raise ValidationError(errors, code="allocation_parts")
    return checked


def suspense_allocate(*, item: SuspenseItem, parts, note: str, allocated_by) -> list:
    """A person allocates an item: to one fund and reference, or split across several.

    The parts must add up to exactly what is still open on the item, each to
    an active fund with a reference valid under its rule. One journal per
    part, all or none; above the council's limit every part waits for a
    second person. The note is kept with the item, the journals and the
    allocations. Returns the allocations.
    """
    parts = list(parts)
    if not parts:
        raise ValidationError("Say where the money goes: at least one fund and amount.")
    if not note or not note.strip():
        raise ValidationError({"note": "Say why the money goes there."})
    note = note.strip()
    from plugins import departments

    checked = _checked_parts(item, parts)
    # Asked before the transaction: a department's system may be slow. What it says is
    # kept with the allocation; a person may know better than a list not yet updated.
    verdicts = [
        departments.reference_verdict(
            organisation=item.organisation, fund_code=part.fund_code, reference=reference
        )
        for part, reference in checked
    ]
    with transaction.atomic():
        locked = _locked_item(item)
        open_pence = item_amounts(locked).open_pence
        if open_pence <= 0:
            raise ValidationError(
                f"{locked} has nothing left to allocate: it has been allocated already.",
                code="nothing_open",
            )
        total = sum(part.amount_pence for part, _ in checked)
        if total != open_pence:
            raise ValidationError(
                f"The parts add up to {format_pence(total)}, but {format_pence(open_pence)} of "
                "this item is in suspense: they must be equal.",
                code="allocation_total",
            )
        organisation = locked.organisation
        needs_approval = open_pence > organisation.journal_approval_threshold_pence
        by = _person(allocated_by)
        allocations = []
        for (part, reference), verdict in zip(checked, verdicts, strict=True):
            journal = _journal(
                item=locked,
                fund=part.fund_code,
                amount_pence=part.amount_pence,
                reason=f"Suspense item {locked.pk} ({locked.reference or 'no reference'}) to "
                f"{part.fund_code.code} {reference}: {note}",
                requested_by=allocated_by,
            )
            if not needs_approval:
                _journal_post(journal, decided_by=allocated_by, note="Within the council's limit.")
            department = ""
            if verdict is not None:
                department = (
                    " The department's records know the reference."
                    if verdict.valid
                    else " The department's records did not know the reference."
                )
            allocations.append(
                SuspenseAllocation.objects.create(
                    organisation=organisation,
                    item=locked,
                    fund_code=part.fund_code,
                    reference=reference,
                    amount_pence=part.amount_pence,
                    journal=journal,
                    allocated_by=allocated_by,
                    explanation=f"Allocated by {by}: {note}{department}",
                )
            )
        what = ", ".join(
            f"{format_pence(part.amount_pence)} to {part.fund_code.code} {reference}"
            for part, reference in checked
        )
        waiting = " (waiting for approval)" if needs_approval else ""
        SuspenseNote.objects.create(
            organisation=organisation,
            item=locked,
            text=f"Allocated {what}{waiting}: {note}",
            written_by=allocated_by,
        )
    return allocations


# Notes and rules ---------------------------------------------------------------------------


def suspense_note_add(*, item: SuspenseItem, text: str, written_by) -> SuspenseNote:
    """Add a note to an item; notes are kept as written."""
    if not text or not text.strip():
        raise ValidationError({"text": "Write the note."})
    return SuspenseNote.objects.create(
        organisation_id=item.organisation_id, item=item, text=text.strip(), written_by=written_by
    )


@transaction.atomic
def suspense_rule_create(
    *, organisation, name: str, description: str = "", conditions=(), actions=(), user=None
) -> SuspenseRule:
    """A new rule, last in the council's order and switched off, with its conditions and actions.

    ``conditions`` and ``actions`` are dicts of their fields, in order; each
    is checked as the admin form checks it, and nothing is written unless
    all pass. For fixtures and imports: in the admin, rules are written by
    its own forms.
    """
    last = SuspenseRule.objects.filter(organisation=organisation).aggregate(last=Max("sort_order"))
    rule = SuspenseRule(
        organisation=organisation,
        name=name,
        description=description,
        sort_order=(last["last"] or 0) + 1,
    )
    rule.full_clean()
    rule.save()
    fund_choices = 0
    for model, rows in ((SuspenseRuleCondition, conditions), (SuspenseRuleAction, actions)):
        for order, fields in enumerate(rows):
            row = model(rule=rule, sort_order=order, **fields)
            row.full_clean(exclude=["rule"])
            if getattr(row, "fund_code_id", None) is not None and (
                row.fund_code.organisation_id != organisation.pk
            ):
                raise ValidationError({"fund_code": f"{row.fund_code.code} is another council's."})
            fund_choices += getattr(row, "kind", None) in FUND_CHOICES
            row.save()
    if fund_choices > 1:
        raise ValidationError("A rule sends the money to one fund: choose its fund once.")
    _log(rule, "wagtail.create", user)
    return rule


def _log(rule: SuspenseRule, action: str, user) -> None:
    from wagtail.log_actions import log

    log(instance=rule, action=action, user=user, content_changed=True)


@transaction.atomic
def suspense_rule_switch_on(*, rule: SuspenseRule, user) -> SuspenseRule:
    """Switch a rule on: from now it moves money in ``user``'s name (see the module's docstring)."""
    rule = SuspenseRule.objects.select_for_update().get(pk=rule.pk)
    if user is None:
        raise ValidationError("A rule is switched on by someone: its journals are in their name.")
    if rule.is_enabled:
        return rule
    rule.is_enabled = True
    rule.enabled_by = user
    rule.enabled_at = timezone.now()
    rule.save(update_fields=["is_enabled", "enabled_by", "enabled_at"])
    _log(rule, "suspense.rule_switched_on", user)
    return rule


@transaction.atomic
def suspense_rule_switch_off(*, rule: SuspenseRule, user) -> SuspenseRule:
    """Switch a rule off: it moves nothing more (what it moved stays moved)."""
    rule = SuspenseRule.objects.select_for_update().get(pk=rule.pk)
    if not rule.is_enabled:
        return rule
    rule.is_enabled = False
    rule.enabled_by = None
    rule.enabled_at = None
    rule.save(update_fields=["is_enabled", "enabled_by", "enabled_at"])
    _log(rule, "suspense.rule_switched_off", user)
    return rule
