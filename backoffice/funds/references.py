"""Checking council payment references against a configurable rule.

A :class:`ReferenceRuleSpec` says how a reference is tidied up, how long it may be, which
characters and layout it has, and which check-digit scheme protects it. :func:`check_reference`
applies a rule and reports each problem with a stable code and a message a payer can act on.
:func:`validate_spec` finds mistakes in a rule itself, so an admin form can refuse it.

Pure Python with no Django imports, so payment channels, imports and tests can all use it.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "CharacterSet",
    "CheckDigitAlgorithm",
    "CheckDigitError",
    "CheckDigitScheme",
    "ReferenceCheck",
    "ReferenceProblem",
    "ReferenceRuleSpec",
    "check_character",
    "check_reference",
    "normalise_reference",
    "parse_prefix_substitutions",
    "parse_result_substitutions",
    "parse_weights",
    "validate_spec",
    "vat_registration_number_is_valid",
    "with_check_character",
]


class CheckDigitAlgorithm(enum.StrEnum):
    NONE = "none"
    WEIGHTED = "weighted"
    LUHN = "luhn"
    MOD97 = "mod97"


class CharacterSet(enum.StrEnum):
    ANY = "any"
    DIGITS = "digits"
    LETTERS = "letters"
    LETTERS_AND_DIGITS = "letters_and_digits"


class CheckDigitError(ValueError):
    """A check character cannot be worked out for a body.

    ``code`` is ``"unweightable"`` (``position`` and ``character`` say which character, 1-based
    in the body as given) or ``"check_digit_impossible"`` (``value`` is the result that has no
    character).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        position: int | None = None,
        character: str | None = None,
        value: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.position = position
        self.character = character
        self.value = value


@dataclass(frozen=True)
class CheckDigitScheme:
    algorithm: CheckDigitAlgorithm = CheckDigitAlgorithm.NONE
    weights: tuple[int, ...] = ()
    modulus: int = 11
    subtract_from_modulus: bool = False
    result_substitutions: Mapping[int, str] = field(default_factory=dict)
    prefix_substitutions: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Values often arrive from model fields or JSON as plain strings, lists and string-keyed
        # dicts; coercing here keeps every later comparison simple. The mapping is copied and
        # made read-only so a frozen scheme really cannot change under a caller.
        object.__setattr__(self, "algorithm", CheckDigitAlgorithm(self.algorithm))
        object.__setattr__(self, "weights", tuple(self.weights))
        object.__setattr__(
            self,
            "result_substitutions",
            MappingProxyType(
                {_int_if_possible(key): value for key, value in self.result_substitutions.items()}
            ),
        )
        object.__setattr__(
            self,
            "prefix_substitutions",
            tuple((prefix, substitute) for prefix, substitute in self.prefix_substitutions),
        )

    def __hash__(self) -> int:
        # The read-only mapping is unhashable by itself; hashing its items keeps schemes (and
        # so whole rules) usable as cache keys.
        return hash(
            (
                self.algorithm,
                self.weights,
                self.modulus,
                self.subtract_from_modulus,
                frozenset(self.result_substitutions.items()),
                self.prefix_substitutions,
            )
        )

    @property
    def check_width(self) -> int:
        """How many characters at the end of a reference are check characters."""
        return {CheckDigitAlgorithm.NONE: 0, CheckDigitAlgorithm.MOD97: 2}.get(self.algorithm, 1)


@dataclass(frozen=True)
class ReferenceRuleSpec:
    strip_separators: bool = True
    upper_case: bool = True
    min_length: int | None = None
    max_length: int | None = None
    character_set: CharacterSet = CharacterSet.ANY
    input_mask: str = ""
    pattern: str = ""
    pattern_message: str = ""
    # A factory rather than a shared default instance, so no two rules share one mapping.
    check_digit: CheckDigitScheme = field(default_factory=CheckDigitScheme)

    def __post_init__(self) -> None:
        object.__setattr__(self, "character_set", CharacterSet(self.character_set))


@dataclass(frozen=True)
class ReferenceProblem:
    code: str
    message: str


@dataclass(frozen=True)
class ReferenceCheck:
    raw: str
    reference: str
    problems: tuple[ReferenceProblem, ...]
    expected_check: str | None = None

    @property
    def is_valid(self) -> bool:
        return not self.problems


_SEPARATORS = frozenset("-/._")
# ASCII only: str.isdigit() and str.isalpha() accept characters no council system issues.
_DIGITS = frozenset(string.digits)
_LETTERS = frozenset(string.ascii_letters)
_LETTERS_AND_DIGITS = _DIGITS | _LETTERS

