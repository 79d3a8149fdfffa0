"""WCAG 2.2 contrast: the numbers the branding's colour rule rests on."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from backoffice.branding.colours import (
    check_text_contrast,
    contrast_ratio,
    format_ratio,
    relative_luminance,
)

colours = st.from_regex(r"\A#[0-9a-f]{6}\Z")


def test_black_on_white_is_21_to_1_and_a_colour_on_itself_1_to_1():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#1d70b8", "#1d70b8") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "background", "ratio"),
    [
        # Published values: GOV.UK's link blue on white, the lightest grey that passes AA
        # on white and the next one, which does not.
        ("#1d70b8", "#ffffff", 5.17),
        ("#767676", "#ffffff", 4.54),
        ("#777777", "#ffffff", 4.48),
    ],
)
def test_known_ratios(text, background, ratio):
    assert contrast_ratio(text, background) == pytest.approx(ratio, abs=0.01)


def test_upper_and_lower_case_digits_are_the_same_colour():
    assert relative_luminance("#1D70B8") == relative_luminance("#1d70b8")


@pytest.mark.parametrize("colour", ["1d70b8", "#1d70b", "#1d70b8ff", "#gggggg", "", "red"])
def test_anything_but_a_six_digit_colour_is_refused(colour):
    with pytest.raises(ValueError, match="is not a colour written as #rrggbb"):
        relative_luminance(colour)


@given(colours, colours)
def test_the_ratio_is_the_same_either_way_round_and_between_1_and_21(first, second):
    ratio = contrast_ratio(first, second)

    assert ratio == contrast_ratio(second, first)
    assert 1.0 <= ratio <= 21.0 + 1e-9


@given(colours)
def test_every_colour_reads_on_black_or_on_white(colour):
    # Why a council can always find a text colour for its brand colour.
    assert max(contrast_ratio(colour, "#000000"), contrast_ratio(colour, "#ffffff")) >= 4.5


def test_a_ratio_just_short_of_the_rule_never_reads_as_meeting_it():
    assert format_ratio(4.4999) == "4.49:1"
    assert format_ratio(4.5) == "4.50:1"
    assert format_ratio(21.0) == "21.00:1"


def test_a_pair_below_4_5_to_1_is_refused_with_its_ratio_named():
    with pytest.raises(ValidationError) as refused:
        check_text_contrast(text="#777777", background="#ffffff", what="The link colour")

    (message,) = refused.value.messages
    # 4.478:1, rounded down.
    assert message.startswith("The link colour (#777777 on #ffffff) has a contrast ratio of 4.47:1")
    assert "at least 4.5:1" in message
    assert refused.value.code == "low_contrast"


def test_a_pair_at_4_5_to_1_or_more_is_accepted():
    check_text_contrast(text="#767676", background="#ffffff", what="The link colour")
