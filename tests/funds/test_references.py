"""Reference rules: how council payment references are normalised, checked and explained.

Published check-digit test vectors (Luhn, ISBN-10, IBAN, HMRC VAT) pin the algorithms to their
standards; hand-worked totals pin down how weights line up; property tests cover the
guarantees each scheme gives mathematically.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.funds.references import (
    CharacterSet,
    CheckDigitAlgorithm,
    CheckDigitError,
    CheckDigitScheme,
    ReferenceRuleSpec,
    check_character,
    check_reference,
    normalise_reference,
    parse_prefix_substitutions,
    parse_result_substitutions,
    parse_weights,
    validate_spec,
    vat_registration_number_is_valid,
    with_check_character,
)

WEIGHTED = CheckDigitAlgorithm.WEIGHTED

LUHN = CheckDigitScheme(algorithm=CheckDigitAlgorithm.LUHN)
MOD97 = CheckDigitScheme(algorithm=CheckDigitAlgorithm.MOD97)
ISBN10 = CheckDigitScheme(
    algorithm=WEIGHTED,
    weights=(10, 9, 8, 7, 6, 5, 4, 3, 2),
    modulus=11,
    subtract_from_modulus=True,
    result_substitutions={10: "X", 11: "0"},
)
# A common council account scheme: no substitutions, so a result of 10 or 11 is unusable.
COUNCIL_MOD11 = CheckDigitScheme(
    algorithm=WEIGHTED, weights=(7, 6, 5, 4, 3, 2), modulus=11, subtract_from_modulus=True
)
PCN = CheckDigitScheme(
    algorithm=WEIGHTED,
    weights=(10, 9, 8, 7, 6, 5, 4, 3, 2),
    modulus=11,
    subtract_from_modulus=True,
    prefix_substitutions=(("BJ", "21"),),
)
PCN_RULE = ReferenceRuleSpec(input_mask="BJ#######@", check_digit=PCN)


def rule(scheme: CheckDigitScheme, **options) -> ReferenceRuleSpec:
    return ReferenceRuleSpec(check_digit=scheme, **options)


def is_valid(reference: str, scheme: CheckDigitScheme) -> bool:
    return check_reference(reference, rule(scheme)).is_valid


def codes(raw: str, spec: ReferenceRuleSpec) -> list[str]:
    return [problem.code for problem in check_reference(raw, spec).problems]


def only_message(raw: str, spec: ReferenceRuleSpec) -> str:
    (problem,) = check_reference(raw, spec).problems
    return problem.message


def single_digit_changes(number: str, positions: range):
    for position in positions:
        for digit in "0123456789":
            if digit != number[position]:
                yield number[:position] + digit + number[position + 1 :]


def iban_rearranged(iban: str) -> str:
    """IBANs are checked with the country code and check digits moved to the end."""
    return iban[4:] + iban[:4]


# --- Luhn ----------------------------------------------------------------------------------


def test_luhn_accepts_the_published_example_79927398713():
    assert is_valid("79927398713", LUHN)


@pytest.mark.parametrize("final_digit", "012456789")
def test_luhn_rejects_79927398713_with_any_other_final_digit(final_digit):
    assert codes("7992739871" + final_digit, rule(LUHN)) == ["check_digit"]


@pytest.mark.parametrize("card_number", ["4111111111111111", "5555555555554444", "378282246310005"])
def test_luhn_accepts_published_card_test_numbers(card_number):
    assert is_valid(card_number, LUHN)


def test_luhn_rejects_a_card_test_number_with_its_last_digit_changed():
    assert not is_valid("4111111111111112", LUHN)


def test_luhn_check_character_completes_the_published_example():
    assert check_character("7992739871", LUHN) == "3"


def test_luhn_cannot_weigh_letters():
    assert codes("79927A98713", rule(LUHN)) == ["unweightable"]


# --- weighted: ISBN-10 as a modulus 11 scheme ----------------------------------------------


@pytest.mark.parametrize("isbn", ["0306406152", "080442957X"])
def test_isbn10_is_a_weighted_modulus_11_scheme(isbn):
    assert is_valid(isbn, ISBN10)


def test_isbn10_with_a_wrong_check_digit_is_rejected():
    assert codes("0306406153", rule(ISBN10)) == ["check_digit"]


def test_a_result_of_10_is_written_as_its_substitute():
    assert check_character("080442957", ISBN10) == "X"


def test_a_lower_case_substitute_is_accepted_when_references_are_upper_cased():
    assert is_valid("080442957x", ISBN10)


# --- weighted: a council-style modulus 11 reference ----------------------------------------


def test_council_reference_built_with_its_check_digit_is_valid():
    # 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 7*2 = 79; 79 % 11 = 2; 11 - 2 = 9
    reference = with_check_character("123457", COUNCIL_MOD11)
    assert reference == "1234579"
    assert is_valid(reference, COUNCIL_MOD11)


def test_council_reference_with_one_digit_changed_fails_its_check_digit():
    check = check_reference("1234589", rule(COUNCIL_MOD11))
    assert [problem.code for problem in check.problems] == ["check_digit"]
    assert check.expected_check == "7"


def test_check_digit_message_explains_the_check_digit_in_plain_words():
    assert only_message("1234589", rule(COUNCIL_MOD11)) == (
        "The reference does not add up: its last character is a check digit and it does not "
        "match the rest. Check for a mistyped or swapped character."
    )


def test_body_whose_check_would_be_10_can_never_be_valid():
    # 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 1*2 = 67; 67 % 11 = 1; 11 - 1 = 10, with no substitute
    check = check_reference("1234510", rule(COUNCIL_MOD11))
    assert [problem.code for problem in check.problems] == ["check_digit_impossible"]
    assert "the check digit would be 10" in check.problems[0].message
    assert check.expected_check is None


def test_body_whose_check_would_be_11_can_never_be_valid():
    # 77 % 11 = 0; 11 - 0 = 11, with no substitute
    assert "would be 11" in only_message("1234560", rule(COUNCIL_MOD11))


def test_check_character_raises_for_a_result_with_no_character():
    with pytest.raises(CheckDigitError, match="10") as raised:
        check_character("123451", COUNCIL_MOD11)
    assert raised.value.code == "check_digit_impossible"
    assert raised.value.value == 10


def test_check_digit_error_is_a_value_error():
    assert issubclass(CheckDigitError, ValueError)


def test_check_character_raises_naming_a_character_that_cannot_be_weighted():
    with pytest.raises(CheckDigitError, match="'K'") as raised:
        check_character("12K456", COUNCIL_MOD11)
    assert raised.value.code == "unweightable"
    assert raised.value.position == 3


def test_unweightable_reference_names_the_character_for_the_payer():
    message = only_message("12K4569", rule(COUNCIL_MOD11))
    assert message.startswith('Character 3 ("K")')


def test_expected_check_is_reported_for_a_valid_reference():
    assert check_reference("1234579", rule(COUNCIL_MOD11)).expected_check == "9"


def test_expected_check_is_none_without_a_check_digit():
    assert check_reference("1234579", ReferenceRuleSpec()).expected_check is None


def test_no_check_digit_scheme_has_an_empty_check_character():
    assert with_check_character("1234", CheckDigitScheme()) == "1234"


# --- weighted: how the weights line up -----------------------------------------------------


def test_the_last_weight_multiplies_the_digit_before_the_check_character():
    scheme = CheckDigitScheme(algorithm=WEIGHTED, weights=(5, 4, 3, 2), modulus=11)
    # A body shorter than the weights uses the rightmost ones: 1*3 + 7*2 = 17; 17 % 11 = 6
    assert check_character("17", scheme) == "6"


def test_weights_repeat_leftwards_for_a_body_longer_than_the_weights():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(2, 1), modulus=10, subtract_from_modulus=True
    )
    # Right to left: 5*1 + 4*2 + 3*1 + 2*2 + 1*1 = 21; 21 % 10 = 1; 10 - 1 = 9
    assert check_character("12345", scheme) == "9"


def test_weights_repeat_cyclically_rather_than_padding_with_the_first_weight():
    scheme = CheckDigitScheme(algorithm=WEIGHTED, weights=(3, 1), modulus=97)
    # Right to left: 1*1 + 1*3 + 1*1 + 1*3 + 1*1 = 9
    assert check_character("11111", scheme) == "9"


def test_without_subtraction_the_remainder_is_the_check_digit():
    scheme = CheckDigitScheme(algorithm=WEIGHTED, weights=(1,), modulus=7)
    # 9 + 9 = 18; 18 % 7 = 4
    assert check_character("99", scheme) == "4"


def test_result_substitutions_produce_letter_check_characters():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), modulus=11, result_substitutions={10: "A"}
    )
    # 5 + 5 = 10
    assert check_character("55", scheme) == "A"
    assert is_valid("55A", scheme)
    assert not is_valid("550", scheme)


def test_a_result_can_be_substituted_by_a_digit():
    # The total is 0, so the result is 11 - 0 = 11, which ISBN-10 writes as 0.
    assert check_character("000000000", ISBN10) == "0"


# --- weighted: prefix substitution ---------------------------------------------------------


def test_prefix_substitution_weighs_the_prefix_as_its_digits():
    # BJ -> 21, then 2*10 + 1*9 + 1*8 + 2*7 + 3*6 + 4*5 + 5*4 + 6*3 + 7*2 = 141;
    # 141 % 11 = 9; 11 - 9 = 2
    assert check_character("BJ1234567", PCN) == "2"


def test_penalty_charge_notice_with_its_prefix_substituted_is_accepted():
    assert check_reference("BJ12345672", PCN_RULE).is_valid


def test_penalty_charge_notice_is_accepted_in_lower_case_with_spaces():
    assert check_reference(" bj 1234 5672 ", PCN_RULE).is_valid


def test_penalty_charge_notice_with_another_prefix_is_rejected_by_the_mask_at_character_2():
    check = check_reference("BK12345672", PCN_RULE)
    assert [problem.code for problem in check.problems] == ["mask"]
    assert check.problems[0].message == (
        'Character 2 must be "J", as references look like BJ#######@.'
    )


def test_only_the_first_matching_prefix_substitution_applies():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), modulus=10, prefix_substitutions=(("A", "1"), ("A", "5"))
    )
    assert check_character("A", scheme) == "1"


def test_a_prefix_with_no_substitution_cannot_be_weighted():
    spec = rule(PCN)
    assert codes("BK12345672", spec) == ["unweightable"]
    assert only_message("BK12345672", spec).startswith('Character 1 ("B")')


# --- ISO 7064 MOD 97-10 --------------------------------------------------------------------


@pytest.mark.parametrize("iban", ["GB82WEST12345698765432", "DE89370400440532013000"])
def test_mod97_accepts_published_ibans_in_their_checking_order(iban):
    assert is_valid(iban_rearranged(iban), MOD97)


def test_mod97_rejects_an_iban_with_one_digit_changed():
    assert codes(iban_rearranged("GB82WEST12345698765431"), rule(MOD97)) == ["check_digit"]


def test_mod97_check_digits_are_the_ibans_own_check_digits():
    # IBAN check digits are ISO 7064 MOD 97-10 over the rearranged IBAN.
    assert check_character("WEST12345698765432GB", MOD97) == "82"
    assert check_character("370400440532013000DE", MOD97) == "89"


def test_mod97_agrees_with_the_iso_7064_remainder_of_the_whole_number():
    rearranged = iban_rearranged("GB82WEST12345698765432")
    as_number = "".join(str(int(character, 36)) for character in rearranged)
    assert int(as_number) % 97 == 1
    assert is_valid(rearranged, MOD97)


def test_mod97_check_digits_are_zero_padded_to_two():
    # 3000 % 97 = 90; 98 - 90 = 8
    assert check_character("30", MOD97) == "08"
    assert is_valid("3008", MOD97)


def test_mod97_round_trips_through_with_check_character():
    reference = with_check_character("COUNCIL2024RENT", MOD97)
    assert is_valid(reference, MOD97)
    assert check_reference(reference, rule(MOD97)).expected_check == reference[-2:]


def test_mod97_reports_that_the_last_two_characters_are_check_digits():
    message = only_message(iban_rearranged("GB82WEST12345698765431"), rule(MOD97))
    assert "last two characters are check digits" in message


# --- normalising ---------------------------------------------------------------------------


def test_normalising_removes_spaces_and_separators_and_upper_cases():
    assert normalise_reference("  bj 123-456/7.8_9\t", ReferenceRuleSpec()) == "BJ123456789"


def test_normalising_removes_non_breaking_spaces_pasted_from_documents():
    assert normalise_reference("12\u00a034", ReferenceRuleSpec()) == "1234"


def test_normalising_keeps_separators_when_told_to_but_still_trims_the_ends():
    spec = ReferenceRuleSpec(strip_separators=False)
    assert normalise_reference("  ab 12-3  ", spec) == "AB 12-3"


def test_normalising_keeps_the_case_when_told_to():
    assert normalise_reference("ab-12", ReferenceRuleSpec(upper_case=False)) == "ab12"


def test_check_reports_both_the_raw_and_the_normalised_reference():
    check = check_reference(" ab-12 ", ReferenceRuleSpec())
    assert (check.raw, check.reference) == (" ab-12 ", "AB12")


def test_a_blank_reference_is_required():
    check = check_reference("  - ", ReferenceRuleSpec(min_length=8))
    assert [(problem.code, problem.message) for problem in check.problems] == [
        ("required", "Enter a reference.")
    ]


def test_any_reference_passes_a_rule_with_no_requirements():
    assert check_reference("anything at all!", ReferenceRuleSpec()).is_valid


# --- length and character set --------------------------------------------------------------


def test_too_short_message_gives_the_minimum_and_the_actual_length():
    spec = ReferenceRuleSpec(min_length=8)
    assert codes("123456", spec) == ["too_short"]
    assert only_message("123456", spec) == (
        "The reference must be at least 8 characters long (this one has 6)."
    )


def test_too_long_message_gives_the_maximum_and_the_actual_length():
    spec = ReferenceRuleSpec(max_length=10)
    assert codes("123456789012", spec) == ["too_long"]
    assert only_message("123456789012", spec) == (
        "The reference must be no more than 10 characters long (this one has 12)."
    )


def test_length_message_says_exactly_when_minimum_and_maximum_agree():
    spec = ReferenceRuleSpec(min_length=9, max_length=9)
    assert only_message("1234", spec) == (
        "The reference must be exactly 9 characters long (this one has 4)."
    )


def test_length_is_counted_after_normalising():
    assert check_reference("1234 5678", ReferenceRuleSpec(max_length=8)).is_valid


@pytest.mark.parametrize(
    ("character_set", "reference", "description", "position", "character"),
    [
        (CharacterSet.DIGITS, "12A4", "digits", 3, "A"),
        (CharacterSet.LETTERS, "AB1", "letters", 3, "1"),
        (CharacterSet.LETTERS_AND_DIGITS, "AB!1", "letters and digits", 3, "!"),
    ],
)
def test_character_set_message_names_the_set_and_the_first_offending_character(
    character_set, reference, description, position, character
):
    spec = ReferenceRuleSpec(character_set=character_set)
    assert codes(reference, spec) == ["character_set"]
    assert only_message(reference, spec) == (
        f'The reference can only contain {description}, but character {position} is "{character}".'
    )


def test_character_set_accepts_only_ascii_digits():
    assert codes("12\u0663", ReferenceRuleSpec(character_set=CharacterSet.DIGITS)) == [
        "character_set"
    ]


def test_length_and_character_set_problems_are_reported_together():
    spec = ReferenceRuleSpec(min_length=8, character_set=CharacterSet.DIGITS)
    assert codes("12A", spec) == ["too_short", "character_set"]


def test_a_length_problem_stops_the_mask_and_check_digit_being_checked():
    spec = ReferenceRuleSpec(max_length=10, input_mask="BJ#######@", check_digit=PCN)
    assert codes("XX1234567890", spec) == ["too_long"]


# --- input mask ----------------------------------------------------------------------------


def test_mask_message_names_the_position_and_what_belongs_there():
    assert only_message("BJ1A345672", PCN_RULE) == (
        "Character 4 must be a digit, as references look like BJ#######@."
    )


def test_mask_reports_the_first_failing_position_only():
    assert only_message("XX1A345672", PCN_RULE).startswith("Character 1 ")


def test_mask_length_message_gives_both_lengths():
    check = check_reference("BJ1234567", PCN_RULE)
    assert [problem.code for problem in check.problems] == ["mask_length"]
    assert check.problems[0].message == (
        "The reference must be 10 characters long, as references look like BJ#######@ "
        "(this one has 9)."
    )


@pytest.mark.parametrize(
    ("mask", "reference", "expected"),
    [
        ("??##", "A123", "Character 2 must be a letter"),
        ("**##", "A-12", "Character 2 must be a letter or a digit"),
        ("##@", "12Z", "Character 3 must be a digit"),
    ],
)
def test_mask_placeholders_say_what_they_expect(mask, reference, expected):
    spec = ReferenceRuleSpec(input_mask=mask, strip_separators=False)
    assert only_message(reference, spec).startswith(expected)


def test_mask_check_position_accepts_substituted_check_characters():
    spec = ReferenceRuleSpec(input_mask="#########@", check_digit=ISBN10)
    assert check_reference("080442957X", spec).is_valid
    assert only_message("08044295Y7", spec).startswith("Character 9 must be a digit")
    assert only_message("080442957Y", spec) == (
        "Character 10 must be a digit or X, as references look like #########@."
    )


def test_mask_literals_match_either_case_when_references_are_upper_cased():
    spec = ReferenceRuleSpec(input_mask="ct####")
    assert check_reference("CT1234", spec).is_valid
    assert check_reference("ct1234", spec).is_valid


def test_mask_literals_match_case_exactly_when_case_is_kept():
    spec = ReferenceRuleSpec(input_mask="CT####", upper_case=False)
    assert only_message("ct1234", spec).startswith('Character 1 must be "C"')


def test_a_mask_failure_stops_the_check_digit_being_checked():
    assert codes("BJ1A345670", PCN_RULE) == ["mask"]


# --- pattern -------------------------------------------------------------------------------


def test_pattern_failure_shows_the_rules_own_message():
    spec = ReferenceRuleSpec(
        pattern=r"[A-Z]{2}\d{6}", pattern_message="Rent references are two letters then six digits."
    )
    assert codes("A1234567", spec) == ["pattern"]
    assert only_message("A1234567", spec) == "Rent references are two letters then six digits."


def test_pattern_failure_has_a_default_message():
    assert only_message("A1", ReferenceRuleSpec(pattern=r"\d+")) == (
        "The reference is not in the expected format."
    )


def test_pattern_must_match_the_whole_normalised_reference():
    spec = ReferenceRuleSpec(pattern=r"\d{4}")
    assert check_reference("12-34", spec).is_valid
    assert not check_reference("12345", spec).is_valid


def test_a_pattern_failure_stops_the_check_digit_being_checked():
    spec = ReferenceRuleSpec(pattern=r"9\d+", check_digit=COUNCIL_MOD11)
    assert codes("1234589", spec) == ["pattern"]


# --- problems in a rule --------------------------------------------------------------------


def test_a_sensible_rule_has_no_problems():
    assert validate_spec(PCN_RULE) == []
    assert validate_spec(ReferenceRuleSpec()) == []
    assert validate_spec(ReferenceRuleSpec(min_length=8, max_length=8, check_digit=ISBN10)) == []


def test_validate_spec_catches_a_bad_regular_expression():
    (problem,) = validate_spec(ReferenceRuleSpec(pattern="[A-Z"))
    assert "regular expression" in problem


def test_validate_spec_catches_a_minimum_above_the_maximum():
    (problem,) = validate_spec(ReferenceRuleSpec(min_length=10, max_length=8))
    assert "10" in problem
    assert "8" in problem


def test_validate_spec_catches_a_weighted_scheme_with_no_weights():
    (problem,) = validate_spec(rule(CheckDigitScheme(algorithm=WEIGHTED)))
    assert "weights" in problem


def test_validate_spec_catches_a_modulus_below_2():
    (problem,) = validate_spec(rule(CheckDigitScheme(algorithm=WEIGHTED, weights=(1,), modulus=1)))
    assert "modulus" in problem


def test_validate_spec_catches_a_mask_longer_than_the_maximum_length():
    (problem,) = validate_spec(ReferenceRuleSpec(input_mask="######", max_length=5))
    assert "longer than the maximum length" in problem


def test_validate_spec_catches_a_mask_shorter_than_the_minimum_length():
    (problem,) = validate_spec(ReferenceRuleSpec(input_mask="####", min_length=5))
    assert "shorter than the minimum length" in problem


@pytest.mark.parametrize("key", [-1, 12])
def test_validate_spec_catches_a_result_substitution_outside_the_possible_results(key):
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), modulus=11, result_substitutions={key: "X"}
    )
    (problem,) = validate_spec(rule(scheme))
    assert "0 to 11" in problem


def test_validate_spec_allows_a_substitution_for_the_modulus_itself():
    assert validate_spec(rule(ISBN10)) == []


def test_validate_spec_catches_a_mask_literal_that_normalising_removes():
    (problem,) = validate_spec(ReferenceRuleSpec(input_mask="##-##"))
    assert "'-'" in problem


def test_validate_spec_catches_a_check_character_placeholder_before_the_end():
    (problem,) = validate_spec(ReferenceRuleSpec(input_mask="@###", check_digit=LUHN))
    assert "last character" in problem


def test_validate_spec_catches_a_check_character_placeholder_with_no_check_digit():
    (problem,) = validate_spec(ReferenceRuleSpec(input_mask="###@"))
    assert "no check digit" in problem


def test_validate_spec_catches_a_mask_that_contradicts_the_character_set():
    spec = ReferenceRuleSpec(input_mask="??##", character_set=CharacterSet.DIGITS)
    (problem,) = validate_spec(spec)
    assert "only digits" in problem


def test_validate_spec_catches_a_letter_substitute_when_only_digits_are_allowed():
    (problem,) = validate_spec(rule(ISBN10, character_set=CharacterSet.DIGITS))
    assert "'X'" in problem


def test_validate_spec_catches_a_prefix_replaced_by_letters():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), prefix_substitutions=(("BJ", "2A"),)
    )
    (problem,) = validate_spec(rule(scheme))
    assert "'BJ'" in problem


def test_validate_spec_catches_a_lower_case_prefix_that_could_never_match():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), prefix_substitutions=(("bj", "21"),)
    )
    (problem,) = validate_spec(rule(scheme))
    assert "lower-case" in problem


def test_validate_spec_catches_a_prefix_hidden_behind_an_earlier_one():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED, weights=(1,), prefix_substitutions=(("B", "1"), ("BJ", "21"))
    )
    (problem,) = validate_spec(rule(scheme))
    assert "never used" in problem


# --- a rule built from stored text ---------------------------------------------------------


def test_a_scheme_accepts_plain_strings_and_string_keys_as_stored_in_a_database():
    scheme = CheckDigitScheme(
        algorithm="weighted",
        weights=[10, 9, 8, 7, 6, 5, 4, 3, 2],
        subtract_from_modulus=True,
        result_substitutions={"10": "X", "11": "0"},
    )
    assert scheme == ISBN10
    assert hash(scheme) == hash(ISBN10)
    assert is_valid("080442957X", scheme)


def test_a_scheme_cannot_be_changed_through_its_substitutions():
    with pytest.raises(TypeError):
        ISBN10.result_substitutions[10] = "Y"


# --- parsing admin input -------------------------------------------------------------------


def test_parse_weights_reads_comma_separated_weights_with_spaces():
    assert parse_weights(" 8,7, 6 ,5,4,3,2 ") == (8, 7, 6, 5, 4, 3, 2)


def test_parse_weights_reads_a_blank_field_as_no_weights():
    assert parse_weights("") == ()
    assert parse_weights("   ") == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("8,x,6", "Weight 2 ('x') is not a whole number"),
        ("8,-7", "Weight 2 ('-7') is not a whole number"),
        ("8,0", "Weight 2 must be at least 1"),
        ("8,,7", "Item 2 is blank"),
        ("8.5", "not a whole number"),
    ],
)
def test_parse_weights_explains_bad_input(text, complaint):
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_weights(text)


def test_parse_result_substitutions_reads_equals_and_colons():
    assert parse_result_substitutions("10=X, 11:0") == {10: "X", 11: "0"}


def test_parse_result_substitutions_reads_a_blank_field_as_none():
    assert parse_result_substitutions("") == {}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("10=XY", "exactly one character"),
        ("10=", "exactly one character"),
        ("ten=X", "not a whole number"),
        ("10 X", "needs an ="),
        ("10=X, 10=Y", "more than once"),
    ],
)
def test_parse_result_substitutions_explains_bad_input(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_result_substitutions(text)


def test_parse_prefix_substitutions_reads_pairs_in_order():
    assert parse_prefix_substitutions("BJ=21, PN=03") == (("BJ", "21"), ("PN", "03"))


def test_parse_prefix_substitutions_reads_a_blank_field_as_none():
    assert parse_prefix_substitutions(" ") == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("=21", "prefix is missing"),
        ("BJ=", "replacement for 'BJ' is missing"),
        ("B J=21", "cannot contain spaces"),
        ("BJ21", "needs an ="),
        ("BJ=21, BJ=22", "more than once"),
    ],
)
def test_parse_prefix_substitutions_explains_bad_input(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_prefix_substitutions(text)


def test_parsed_text_makes_a_working_scheme():
    scheme = CheckDigitScheme(
        algorithm=WEIGHTED,
        weights=parse_weights("10,9,8,7,6,5,4,3,2"),
        subtract_from_modulus=True,
        prefix_substitutions=parse_prefix_substitutions("BJ=21"),
    )
    assert scheme == PCN


# --- properties ----------------------------------------------------------------------------

digit_bodies = st.text(alphabet="0123456789", min_size=0, max_size=30)


@st.composite
def weighted_schemes(draw):
    modulus = draw(st.integers(min_value=2, max_value=97))
    return CheckDigitScheme(
        algorithm=WEIGHTED,
        weights=tuple(draw(st.lists(st.integers(1, 20), min_size=1, max_size=12))),
        modulus=modulus,
        subtract_from_modulus=draw(st.booleans()),
        result_substitutions=draw(
            st.dictionaries(
                st.integers(min_value=0, max_value=modulus),
                st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                max_size=4,
            )
        ),
    )


@given(body=digit_bodies, scheme=weighted_schemes())
def test_any_body_with_its_weighted_check_character_is_valid_or_else_impossible(body, scheme):
    try:
        reference = with_check_character(body, scheme)
    except CheckDigitError:
        # No check character exists, so no ending can make this body valid.
        assert codes(body + "0", rule(scheme)) == ["check_digit_impossible"]
        return
    assert check_reference(reference, rule(scheme)).is_valid


@given(body=digit_bodies, scheme=weighted_schemes())
def test_a_weighted_check_character_is_never_more_than_one_character(body, scheme):
    try:
        assert len(check_character(body, scheme)) == 1
    except CheckDigitError as error:
        assert error.code == "check_digit_impossible"
        assert error.value >= 10
        assert error.value not in scheme.result_substitutions


@given(body=st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_detects_every_single_digit_error(body):
    number = with_check_character(body, LUHN)
    assert is_valid(number, LUHN)
    for changed in single_digit_changes(number, range(len(number))):
        assert not is_valid(changed, LUHN)


mod11_weights = st.lists(
    st.integers(min_value=1, max_value=10), min_size=2, max_size=10, unique=True
).map(tuple)


@st.composite
def isbn_like_schemes(draw):
    # Weights that are non-zero mod 11 make any one-digit change move the remainder, since
    # 11 is prime; substitutions that give every result its own character keep that visible.
    subtract = draw(st.booleans())
    return CheckDigitScheme(
        algorithm=WEIGHTED,
        weights=draw(mod11_weights),
        modulus=11,
        subtract_from_modulus=subtract,
        result_substitutions={10: "X", 11: "0"} if subtract else {10: "X"},
    )


@given(body=st.text(alphabet="0123456789", min_size=1, max_size=20), scheme=isbn_like_schemes())
def test_modulus_11_with_non_zero_weights_detects_every_single_digit_error(body, scheme):
    reference = with_check_character(body, scheme)
    for changed in single_digit_changes(reference, range(len(body))):
        assert not is_valid(changed, scheme)


@given(body=st.text(alphabet="0123456789", min_size=2, max_size=20), scheme=isbn_like_schemes())
def test_modulus_11_with_distinct_weights_detects_swapped_neighbours(body, scheme):
    # Neighbours always carry different weights because the distinct weights repeat
    # cyclically; a swap changes the total by (w1 - w2) * (d2 - d1), never a multiple of 11.
    reference = with_check_character(body, scheme)
    for position in range(len(body) - 1):
        first, second = body[position], body[position + 1]
        if first != second:
            swapped = body[:position] + second + first + body[position + 2 :]
            assert not is_valid(swapped + reference[-1], scheme)


@given(body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=30))
def test_mod97_check_digits_always_make_a_valid_reference(body):
    assert is_valid(with_check_character(body, MOD97), MOD97)


# --- UK VAT registration numbers -----------------------------------------------------------

VAT_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)


def vat_check_pair(first_seven: str, *, new_series: bool) -> str:
    """The last two digits HMRC's rule demands, worked out independently of the module."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seven, VAT_WEIGHTS, strict=True))
    if new_series:
        total += 55
    return f"{-total % 97:02d}"


