"""Suspense rules as a finance administrator writes them: each test, AND and OR, each
transform, and what a rule finds for an item."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.suspense.candidates import one_edit_away
from backoffice.suspense.models import (
    ActionKind,
    ConditionField,
    Operator,
    SuspenseRuleAction,
    SuspenseRuleCondition,
)
from backoffice.suspense.rules import (
    Facts,
    Lookups,
    NothingToTake,
    Outcome,
    apply_rule,
    condition_holds,
    decide,
    rule_applies,
    transform,
)
from tests.factories import FundCodeFactory, suspense_rule

from .conftest import account, mistyped

pytestmark = pytest.mark.django_db

FACTS = Facts(
    reference="Ref 30123 4566",
    narrative="BGC J SMITH COUNCIL TAX 301234566",
    amount_pence=12_50,
    payer_name="Mrs J. Smith",
    channel="bank",
    source="bank_transfer",
    intended_fund="CTAX",
)


def when(field, operator, value="", *, negate=False, group=1):
    return SuspenseRuleCondition(
        field=field, operator=operator, value=value, negate=negate, group=group
    )


# Each test of a condition ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        # equals: the whole text, ignoring capitals and the spaces around it
        (when("payer_name", "equals", "mrs j. smith"), True),
        (when("payer_name", "equals", "  MRS J. SMITH "), True),
        (when("payer_name", "equals", "Mrs J Smith"), False),
        # contains, starts with, ends with: ignoring capitals
        (when("narrative", "contains", "council tax"), True),
        (when("narrative", "contains", "business rates"), False),
        (when("reference", "starts_with", "REF"), True),
        (when("reference", "starts_with", "30123"), False),
        (when("reference", "ends_with", "4566"), True),
        (when("reference", "ends_with", "4567"), False),
        # a regular expression found anywhere, ignoring capitals; ^ and $ anchor it
        (when("reference", "matches", r"\d{5} \d{4}"), True),
        (when("reference", "matches", r"^ref\b"), True),
        (when("reference", "matches", r"^\d+$"), False),
        # blank, and not
        (when("reference", "is_blank"), False),
        (when("reference", "is_blank", negate=True), True),
        (when("narrative", "contains", "rent", negate=True), True),
        # the amount paid, given in pounds
        (when("amount", "equals", "12.50"), True),
        (when("amount", "equals", "12.51"), False),
        (when("amount", "greater_than", "12.49"), True),
        (when("amount", "greater_than", "12.50"), False),
        (when("amount", "less_than", "12.51"), True),
        (when("amount", "less_than", "12.50"), False),
        (when("amount", "less_than", "12.50", negate=True), True),
        # channel, source and the fund the payer meant
        (when("channel", "equals", "bank"), True),
        (when("channel", "equals", "telephone"), False),
        (when("source", "equals", "bank_transfer"), True),
        (when("intended_fund", "equals", "ctax"), True),
        (when("intended_fund", "equals", "NNDR"), False),
    ],
    ids=lambda value: str(value) if isinstance(value, SuspenseRuleCondition) else None,
)
def test_each_test_of_a_condition(condition, holds):
    assert condition_holds(condition, FACTS) is holds


def test_a_blank_field_is_blank_and_contains_nothing():
    facts = Facts("", "", 100, "", "telephone", "card", "CTAX")

    assert condition_holds(when("reference", "is_blank"), facts)
    assert not condition_holds(when("reference", "contains", "3"), facts)
    assert not condition_holds(when("reference", "equals", "x"), facts)


# AND and OR ----------------------------------------------------------------------------------

YES = when("channel", "equals", "bank")
NO = when("channel", "equals", "telephone")


def grouped(*pairs):
    """Conditions with their group numbers: (condition, group)."""
    return [
        SuspenseRuleCondition(
            field=condition.field,
            operator=condition.operator,
            value=condition.value,
            negate=condition.negate,
            group=group,
        )
        for condition, group in pairs
    ]


@pytest.mark.parametrize(
    ("conditions", "applies"),
    [
        ([], True),  # no conditions: every item
        (grouped((YES, 1)), True),
        (grouped((NO, 1)), False),
        # one group: every condition must hold (AND)
        (grouped((YES, 1), (YES, 1)), True),
        (grouped((YES, 1), (NO, 1)), False),
        # several groups: any one will do (OR)
        (grouped((NO, 1), (YES, 2)), True),
        (grouped((NO, 1), (NO, 2)), False),
        # (YES and NO) or (YES and YES)
        (grouped((YES, 1), (NO, 1), (YES, 2), (YES, 2)), True),
        # (YES and NO) or (NO and YES)
        (grouped((YES, 1), (NO, 1), (NO, 2), (YES, 2)), False),
        # group numbers need not follow each other
        (grouped((NO, 3), (YES, 7)), True),
    ],
)
def test_conditions_in_a_group_all_hold_and_any_group_will_do(conditions, applies):
    assert rule_applies(conditions, FACTS) is applies


# Transforming the reference ------------------------------------------------------------------


def do(kind, reference, **fields):
    return transform(SuspenseRuleAction(kind=kind, **fields), reference, FACTS)


@pytest.mark.parametrize(
    ("kind", "reference", "fields", "becomes"),
    [
        ("remove_characters", " 301-234 566. ", {}, "301234566"),
        ("remove_characters", "30/12-34", {"value": "/"}, "3012-34"),
        # the first prefix it starts with (longest first), capitals ignored, then separators
        ("strip_prefix", "CTAX 301234566", {"value": "CT, CTAX"}, "301234566"),
        ("strip_prefix", "ct301234566", {"value": "CT, CTAX"}, "301234566"),
        ("strip_prefix", "  A/C: 301234566", {"value": "REF, A/C"}, "301234566"),
        ("strip_prefix", "301234566", {"value": "REF, A/C"}, "301234566"),
        # a missing prefix, never doubled
        ("add_prefix", "01234565", {"value": "BJ"}, "BJ01234565"),
        ("add_prefix", "bj01234565", {"value": "BJ"}, "bj01234565"),
        # padding on the left, with 0 unless told
        ("pad", "1234", {"length": 8}, "00001234"),
        ("pad", "1234", {"length": 6, "value": "9"}, "991234"),
        ("pad", "123456789", {"length": 8}, "123456789"),
        # a known typing pattern, capitals ignored, groups kept
        ("replace", "3O1234566", {"value": "O", "replacement": "0"}, "301234566"),
        ("replace", "3o1234566", {"value": "O", "replacement": "0"}, "301234566"),
        ("replace", "24 01234 FUL", {"value": r"[\s.-]+", "replacement": "/"}, "24/01234/FUL"),
        ("replace", "9123-45", {"value": r"(\d+)-(\d+)", "replacement": r"\2\1"}, "459123"),
        # from the narrative: the first match, or its first group
        ("from_narrative", "", {"value": r"\d{9}"}, "301234566"),
        ("from_narrative", "", {"value": r"council tax (\d+)"}, "301234566"),
    ],
)
def test_each_transform_of_the_reference(kind, reference, fields, becomes):
    assert do(kind, reference, **fields) == becomes


def test_a_narrative_without_the_pattern_gives_nothing_to_take():
    with pytest.raises(NothingToTake, match="nothing in the narrative matches"):
        do("from_narrative", "", value=r"BJ\d{8}")


# A rule's parts are checked as they are saved -------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"field": "amount", "operator": "contains", "value": "1"}, "operator", "compared"),
        ({"field": "amount", "operator": "equals", "value": "ten"}, "value", "pounds and pence"),
        ({"field": "reference", "operator": "greater_than", "value": "1"}, "operator", "amount"),
        ({"field": "reference", "operator": "matches", "value": "(unclosed"}, "value", "not valid"),
        ({"field": "reference", "operator": "contains", "value": " "}, "value", "is blank"),
        ({"field": "channel", "operator": "equals", "value": "post"}, "value", "bank"),
    ],
)
def test_a_condition_that_cannot_work_is_refused_with_the_reason(fields, field, message):
    with pytest.raises(ValidationError) as refused:
        SuspenseRuleCondition(**fields).clean()

    assert message in " ".join(refused.value.message_dict[field])


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "replace", "value": ""}, "value", "regular expression"),
        ({"kind": "replace", "value": "[a-"}, "value", "not valid"),
        ({"kind": "replace", "value": "(a)", "replacement": r"\2"}, "replacement", "not valid"),
        ({"kind": "from_narrative", "value": ""}, "value", "regular expression"),
        ({"kind": "strip_prefix", "value": " "}, "value", "prefix"),
        ({"kind": "strip_prefix", "value": "REF,,A/C"}, "value", "blank"),
        ({"kind": "add_prefix", "value": ""}, "value", "prefix"),
        ({"kind": "pad", "value": "0"}, "length", "length"),
        ({"kind": "pad", "value": "00", "length": 8}, "value", "one character"),
        ({"kind": "set_fund"}, "fund_code", "Choose the fund"),
    ],
)
def test_an_action_that_cannot_work_is_refused_with_the_reason(fields, field, message):
    with pytest.raises(ValidationError) as refused:
        SuspenseRuleAction(**fields).clean()

    assert message in " ".join(refused.value.message_dict[field])


def test_money_is_never_sent_from_suspense_to_suspense(suspense_fund):
    with pytest.raises(ValidationError, match="suspense to suspense"):
        SuspenseRuleAction(kind="set_fund", fund_code=suspense_fund).clean()


def test_only_use_this_fund_takes_a_fund(ctax):
    with pytest.raises(ValidationError, match="Only 'Use this fund' takes a fund"):
        SuspenseRuleAction(kind="look_up", fund_code=ctax).clean()


def test_a_rule_sends_money_to_one_fund_only(council, ctax):
    with pytest.raises(ValidationError, match="one fund"):
        suspense_rule(
            council,
            name="Two funds",
            actions=[{"kind": "set_fund", "fund_code": ctax}, {"kind": "find_fund"}],
        )


def test_the_choices_read_as_sentences():
    condition = when("amount", "greater_than", "1000", negate=True)
    assert str(condition) == "Amount paid is not more than £1,000.00"
    assert str(when("reference", "is_blank", negate=True)) == "Reference is not blank"
    assert str(SuspenseRuleAction(kind="pad", length=8)) == (
        "Pad on the left with 0 to 8 characters"
    )
    assert ConditionField.AMOUNT.label == "Amount paid"
    assert Operator.MATCHES.label == "matches the regular expression"
    assert ActionKind.CORRECT_ONE_EDIT.label == "Correct one typing error, by the check digit"


# What a rule finds ---------------------------------------------------------------------------


def test_a_rule_that_finds_one_known_reference_finds_it(
    council, ctax, suspense_fund, department, taken
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, mistyped(true))
    rule = suspense_rule(
        council, name="Typo", actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}]
    )

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.FOUND
    assert (verdict.found.fund, verdict.found.reference) == (ctax, true)
    assert "swapped" in verdict.found.how
    assert verdict.found.department == "known to the department"


def test_two_known_references_one_error_away_are_ambiguous(
    council, ctax, suspense_fund, department, taken
):
    typed = "12345675"  # wrong check digit: several references are one digit away
    two = [edit.reference for edit in one_edit_away(typed, ctax.reference_rule.spec)][:2]
    department(CTAX=two)
    item = taken(ctax, typed)
    rule = suspense_rule(
        council, name="Typo", actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}]
    )

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.AMBIGUOUS
    assert {candidate.reference for candidate in verdict.candidates} == set(two)
    assert verdict.found is None
    assert "found 2, so it moves nothing" in verdict.explanation()


def test_confirming_with_the_department_finds_nothing_where_no_department_keeps_records(
    council, ctax, suspense_fund, taken
):
    true = account(ctax, "1234567")
    item = taken(ctax, mistyped(true))
    without = suspense_rule(council, name="Without", actions=[{"kind": "correct_one_edit"}])
    confirmed = suspense_rule(
        council, name="Confirmed", actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}]
    )
    lookups = Lookups(council)

    # Without the department, the check digit alone leaves several.
    assert apply_rule(without, item, lookups).outcome == Outcome.AMBIGUOUS
    verdict = apply_rule(confirmed, item, lookups)
    assert verdict.outcome == Outcome.NO_MATCH
    assert "no departmental records confirm" in verdict.explanation()


def test_find_the_fund_tries_every_fund_whose_rule_accepts_the_reference(
    council, ctax, parking, suspense_fund, department, taken
):
    true = account(ctax, "7654321")
    department(CTAX=[true], PARK=[])
    item = taken(parking, true)  # paid to parking, whose department does not know it
    rule = suspense_rule(
        council, name="Wrong fund", actions=[{"kind": "find_fund"}, {"kind": "look_up"}]
    )

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.FOUND
    assert verdict.found.fund == ctax


def test_two_funds_accepting_the_reference_are_ambiguous_unless_a_department_decides(
    council, ctax, suspense_fund, taken
):
    twin = FundCodeFactory(
        organisation=council,
        code="COURT",
        reference_rule=ctax.reference_rule,
        default_vat_rate=ctax.default_vat_rate,
    )
    item = taken(ctax, "BAD")
    rule = suspense_rule(
        council,
        name="Narrative",
        actions=[
            {"kind": "from_narrative", "value": r"\d{8}"},
            {"kind": "find_fund"},
        ],
    )
    item.narrative = f"PAID {account(ctax, '1111111')}"

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.AMBIGUOUS
    assert {candidate.fund for candidate in verdict.candidates} == {ctax, twin}


def test_use_this_fund_checks_the_reference_against_that_fund(
    council, ctax, parking, suspense_fund, taken
):
    item = taken(ctax, "PCN 123")
    rule = suspense_rule(
        council,
        name="Parking",
        actions=[
            {"kind": "strip_prefix", "value": "PCN"},
            {"kind": "set_fund", "fund_code": parking},
        ],
    )

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.FOUND
    assert (verdict.found.fund, verdict.found.reference) == (parking, "123")
    assert verdict.steps == ("remove a prefix: PCN: 'PCN 123' becomes '123'",)


def test_an_inactive_fund_takes_nothing(council, ctax, parking, suspense_fund, taken):
    item = taken(ctax, "123")
    parking.is_active = False
    parking.save()
    rule = suspense_rule(
        council, name="Parking", actions=[{"kind": "set_fund", "fund_code": parking}]
    )

    verdict = apply_rule(rule, item, Lookups(council))

    assert verdict.outcome == Outcome.NO_MATCH
    assert "PARK cannot take the money: it is not an active fund" in verdict.explanation()


def test_a_rule_whose_conditions_fail_does_not_apply(council, ctax, suspense_fund, taken):
    item = taken(ctax, "123")
    rule = suspense_rule(
        council,
        name="Bank only",
        conditions=[{"field": "channel", "operator": "equals", "value": "bank"}],
    )

    assert apply_rule(rule, item, Lookups(council)).outcome == Outcome.NOT_APPLICABLE


# The rules in order ------------------------------------------------------------------------


def test_rules_are_tried_in_order_until_one_finds_an_answer(
    council, ctax, parking, suspense_fund, department, taken
):
    true = account(ctax, "1234567")
    department(CTAX=[true])
    item = taken(ctax, "REF " + true)
    finds_nothing = suspense_rule(council, name="As given")  # the reference as typed
    strips = suspense_rule(
        council,
        name="Prefix",
        actions=[{"kind": "strip_prefix", "value": "REF"}, {"kind": "look_up"}],
    )
    never_tried = suspense_rule(
        council, name="Anything to parking", actions=[{"kind": "set_fund", "fund_code": parking}]
    )

    decision = decide(item, [finds_nothing, strips, never_tried], Lookups(council))

    assert [verdict.rule for verdict in decision.verdicts] == [finds_nothing, strips]
    assert decision.deciding.rule == strips
    assert decision.deciding.found.reference == true


def test_an_ambiguous_rule_ends_the_search_so_that_no_later_rule_guesses(
    council, ctax, parking, suspense_fund, taken
):
    item = taken(ctax, "12345675")
    ambiguous = suspense_rule(council, name="Typo", actions=[{"kind": "correct_one_edit"}])
    guess = suspense_rule(
        council, name="Guess", actions=[{"kind": "set_fund", "fund_code": parking}]
    )

    decision = decide(item, [ambiguous, guess], Lookups(council))

    assert decision.deciding is None
    assert [verdict.rule for verdict in decision.verdicts] == [ambiguous]


def test_no_rule_applying_is_said_so(council, ctax, suspense_fund, taken):
    item = taken(ctax, "123")

    assert decide(item, [], Lookups(council)).explanation() == "No rule applies to this item."