_CHARACTER_SETS: dict[CharacterSet, tuple[frozenset[str], str]] = {
    CharacterSet.DIGITS: (_DIGITS, "digits"),
    CharacterSet.LETTERS: (_LETTERS, "letters"),
    CharacterSet.LETTERS_AND_DIGITS: (_LETTERS_AND_DIGITS, "letters and digits"),
}

_MASK_DIGIT = "#"
_MASK_CHECK = "@"
_MASK_LETTER = "?"
_MASK_LETTER_OR_DIGIT = "*"
_MASK_PLACEHOLDERS = frozenset(_MASK_DIGIT + _MASK_CHECK + _MASK_LETTER + _MASK_LETTER_OR_DIGIT)


def _int_if_possible(key: object) -> object:
    # Leave anything unconvertible alone so validate_spec can name it instead of raising here.
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return key


def _is_digits(text: str) -> bool:
    return bool(text) and all(character in _DIGITS for character in text)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- normalising ---------------------------------------------------------------------------


def _is_stripped(character: str, spec: ReferenceRuleSpec) -> bool:
    # Every kind of whitespace goes, not just spaces: references pasted from PDFs and emails
    # often carry non-breaking spaces and tabs.
    return spec.strip_separators and (character.isspace() or character in _SEPARATORS)


def normalise_reference(raw: str, spec: ReferenceRuleSpec) -> str:
    """The reference as the rule compares it: trimmed, separators removed, upper-cased."""
    text = raw.strip()
    text = "".join(character for character in text if not _is_stripped(character, spec))
    return text.upper() if spec.upper_case else text


# --- check characters ----------------------------------------------------------------------


def _substituted(body: str, scheme: CheckDigitScheme) -> list[tuple[str, int]]:
    """The body's characters after the first matching prefix substitution, each paired with
    the 1-based position in the original body it should be blamed on."""
    for prefix, substitute in scheme.prefix_substitutions:
        if prefix and body.startswith(prefix):
            rest = body[len(prefix) :]
            return [(character, 1) for character in substitute] + [
                (character, position)
                for position, character in enumerate(rest, start=len(prefix) + 1)
            ]
    return [(character, position) for position, character in enumerate(body, start=1)]


def _digits(body: str, scheme: CheckDigitScheme) -> list[int]:
    digits = []
    for character, position in _substituted(body, scheme):
        if character not in _DIGITS:
            raise CheckDigitError(
                f"Character {position} ({character!r}) of {body!r} cannot be weighted: only "
                "digits can, and no prefix substitution replaces it.",
                code="unweightable",
                position=position,
                character=character,
            )
        digits.append(int(character))
    return digits


def _weighted_value(digits: Sequence[int], scheme: CheckDigitScheme) -> int:
    if not scheme.weights:
        raise ValueError("A weighted check digit scheme needs at least one weight.")
    if scheme.modulus < 2:
        raise ValueError(f"The modulus must be at least 2, not {scheme.modulus}.")
    weights = scheme.weights
    # Weights are aligned to the right so the last weight always falls on the digit next to
    # the check character, whatever the body's length; longer bodies reuse them cyclically.
    total = sum(
        digit * weights[-1 - index % len(weights)] for index, digit in enumerate(reversed(digits))
    )
    remainder = total % scheme.modulus
    return scheme.modulus - remainder if scheme.subtract_from_modulus else remainder


def _luhn_check_digit(digits: Sequence[int]) -> str:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        # Counting from the digit next to the check digit, every other digit is doubled.
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str(-total % 10)


def _mod97_number(body: str, scheme: CheckDigitScheme) -> str:
    """The body as ISO 7064 sees it: digits kept, letters A=10 ... Z=35."""
    parts = []
    for character, position in _substituted(body, scheme):
        if character in _DIGITS:
            parts.append(character)
        elif character in _LETTERS:
            parts.append(str(ord(character.upper()) - ord("A") + 10))
        else:
            raise CheckDigitError(
                f"Character {position} ({character!r}) of {body!r} cannot be used in a "
                "modulus 97 check: only letters and digits can.",
                code="unweightable",
                position=position,
                character=character,
            )
    return "".join(parts)


