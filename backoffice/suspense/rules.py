"""Reading suspense rules: whether one applies to an item, and where it would send the money.

Nothing here writes. ``decide`` tries the rules in order and says which one
found exactly one fund and valid reference (the only case in which money
moves), and why every rule it tried did or did not; ``services`` posts the
journal, and the dry run (``preview``) shows the same verdicts without
posting anything.

A rule that applies either finds exactly one (fund, reference), which
decides the item; finds several, which also ends the search (a later rule
must not guess past an ambiguity, and the item waits for a person); or
finds none, and the next rule is tried.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models

from backoffice.funds.models import FundCode
from backoffice.money import parse_pounds
from plugins import departments

from .candidates import has_check_digit, one_edit_away
from .models import (
    FUND_CHOICES,
    TRANSFORMS,
    ActionKind,
    ConditionField,
    Operator,
    SuspenseItem,
    SuspenseRule,
    describe_action,
)


@dataclass(frozen=True)
class Facts:
    """What conditions are tested on: the item as it arrived."""

    reference: str
    narrative: str
    amount_pence: int
    payer_name: str
    channel: str
    source: str
    intended_fund: str

    @classmethod
    def of(cls, item: SuspenseItem) -> "Facts":
        return cls(
            reference=item.reference,
            narrative=item.narrative,
            amount_pence=item.paid_pence,
            payer_name=item.payer_name,
            channel=item.channel,
            source=item.source,
            intended_fund=item.intended_fund_code.code,
        )

    def text(self, name: str) -> str:
        return getattr(self, name) or ""


def condition_holds(condition, facts: Facts) -> bool:
    """Whether one condition holds for ``facts`` (``negate`` taken into account)."""
    operator = condition.operator
    if condition.field == ConditionField.AMOUNT:
        wanted = parse_pounds(condition.value)
        result = {
            Operator.EQUALS: facts.amount_pence == wanted,
            Operator.GREATER_THAN: facts.amount_pence > wanted,
            Operator.LESS_THAN: facts.amount_pence < wanted,
        }[operator]
    else:
        text = facts.text(condition.field)
        folded, value = text.strip().casefold(), condition.value.strip().casefold()
        if operator == Operator.IS_BLANK:
            result = not folded
        elif operator == Operator.EQUALS:
            result = folded == value
        elif operator == Operator.CONTAINS:
            result = value in folded
        elif operator == Operator.STARTS_WITH:
            result = folded.startswith(value)
        elif operator == Operator.ENDS_WITH:
            result = folded.endswith(value)
        elif operator == Operator.MATCHES:
            result = re.search(condition.value, text, re.IGNORECASE) is not None
        else:
            raise ValueError(f"{operator!r} does not compare text.")
    return result != condition.negate


def rule_applies(conditions, facts: Facts) -> bool:
    """Every condition of any one group holds; a rule without conditions applies to all."""
    groups = defaultdict(list)
    for condition in conditions:
        groups[condition.group].append(condition)
    if not groups:
        return True
    return any(
        all(condition_holds(condition, facts) for condition in group) for group in groups.values()
    )


# Transforming the reference ---------------------------------------------------------------

_LEADING_SEPARATORS = " .:#/-_"


class NothingToTake(ValueError):
    """``from_narrative`` found nothing in the narrative."""


def transform(action, reference: str, facts: Facts) -> str:
    """The reference after one transforming action."""
    kind = action.kind
    if kind == ActionKind.REMOVE_CHARACTERS:
        if not action.value:
            return "".join(character for character in reference if character.isalnum())
        return "".join(character for character in reference if character not in action.value)
    if kind == ActionKind.STRIP_PREFIX:
        text = reference.lstrip()
        # Longest first, so that "CTAX" is taken whole rather than as "CT" and "AX".
        prefixes = sorted((p.strip() for p in action.value.split(",")), key=len, reverse=True)
        for prefix in prefixes:
            if text.upper().startswith(prefix.upper()):
                return text[len(prefix) :].lstrip(_LEADING_SEPARATORS)
        return reference
    if kind == ActionKind.ADD_PREFIX:
        text = reference.strip()
        prefix = action.value.strip()
        return text if text.upper().startswith(prefix.upper()) else prefix + text
    if kind == ActionKind.PAD:
        return reference.strip().rjust(action.length, action.value or "0")
    if kind == ActionKind.REPLACE:
        return re.sub(action.value, action.replacement, reference, flags=re.IGNORECASE)
    if kind == ActionKind.FROM_NARRATIVE:
        match = re.search(action.value, facts.narrative, re.IGNORECASE)
        if match is None:
            raise NothingToTake(f"nothing in the narrative matches /{action.value}/")
        taken = match.group(1) if match.re.groups and match.group(1) is not None else match[0]
        return taken.strip()
    raise ValueError(f"{kind!r} does not transform the reference.")


# What a rule finds --------------------------------------------------------------------------


class Outcome(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "does not apply"
    NO_MATCH = "no_match", "finds nothing"
    FOUND = "found", "finds one fund and reference"
    AMBIGUOUS = "ambiguous", "finds several"


@dataclass(frozen=True)
class Candidate:
    """A fund and valid reference a rule found, with how it got there."""

    fund: FundCode
    reference: str
    how: str = ""  # the typing error corrected, if one was
    department: str = ""  # what the department's records said

    def describe(self) -> str:
        parts = [f"{self.fund.code} {self.reference}"]
        if self.how:
            parts.append(f"if {self.how}")
        if self.department:
            parts.append(self.department)
        return ", ".join(parts)


@dataclass(frozen=True)
class RuleVerdict:
    rule: SuspenseRule
    outcome: str
    candidates: tuple[Candidate, ...] = ()
    steps: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def found(self) -> Candidate | None:
        return self.candidates[0] if self.outcome == Outcome.FOUND else None

    def explanation(self) -> str:
        """Why, in words: kept with an allocation, and shown in the dry run."""
        said = list(self.steps)
        if self.outcome == Outcome.FOUND:
            said.append(f"found {self.candidates[0].describe()}")
        elif self.outcome == Outcome.AMBIGUOUS:
            said.append(
                f"found {len(self.candidates)}, so it moves nothing: "
                + "; ".join(candidate.describe() for candidate in self.candidates)
            )
        elif self.outcome == Outcome.NO_MATCH:
            said.append("found nothing: " + ("; ".join(self.problems) or "no valid reference"))
        else:
            said.append("does not apply")
        return f"Rule '{self.rule.name}': {', '.join(said)}."


class Lookups:
    """The council's funds and its departments' answers, read once per run.

    The departmental systems are asked about each (fund, reference) once,
    however many rules or items ask again.
    """

    def __init__(self, organisation):
        self.organisation = organisation
        self.funds = {
            fund.pk: fund
            for fund in FundCode.objects.filter(organisation=organisation).select_related(
                "reference_rule", "department"
            )
        }
        self._verdicts: dict = {}

    def fund(self, pk: int) -> FundCode:
        return self.funds[pk]

    def funds_with_rules(self) -> list[FundCode]:
        """Active funds (not suspense) whose reference rule could recognise a reference."""
        return [
            fund
            for fund in sorted(self.funds.values(), key=lambda fund: fund.code)
            if fund.is_active and not fund.is_suspense and fund.reference_rule_id is not None
        ]

    def verdict(self, fund: FundCode, reference: str):
        key = (fund.pk, reference)
        if key not in self._verdicts:
            self._verdicts[key] = departments.reference_verdict(
                organisation=self.organisation, fund_code=fund, reference=reference
            )
        return self._verdicts[key]


@dataclass
class _Search:
    """One rule's search for where the money goes."""

    lookups: Lookups
    correct: bool
    look_up: bool
    candidates: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def options(self, fund: FundCode, reference: str, *, one_fund: bool) -> list[tuple[str, str]]:
        """The valid references of ``fund`` this reference could be, with the error corrected."""
        check = fund.check_reference(reference)
        if check.is_valid:
            return [(check.reference, "")]
        rule = fund.reference_rule
        if self.correct and rule is not None and has_check_digit(rule.spec):
            edits = one_edit_away(reference, rule.spec)
            if edits or not one_fund:
                return [(edit.reference, edit.how) for edit in edits]
            self.problems.append(
                f"no valid {fund.code} reference is one typing error away from {reference!r}"
            )
            return []
        if one_fund:
            self.problems.append(
                f"{reference!r} is not a valid {fund.code} reference: {check.problems[0].message}"
            )
        return []

    def consider(self, fund: FundCode, reference: str, how: str) -> None:
        verdict = self.lookups.verdict(fund, reference)
        if verdict is not None and not verdict.valid:
            self.problems.append(f"{fund.code} {reference} is not in the department's records")
            return
        if verdict is None and self.look_up:
            self.problems.append(
                f"no departmental records confirm {fund.code} {reference}"
                if how
                else f"no departmental records to confirm {fund.code} {reference}"
            )
            return
        department = "known to the department" if verdict is not None else ""
        self.candidates.append(Candidate(fund, reference, how, department))


