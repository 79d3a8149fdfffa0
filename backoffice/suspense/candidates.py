"""Valid references one typing error away from a bad one, found by the rule's check digit.

A payer mistypes a reference in four ways: one character wrong, two next to
each other swapped, one left out, or one typed twice or by mistake. Each
way gives a handful of strings; the reference rule (its shape and, above
all, its check digit) says which of them could be real references. A check
digit catches every single wrong digit and nearly every swap, but does not
say which digit was wrong: several candidates usually pass, and only the
department's records tell them apart.

Pure Python on ``backoffice.funds.references``: no database.
"""

import string
from dataclasses import dataclass

from backoffice.funds.references import (
    CharacterSet,
    CheckDigitAlgorithm,
    ReferenceRuleSpec,
    check_reference,
    normalise_reference,
)

_DIGITS = string.digits


@dataclass(frozen=True)
class OneEdit:
    """A valid reference, and the typing error that would have turned it into the bad one."""

    reference: str
    how: str


def _ordinal(position: int) -> str:
    suffix = "th" if 10 <= position % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(position % 10)
    return f"{position}{suffix or 'th'}"


def _alphabet(spec: ReferenceRuleSpec) -> str:
    """What a mistyped or missing character may really have been: a digit, a check
    character, or a capital letter where the rule allows letters."""
    extra = {
        str(value).upper() if spec.upper_case else str(value)
        for value in spec.check_digit.result_substitutions.values()
    }
    if spec.character_set != CharacterSet.DIGITS:
        extra |= set(string.ascii_uppercase)
    return _DIGITS + "".join(sorted(extra - set(_DIGITS)))


def has_check_digit(spec: ReferenceRuleSpec) -> bool:
    return spec.check_digit.algorithm != CheckDigitAlgorithm.NONE


def one_edit_away(raw: str, spec: ReferenceRuleSpec) -> list[OneEdit]:
    """Every reference valid under ``spec`` that one typing error turns into ``raw``.

    Positions are counted in the reference as the rule reads it (tidied:
    separators removed, capitals). ``raw`` itself is never a candidate.
    Without a check digit nearly every edit is "valid", so the answer is
    meaningless: callers ask only of rules with one (``has_check_digit``).
    """
    typed = normalise_reference(raw, spec)
    alphabet = _alphabet(spec)
    found: dict[str, str] = {}

    def consider(candidate: str, how: str) -> None:
        if candidate == typed or candidate in found or not candidate:
            return
        if check_reference(candidate, spec).is_valid:
            found[candidate] = how

    for index, character in enumerate(typed):
        position = _ordinal(index + 1)
        for replacement in alphabet:
            if replacement != character:
                consider(
                    typed[:index] + replacement + typed[index + 1 :],
                    f"the {position} character typed as {character} instead of {replacement}",
                )
    for index in range(len(typed) - 1):
        left, right = typed[index], typed[index + 1]
        if left != right:
            consider(
                typed[:index] + right + left + typed[index + 2 :],
                f"the {_ordinal(index + 1)} and {_ordinal(index + 2)} characters swapped "
                f"({right}{left} typed as {left}{right})",
            )
    for index, character in enumerate(typed):
        consider(
            typed[:index] + typed[index + 1 :],
            f"an extra {character} typed as the {_ordinal(index + 1)} character",
        )
    for index in range(len(typed) + 1):
        for missing in alphabet:
            consider(
                typed[:index] + missing + typed[index:],
                f"a {missing} left out before the {_ordinal(index + 1)} character"
                if index < len(typed)
                else f"a {missing} left out at the end",
            )
    return [OneEdit(reference, how) for reference, how in found.items()]