@pytest.mark.parametrize("new_series", [False, True])
def test_vat_number_built_from_the_weights_rule_is_valid(new_series):
    number = "4872213" + vat_check_pair("4872213", new_series=new_series)
    assert vat_registration_number_is_valid(number)


@pytest.mark.parametrize("new_series", [False, True])
def test_vat_number_is_valid_with_gb_prefix_and_spaces(new_series):
    pair = vat_check_pair("4872213", new_series=new_series)
    assert vat_registration_number_is_valid(f"GB 487 2213 {pair}")
    assert vat_registration_number_is_valid(f"gb4872213{pair}")


@pytest.mark.parametrize("new_series", [False, True])
def test_vat_number_with_a_changed_check_digit_is_invalid(new_series):
    pair = vat_check_pair("4872213", new_series=new_series)
    changed = f"{(int(pair) + 1) % 100:02d}"
    assert not vat_registration_number_is_valid("4872213" + changed)


@pytest.mark.parametrize("new_series", [False, True])
def test_vat_number_with_a_changed_body_digit_is_invalid(new_series):
    pair = vat_check_pair("4872213", new_series=new_series)
    # Raising the first digit by 1 moves the total by 8, which is neither 0 nor the
    # difference between the series (55, or 42 the other way) modulo 97.
    assert not vat_registration_number_is_valid("5872213" + pair)