def apply_rule(rule: SuspenseRule, item: SuspenseItem, lookups: Lookups) -> RuleVerdict:
    """What ``rule`` finds for ``item``; the rule's conditions and actions are read as loaded."""
    facts = Facts.of(item)
    if not rule_applies(rule.conditions.all(), facts):
        return RuleVerdict(rule, Outcome.NOT_APPLICABLE)
    actions = list(rule.actions.all())
    kinds = {action.kind for action in actions}
    reference, steps = item.reference, []
    for action in actions:
        if action.kind not in TRANSFORMS:
            continue
        before = reference
        try:
            reference = transform(action, reference, facts)
        except NothingToTake as nothing:
            return RuleVerdict(rule, Outcome.NO_MATCH, steps=tuple(steps), problems=(str(nothing),))
        if reference != before:
            said = describe_action(action)
            steps.append(f"{said[0].lower()}{said[1:]}: {before!r} becomes {reference!r}")

    chosen = next((action for action in actions if action.kind in FUND_CHOICES), None)
    if chosen is not None and chosen.kind == ActionKind.SET_FUND:
        funds = [lookups.fund(chosen.fund_code_id)]
    elif chosen is not None:
        funds = lookups.funds_with_rules()
    else:
        funds = [lookups.fund(item.intended_fund_code_id)]
    search = _Search(
        lookups,
        correct=ActionKind.CORRECT_ONE_EDIT in kinds,
        look_up=ActionKind.LOOK_UP in kinds,
    )
    one_fund = len(funds) == 1
    for fund in funds:
        if not fund.is_active or fund.is_suspense:
            search.problems.append(f"{fund.code} cannot take the money: it is not an active fund")
            continue
        for candidate_reference, how in search.options(fund, reference, one_fund=one_fund):
            search.consider(fund, candidate_reference, how)
    if not one_fund and not search.candidates and not search.problems:
        search.problems.append(f"no fund's reference rule accepts {reference!r}")
    count = len(search.candidates)
    outcome = Outcome.FOUND if count == 1 else Outcome.AMBIGUOUS if count else Outcome.NO_MATCH
    return RuleVerdict(
        rule,
        outcome,
        candidates=tuple(search.candidates),
        steps=tuple(steps),
        problems=tuple(dict.fromkeys(search.problems)),
    )


