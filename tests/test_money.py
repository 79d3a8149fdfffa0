"""Money is integer pence inside; pounds and pence only at the edges."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.money import (
    PoundsFormField,
    format_pence,
    parse_pounds,
    pence_to_pounds_text,
    round_half_up,
)

# parse_pounds accepts up to twelve digits of pounds: just under £1 trillion.
pence = st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1)


@pytest.mark.parametrize(
    ("pence_value", "text"),
    [(0, "£0.00"), (1, "£0.01"), (1250, "£12.50"), (123456789, "£1,234,567.89"), (-501, "-£5.01")],
)
def test_amounts_are_shown_in_pounds_and_pence(pence_value, text):
    assert format_pence(pence_value) == text


@pytest.mark.parametrize(
    ("text", "pence_value"),
    [
        ("12.50", 1250),
        ("£12.5", 1250),
        ("12", 1200),
        ("1,200.00", 120000),
        (" 0.01 ", 1),
        ("-3", -300),
    ],
)
def test_amounts_typed_by_people_are_read_as_pence(text, pence_value):
    assert parse_pounds(text) == pence_value


@pytest.mark.parametrize("text", ["", "abc", "12.345", "1.2.3", "£", "12,50p", "1e3"])
def test_anything_else_is_refused_with_the_text_in_the_message(text):
    with pytest.raises(ValueError, match="is not an amount"):
        parse_pounds(text)


@given(pence)
def test_what_is_shown_reads_back_as_the_same_pence(amount):
    assert parse_pounds(format_pence(amount)) == amount
    assert parse_pounds(pence_to_pounds_text(amount)) == amount


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3))
def test_rounding_is_half_away_from_zero_and_never_more_than_half_a_penny_out(value):
    rounded = round_half_up(value)

    assert abs(Decimal(rounded) - value) <= Decimal("0.5")
    if abs(value - int(value)) == Decimal("0.5"):
        assert abs(rounded) > abs(value)


def test_the_pounds_form_field_cleans_to_pence_and_shows_pounds():
    field = PoundsFormField(min_value=100, required=False)

    assert field.clean("£12.50") == 1250
    assert field.clean("") is None
    assert field.prepare_value(1250) == "12.50"
    with pytest.raises(Exception, match=r"at least £1\.00"):
        field.clean("0.99")