def check_character(body: str, scheme: CheckDigitScheme) -> str:
    """The check character(s) that belong after ``body``; ``""`` when the scheme has none.

    Raises :class:`CheckDigitError` when the body cannot be weighted or when the result has no
    character (such as a remainder of 10 with no substitution for it).
    """
    if scheme.algorithm == CheckDigitAlgorithm.NONE:
        return ""
    if scheme.algorithm == CheckDigitAlgorithm.MOD97:
        # Appending "00" stands in for the check digits so that number + check ≡ 1 (mod 97).
        remainder = int(_mod97_number(body, scheme) + "00") % 97
        return f"{98 - remainder:02d}"
    digits = _digits(body, scheme)
    if scheme.algorithm == CheckDigitAlgorithm.LUHN:
        return _luhn_check_digit(digits)
    value = _weighted_value(digits, scheme)
    if value in scheme.result_substitutions:
        return scheme.result_substitutions[value]
    if value < 10:
        return str(value)
    raise CheckDigitError(
        f"No check character exists for {body!r}: the weighted result is {value}, which is not "
        "a single digit and has no result substitution.",
        code="check_digit_impossible",
        value=value,
    )


def with_check_character(body: str, scheme: CheckDigitScheme) -> str:
    """``body`` followed by its check character(s)."""
    return body + check_character(body, scheme)


# --- checking a reference ------------------------------------------------------------------


def _problem(code: str, message: str) -> ReferenceProblem:
    return ReferenceProblem(code=code, message=message)


def _length_problems(reference: str, spec: ReferenceRuleSpec) -> list[ReferenceProblem]:
    length = len(reference)
    exact = spec.min_length is not None and spec.min_length == spec.max_length
    if spec.min_length is not None and length < spec.min_length:
        bound = "exactly" if exact else "at least"
        return [
            _problem(
                "too_short",
                f"The reference must be {bound} {_plural(spec.min_length, 'character')} long "
                f"(this one has {length}).",
            )
        ]
    if spec.max_length is not None and length > spec.max_length:
        bound = "exactly" if exact else "no more than"
        return [
            _problem(
                "too_long",
                f"The reference must be {bound} {_plural(spec.max_length, 'character')} long "
                f"(this one has {length}).",
            )
        ]
    return []


def _character_set_problems(reference: str, spec: ReferenceRuleSpec) -> list[ReferenceProblem]:
    if spec.character_set == CharacterSet.ANY:
        return []
    allowed, description = _CHARACTER_SETS[spec.character_set]
    for position, character in enumerate(reference, start=1):
        if character not in allowed:
            return [
                _problem(
                    "character_set",
                    f"The reference can only contain {description}, but character {position} "
                    f'is "{character}".',
                )
            ]
    return []


def _check_alphabet(spec: ReferenceRuleSpec) -> frozenset[str]:
    """The characters allowed where the mask says ``@``."""
    scheme = spec.check_digit
    if scheme.algorithm != CheckDigitAlgorithm.WEIGHTED:
        return _DIGITS
    extra = {str(value) for value in scheme.result_substitutions.values()}
    if spec.upper_case:
        extra = {value.upper() for value in extra}
    return _DIGITS | extra


def _describe_check_alphabet(alphabet: frozenset[str]) -> str:
    others = sorted(alphabet - _DIGITS)
    if not others:
        return "a digit"
    if len(others) == 1:
        return f"a digit or {others[0]}"
    return "a digit, " + ", ".join(others[:-1]) + f" or {others[-1]}"


def _mask_expectation(
    mask_character: str, character: str, spec: ReferenceRuleSpec, alphabet: frozenset[str]
) -> str | None:
    """What the mask wanted at this position, or None when ``character`` satisfies it."""
    if mask_character == _MASK_DIGIT:
        return None if character in _DIGITS else "a digit"
    if mask_character == _MASK_LETTER:
        return None if character in _LETTERS else "a letter"
    if mask_character == _MASK_LETTER_OR_DIGIT:
        return None if character in _LETTERS_AND_DIGITS else "a letter or a digit"
    if mask_character == _MASK_CHECK:
        return None if character in alphabet else _describe_check_alphabet(alphabet)
    literal = mask_character.upper() if spec.upper_case else mask_character
    return None if character == literal else f'"{literal}"'


def _mask_problems(reference: str, spec: ReferenceRuleSpec) -> list[ReferenceProblem]:
    mask = spec.input_mask
    if not mask:
        return []
    if len(reference) != len(mask):
        return [
            _problem(
                "mask_length",
                f"The reference must be {_plural(len(mask), 'character')} long, as references "
                f"look like {mask} (this one has {len(reference)}).",
            )
        ]
    alphabet = _check_alphabet(spec)
    for position, (mask_character, character) in enumerate(
        zip(mask, reference, strict=True), start=1
    ):
        expected = _mask_expectation(mask_character, character, spec, alphabet)
        if expected is not None:
            return [
                _problem(
                    "mask",
                    f"Character {position} must be {expected}, as references look like {mask}.",
                )
            ]
    return []