def test_published_vat_numbers_are_valid():
    # HMRC-format numbers from the python-stdnum test data: the old series, the new (+55)
    # series and a branch trader's 12 digits.
    assert vat_registration_number_is_valid("GB 980 7806 84")
    assert vat_registration_number_is_valid("GB 100190874")
    assert vat_registration_number_is_valid("GB 242338087388")


def test_published_invalid_vat_number_is_invalid():
    assert not vat_registration_number_is_valid("802311781")


def test_branch_trader_suffix_is_accepted_after_a_valid_nine_digits():
    pair = vat_check_pair("4872213", new_series=False)
    changed = f"{(int(pair) + 1) % 100:02d}"
    assert vat_registration_number_is_valid(f"4872213{pair}001")
    assert not vat_registration_number_is_valid(f"4872213{changed}001")


@pytest.mark.parametrize("value", ["98078068", "9807806842", "98078068A", "", "GB", "GB12"])
def test_vat_number_of_the_wrong_shape_is_invalid(value):
    assert not vat_registration_number_is_valid(value)


@pytest.mark.parametrize("value", ["GD000", "GD499", "GBGD100", "gd 001"])
def test_government_department_numbers_000_to_499_are_valid(value):
    assert vat_registration_number_is_valid(value)


@pytest.mark.parametrize("value", ["HA500", "HA999", "GB HA501"])
def test_health_authority_numbers_500_to_999_are_valid(value):
    assert vat_registration_number_is_valid(value)


@pytest.mark.parametrize("value", ["GD500", "HA499", "ZZ100", "GD12", "GD1234"])
def test_government_and_health_numbers_outside_their_ranges_are_invalid(value):
    assert not vat_registration_number_is_valid(value)