@dataclass(frozen=True)
class Decision:
    """The rules tried on an item, in order, up to the one that settled it."""

    verdicts: tuple[RuleVerdict, ...]

    @property
    def deciding(self) -> RuleVerdict | None:
        last = self.verdicts[-1] if self.verdicts else None
        return last if last is not None and last.outcome == Outcome.FOUND else None

    def explanation(self) -> str:
        if not self.verdicts:
            return "No rule applies to this item."
        return " ".join(verdict.explanation() for verdict in self.verdicts)


def decide(item: SuspenseItem, rules, lookups: Lookups) -> Decision:
    """Try ``rules`` in order until one finds exactly one answer or several."""
    tried = []
    for rule in rules:
        verdict = apply_rule(rule, item, lookups)
        if verdict.outcome == Outcome.NOT_APPLICABLE:
            continue
        tried.append(verdict)
        if verdict.outcome in (Outcome.FOUND, Outcome.AMBIGUOUS):
            break
    return Decision(tuple(tried))


def enabled_rules(organisation) -> list[SuspenseRule]:
    """The council's switched-on rules, in order, with their conditions and actions."""
    return list(
        SuspenseRule.objects.filter(organisation=organisation, is_enabled=True)
        .select_related("enabled_by")
        .prefetch_related("conditions", "actions")
        .order_by("sort_order", "pk")
    )


def rules_with(rule: SuspenseRule, organisation) -> list[SuspenseRule]:
    """The switched-on rules with ``rule`` among them, in its place: what it would be part of."""
    others = [other for other in enabled_rules(organisation) if other.pk != rule.pk]
    position = (rule.sort_order if rule.sort_order is not None else float("inf"), rule.pk or 0)
    before = [
        other
        for other in others
        if (other.sort_order if other.sort_order is not None else float("inf"), other.pk) < position
    ]
    return [*before, rule, *others[len(before) :]]