def _pattern_problems(reference: str, spec: ReferenceRuleSpec) -> list[ReferenceProblem]:
    if not spec.pattern or re.fullmatch(spec.pattern, reference):
        return []
    return [
        _problem("pattern", spec.pattern_message or "The reference is not in the expected format.")
    ]


def _check_digit_problems(
    reference: str, spec: ReferenceRuleSpec
) -> tuple[list[ReferenceProblem], str | None]:
    scheme = spec.check_digit
    width = scheme.check_width
    if width == 0:
        return [], None
    if len(reference) < width:
        return [
            _problem(
                "check_digit",
                f"The reference is too short to end with its {_plural(width, 'check digit')}.",
            )
        ], None
    body, given = reference[:-width], reference[-width:]
    try:
        expected = check_character(body, scheme)
    except CheckDigitError as error:
        if error.code == "check_digit_impossible":
            message = (
                f"No valid reference has these digits: the check digit would be {error.value}. "
                "Check for a mistyped or swapped character."
            )
        else:
            message = (
                f'Character {error.position} ("{error.character}") cannot be part of this '
                "reference, as it cannot be used to work out the check digit."
            )
        return [_problem(error.code, message)], None

    if scheme.algorithm == CheckDigitAlgorithm.MOD97:
        # ISO 7064 verifies the whole number rather than comparing digits, which is how IBANs
        # are checked; the body cannot fail here because check_character already converted it.
        matches = _is_digits(given) and int(_mod97_number(body, scheme) + given) % 97 == 1
        what = "its last two characters are check digits and they do not"
    else:
        matches = given.upper() == expected.upper() if spec.upper_case else given == expected
        what = "its last character is a check digit and it does not"
    if matches:
        return [], expected
    message = (
        f"The reference does not add up: {what} match the rest. "
        "Check for a mistyped or swapped character."
    )
    return [_problem("check_digit", message)], expected


def check_reference(raw: str, spec: ReferenceRuleSpec) -> ReferenceCheck:
    """Check ``raw`` against ``spec``; the spec is assumed to pass :func:`validate_spec`.

    Length and character-set problems are reported together, and either stops the checks
    there, since a mask would only repeat them. Mask and pattern are both checked, and the
    check digit only when both pass, because a misshapen reference has no meaningful check.
    """
    reference = normalise_reference(raw, spec)
    if not reference:
        return ReferenceCheck(raw, reference, (_problem("required", "Enter a reference."),))

    problems = _length_problems(reference, spec) + _character_set_problems(reference, spec)
    if problems:
        return ReferenceCheck(raw, reference, tuple(problems))

    problems = _mask_problems(reference, spec) + _pattern_problems(reference, spec)
    if problems:
        return ReferenceCheck(raw, reference, tuple(problems))

    problems, expected = _check_digit_problems(reference, spec)
    return ReferenceCheck(raw, reference, tuple(problems), expected_check=expected)


# --- problems in a rule --------------------------------------------------------------------


def _length_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    problems = []
    if spec.min_length is not None and spec.min_length < 0:
        problems.append("The minimum length cannot be negative.")
    if spec.max_length is not None and spec.max_length < 1:
        problems.append("The maximum length must be at least 1.")
    if (
        spec.min_length is not None
        and spec.max_length is not None
        and spec.min_length > spec.max_length
    ):
        problems.append(
            f"The minimum length ({spec.min_length}) is more than the maximum length "
            f"({spec.max_length})."
        )
    return problems


