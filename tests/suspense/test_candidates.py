"""Valid references one typing error away, found by the check digit of each kind of rule."""

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backoffice.funds.references import (
    CharacterSet,
    CheckDigitAlgorithm,
    CheckDigitScheme,
    ReferenceRuleSpec,
    check_reference,
    with_check_character,
)
from backoffice.suspense.candidates import has_check_digit, one_edit_away

# The demo council's schemes (docs/funds.md, "Worked examples").
COUNCIL_TAX = ReferenceRuleSpec(
    character_set=CharacterSet.DIGITS,
    input_mask="3#######@",
    check_digit=CheckDigitScheme(
        algorithm=CheckDigitAlgorithm.WEIGHTED,
        weights=(9, 8, 7, 6, 5, 4, 3, 2),
        modulus=11,
        subtract_from_modulus=True,
        result_substitutions={11: "0"},
    ),
)
BUSINESS_RATES = ReferenceRuleSpec(
    character_set=CharacterSet.LETTERS_AND_DIGITS,
    input_mask="9######@",
    check_digit=CheckDigitScheme(
        algorithm=CheckDigitAlgorithm.WEIGHTED,
        weights=(8, 7, 6, 5, 4, 3, 2),
        modulus=11,
        subtract_from_modulus=True,
        result_substitutions={10: "X", 11: "0"},
    ),
)
RENT = ReferenceRuleSpec(
    character_set=CharacterSet.DIGITS,
    input_mask="4########@",
    check_digit=CheckDigitScheme(algorithm=CheckDigitAlgorithm.LUHN),
)
INVOICE = ReferenceRuleSpec(
    character_set=CharacterSet.DIGITS,
    input_mask="80######@@",
    check_digit=CheckDigitScheme(algorithm=CheckDigitAlgorithm.MOD97),
)
PCN = ReferenceRuleSpec(
    character_set=CharacterSet.LETTERS_AND_DIGITS,
    input_mask="BJ#######@",
    check_digit=CheckDigitScheme(
        algorithm=CheckDigitAlgorithm.WEIGHTED,
        weights=(9, 8, 7, 6, 5, 4, 3, 2, 1),
        modulus=11,
        result_substitutions={10: "A"},
        prefix_substitutions=(("BJ", "21"),),
    ),
)
BOOKING = ReferenceRuleSpec(character_set=CharacterSet.DIGITS, min_length=6, max_length=6)

SCHEMES = {
    "council tax (mod 11)": (COUNCIL_TAX, "301234566"),
    "business rates (mod 11, X)": (BUSINESS_RATES, "91002346"),
    "rent (Luhn)": (RENT, "4123456784"),
    "invoice (mod 97)": (INVOICE, "8001234539"),
    "penalty charge notice (prefix weighted)": (PCN, "BJ01234565"),
}


def found(typed, spec):
    return {edit.reference: edit.how for edit in one_edit_away(typed, spec)}


@pytest.mark.parametrize(("spec", "valid"), SCHEMES.values(), ids=list(SCHEMES))
def test_every_example_is_valid_to_begin_with(spec, valid):
    assert check_reference(valid, spec).is_valid


@pytest.mark.parametrize(("spec", "valid"), SCHEMES.values(), ids=list(SCHEMES))
def test_one_wrong_digit_is_put_right_among_the_candidates(spec, valid):
    last = len(valid) - 1
    wrong = valid[:last] + ("1" if valid[last] != "1" else "2")

    candidates = found(wrong, spec)

    assert valid in candidates
    assert all(check_reference(reference, spec).is_valid for reference in candidates)
    assert wrong not in candidates


def test_a_wrong_digit_leaves_several_valid_references_for_the_department_to_choose_from():
    # The check digit says something is wrong, not which digit: about one in eleven of
    # the ten digits at each place passes.
    candidates = found("301234567", COUNCIL_TAX)

    assert "301234566" in candidates
    assert len(candidates) > 3


def test_two_digits_swapped_are_named_as_swapped():
    candidates = found("301243566", COUNCIL_TAX)

    assert candidates["301234566"] == "the 5th and 6th characters swapped (34 typed as 43)"


def test_a_digit_left_out_is_put_back_anywhere_it_fits():
    candidates = found("30123456", COUNCIL_TAX)  # the last 6 left out

    assert "301234566" in candidates
    assert all(len(reference) == 9 for reference in candidates)


def test_a_digit_typed_twice_is_taken_out():
    candidates = found("3012334566", COUNCIL_TAX)

    assert candidates["301234566"].startswith("an extra 3 typed as the ")


def test_a_letter_typed_for_a_digit_is_read_as_the_digit():
    candidates = found("3O1234566", COUNCIL_TAX)  # letter O

    assert candidates == {"301234566": "the 2nd character typed as O instead of 0"}


def test_a_letter_of_a_prefix_mistyped_or_left_out_is_put_right_where_letters_are_allowed():
    assert "BJ01234565" in found("BK01234565", PCN)
    assert "BJ01234565" in found("J01234565", PCN)
    # Council tax references are digits only: no letter is ever tried.
    assert all(reference.isdigit() for reference in found("3012345X6", COUNCIL_TAX))


def test_a_check_character_written_as_a_letter_is_one_of_the_candidates():
    body = "9100233"
    valid = with_check_character(body, BUSINESS_RATES.check_digit)
    typed = body + ("0" if valid[-1] != "0" else "1")

    assert valid in found(typed, BUSINESS_RATES)


def test_the_reference_is_read_as_the_rule_reads_it_first():
    # Spaces and lower case are the rule's own tidying, not typing errors.
    assert "BJ01234565" in found("bj 0123 4566", PCN)


def test_a_rule_without_a_check_digit_cannot_tell_good_edits_from_bad():
    assert not has_check_digit(BOOKING)
    assert has_check_digit(COUNCIL_TAX)


def _single_edits(reference: str):
    """Every string one typing error away from ``reference``."""
    for index, character in enumerate(reference):
        for digit in string.digits:
            if digit != character:
                yield reference[:index] + digit + reference[index + 1 :]
        yield reference[:index] + reference[index + 1 :]
        if index + 1 < len(reference) and reference[index + 1] != character:
            yield reference[:index] + reference[index + 1] + character + reference[index + 2 :]
    for index in range(len(reference) + 1):
        for digit in string.digits:
            yield reference[:index] + digit + reference[index:]


@settings(max_examples=60, deadline=None)
@given(
    scheme=st.sampled_from(list(SCHEMES.values())),
    digits=st.lists(st.sampled_from(string.digits), min_size=8, max_size=8),
    data=st.data(),
)
def test_whatever_the_single_error_the_true_reference_is_a_candidate_if_the_rule_noticed_it(
    scheme, digits, data
):
    spec, example = scheme
    mask = spec.input_mask
    fixed = len(mask) - len(mask.lstrip(string.digits + string.ascii_uppercase))
    body = example[:fixed] + "".join(digits)[: mask.count("#")]
    try:
        valid = with_check_character(body, spec.check_digit)
    except ValueError:
        valid = ""
    assume(check_reference(valid, spec).is_valid)  # some bodies have no check digit at all
    typed = data.draw(st.sampled_from(sorted(set(_single_edits(valid)) - {valid})))
    # An error the check digit cannot see (Luhn's 09 and 90) leaves nothing to correct.
    assume(not check_reference(typed, spec).is_valid)

    assert valid in found(typed, spec)