def _mask_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    mask = spec.input_mask
    if not mask:
        return []
    problems = []
    length = len(mask)
    if spec.min_length is not None and length < spec.min_length:
        problems.append(
            f"The input mask is {length} characters long, shorter than the minimum length "
            f"({spec.min_length})."
        )
    if spec.max_length is not None and length > spec.max_length:
        problems.append(
            f"The input mask is {length} characters long, longer than the maximum length "
            f"({spec.max_length})."
        )
    stripped = sorted({character for character in mask if _is_stripped(character, spec)})
    if stripped:
        problems.append(
            "The input mask contains "
            + ", ".join(repr(character) for character in stripped)
            + ", which are removed from references before checking, so it can never match."
        )
    width = spec.check_digit.check_width
    check_positions = range(length - width, length)
    misplaced = [
        position
        for position, character in enumerate(mask)
        if character == _MASK_CHECK and position not in check_positions
    ]
    if misplaced and width == 0:
        problems.append("The input mask uses @ for a check character, but there is no check digit.")
    elif misplaced:
        places = "last character" if width == 1 else "last two characters"
        problems.append(
            f"In the input mask, @ marks the check character, which is only ever the {places}."
        )
    if spec.character_set != CharacterSet.ANY:
        allowed, description = _CHARACTER_SETS[spec.character_set]
        clashes = {
            _MASK_DIGIT: _DIGITS,
            _MASK_CHECK: _DIGITS,
            _MASK_LETTER: _LETTERS,
        }
        for character in dict.fromkeys(mask):
            if character in clashes and not allowed & clashes[character]:
                problems.append(
                    f"The input mask uses {character}, but the character set allows only "
                    f"{description}."
                )
            elif character not in _MASK_PLACEHOLDERS and character not in allowed:
                problems.append(
                    f"The input mask contains {character!r}, but the character set allows only "
                    f"{description}."
                )
    return problems


def _pattern_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    if not spec.pattern:
        return []
    try:
        re.compile(spec.pattern)
    except re.error as error:
        return [f"The regular expression is not valid: {error}."]
    return []


def _scheme_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    scheme = spec.check_digit
    if scheme.algorithm == CheckDigitAlgorithm.NONE:
        return []
    problems = []
    if scheme.algorithm == CheckDigitAlgorithm.WEIGHTED:
        problems += _weighted_rule_problems(spec)
    problems += _prefix_rule_problems(spec)
    return problems


def _weighted_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    scheme = spec.check_digit
    problems = []
    if not scheme.weights:
        problems.append("A weighted check digit needs weights, e.g. 8,7,6,5,4,3,2.")
    if any(not isinstance(weight, int) or weight < 1 for weight in scheme.weights):
        problems.append("Every weight must be a whole number of at least 1.")
    if scheme.modulus < 2:
        problems.append(f"The modulus must be at least 2, not {scheme.modulus}.")
    for key, value in scheme.result_substitutions.items():
        if not isinstance(key, int) or not 0 <= key <= scheme.modulus:
            problems.append(
                f"The result substitution for {key!r} can never apply: results run from 0 to "
                f"{scheme.modulus}."
            )
        if not isinstance(value, str) or len(value) != 1:
            problems.append(f"The result substitution for {key!r} must be a single character.")
        elif _is_stripped(value, spec) or value.isspace():
            problems.append(
                f"The result substitution {value!r} is removed from references before checking, "
                "so a reference could never end with it."
            )
        elif spec.character_set != CharacterSet.ANY:
            allowed, description = _CHARACTER_SETS[spec.character_set]
            if value not in allowed:
                problems.append(
                    f"The result substitution {value!r} is not allowed by the character set, "
                    f"which allows only {description}."
                )
    return problems


def _prefix_rule_problems(spec: ReferenceRuleSpec) -> list[str]:
    scheme = spec.check_digit
    weighs_letters = scheme.algorithm == CheckDigitAlgorithm.MOD97
    problems = []
    earlier: list[str] = []
    for prefix, substitute in scheme.prefix_substitutions:
        if not prefix:
            problems.append("A prefix substitution has an empty prefix.")
            continue
        if spec.upper_case and prefix != prefix.upper():
            problems.append(
                f"The prefix {prefix!r} has lower-case letters, but references are upper-cased "
                "before checking, so it would never match."
            )
        if any(_is_stripped(character, spec) for character in prefix):
            problems.append(
                f"The prefix {prefix!r} contains characters removed from references before "
                "checking, so it would never match."
            )
        usable = _LETTERS_AND_DIGITS if weighs_letters else _DIGITS
        if not substitute or any(character not in usable for character in substitute):
            kind = "letters and digits" if weighs_letters else "digits"
            problems.append(
                f"The prefix {prefix!r} must be replaced by {kind}, not {substitute!r}."
            )
        shadowing = next((other for other in earlier if prefix.startswith(other)), None)
        if shadowing is not None:
            problems.append(
                f"The prefix {prefix!r} is never used, because the earlier prefix {shadowing!r} "
                "matches first."
            )
        earlier.append(prefix)
    return problems


def validate_spec(spec: ReferenceRuleSpec) -> list[str]:
    """Mistakes in the rule itself, in words for the person setting it up; empty if none."""
    return (
        _length_rule_problems(spec)
        + _mask_rule_problems(spec)
        + _pattern_rule_problems(spec)
        + _scheme_rule_problems(spec)
    )


# --- parsing admin input -------------------------------------------------------------------


def _items(text: str) -> list[str]:
    """Comma-separated items; a blank field means none at all."""
    if not text or not text.strip():
        return []
    items = [item.strip() for item in text.split(",")]
    for number, item in enumerate(items, start=1):
        if not item:
            raise ValueError(f"Item {number} is blank: separate the items with single commas.")
    return items


def _pair(item: str) -> tuple[str, str]:
    for separator in ("=", ":"):
        if separator in item:
            left, _, right = item.partition(separator)
            return left.strip(), right.strip()
    raise ValueError(f"{item!r} needs an = between its two parts, e.g. 10=X.")


def parse_weights(text: str) -> tuple[int, ...]:
    """``"8,7,6,5,4,3,2"`` -> ``(8, 7, 6, 5, 4, 3, 2)``; blank -> ``()``."""
    weights = []
    for number, item in enumerate(_items(text), start=1):
        if not _is_digits(item):
            raise ValueError(f"Weight {number} ({item!r}) is not a whole number.")
        weight = int(item)
        if weight < 1:
            raise ValueError(f"Weight {number} must be at least 1, not {weight}.")
        weights.append(weight)
    return tuple(weights)


def parse_result_substitutions(text: str) -> dict[int, str]:
    """``"10=X, 11=0"`` (or ``"10:X"``) -> ``{10: "X", 11: "0"}``; blank -> ``{}``."""
    substitutions: dict[int, str] = {}
    for item in _items(text):
        key, value = _pair(item)
        if not _is_digits(key):
            raise ValueError(f"In {item!r}, {key!r} is not a whole number.")
        if len(value) != 1:
            raise ValueError(f"In {item!r}, the result must be written as exactly one character.")
        result = int(key)
        if result in substitutions:
            raise ValueError(f"The result {result} is given more than once.")
        substitutions[result] = value
    return substitutions


def parse_prefix_substitutions(text: str) -> tuple[tuple[str, str], ...]:
    """``"BJ=21, PN=03"`` -> ``(("BJ", "21"), ("PN", "03"))``, in order; blank -> ``()``."""
    substitutions: list[tuple[str, str]] = []
    for item in _items(text):
        prefix, substitute = _pair(item)
        if not prefix:
            raise ValueError(f"In {item!r}, the prefix is missing.")
        if not substitute:
            raise ValueError(f"In {item!r}, the replacement for {prefix!r} is missing.")
        if any(character.isspace() for character in prefix + substitute):
            raise ValueError(f"In {item!r}, prefixes and replacements cannot contain spaces.")
        if any(prefix == seen for seen, _ in substitutions):
            raise ValueError(f"The prefix {prefix!r} is given more than once.")
        substitutions.append((prefix, substitute))
    return tuple(substitutions)


# --- UK VAT registration numbers -----------------------------------------------------------

# HMRC's rule expressed in the weighted engine: the weights on the first seven digits, and the
# remainder modulo 97 that the last two digits must cancel out.
_VAT_SCHEME = CheckDigitScheme(
    algorithm=CheckDigitAlgorithm.WEIGHTED, weights=(8, 7, 6, 5, 4, 3, 2), modulus=97
)
# Numbers issued since 2010 add 55 to the total, so the two series never share a check pair.
_VAT_NEW_SERIES_OFFSET = 55


def vat_registration_number_is_valid(value: str) -> bool:
    """Whether ``value`` is a well-formed UK VAT registration number.

    Accepts an optional GB prefix and spaces; 9 digits, or 12 for a branch trader; and the
    GD000-GD499 (government department) and HA500-HA999 (health authority) forms.
    """
    text = "".join(value.split()).upper()
    text = text.removeprefix("GB")
    if len(text) == 5 and _is_digits(text[2:]):
        number = int(text[2:])
        return (text[:2] == "GD" and number < 500) or (text[:2] == "HA" and number >= 500)
    if len(text) not in (9, 12) or not _is_digits(text):
        return False
    remainder = _weighted_value([int(digit) for digit in text[:7]], _VAT_SCHEME)
    check_pair = int(text[7:9])
    return (remainder + check_pair) % 97 == 0 or (
        remainder + _VAT_NEW_SERIES_OFFSET + check_pair
    ) % 97 == 0
