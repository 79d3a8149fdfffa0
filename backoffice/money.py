"""Money: integer pence inside, pounds and pence only at the edges.

GBP only. Arithmetic on amounts is integer arithmetic; a ``Decimal`` appears
only where a percentage is applied, and the result is rounded half up to the
penny straight away.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

_POUNDS = re.compile(r"^(?P<sign>-)?(?P<pounds>\d{1,12})(?:\.(?P<pence>\d{1,2}))?$")


def format_pence(pence: int, *, symbol: bool = True) -> str:
    """``123456`` -> ``'£1,234.56'``; negative amounts keep their sign in front."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    text = f"{pounds:,}.{rest:02d}"
    return f"{sign}£{text}" if symbol else f"{sign}{text}"


def parse_pounds(text: str) -> int:
    """``'£1,234.5'`` -> ``123450``. Raises ``ValueError`` saying what is wrong."""
    cleaned = str(text).strip().replace(",", "").replace("£", "").replace(" ", "")
    match = _POUNDS.match(cleaned)
    if not match:
        raise ValueError(f"'{text}' is not an amount in pounds and pence, such as 12.50.")
    pence = int(match["pounds"]) * 100 + int((match["pence"] or "0").ljust(2, "0"))
    return -pence if match["sign"] else pence


def round_half_up(value: Decimal) -> int:
    """Round a Decimal number of pence to a whole penny, halves away from zero."""
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` to the nearest whole penny, halves away from zero."""
    return round_half_up(Decimal(numerator) / Decimal(denominator))


def pence_to_pounds_text(pence: int | None) -> str:
    """For exports that a spreadsheet reads back: ``1250`` -> ``'12.50'``, ``None`` -> ``''``."""
    return "" if pence is None else format_pence(pence, symbol=False).replace(",", "")


class PoundsFormField(forms.CharField):
    """Shows and accepts pounds and pence (``12.50``, ``£1,200``); cleans to integer pence."""

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs):
        self.min_value = min_value
        self.max_value = max_value
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def prepare_value(self, value):
        if isinstance(value, int):
            return pence_to_pounds_text(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            pence = parse_pounds(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from error
        if self.min_value is not None and pence < self.min_value:
            raise ValidationError(
                f"Enter an amount of at least {format_pence(self.min_value)}.", code="min_value"
            )
        if self.max_value is not None and pence > self.max_value:
            raise ValidationError(
                f"Enter an amount of no more than {format_pence(self.max_value)}.",
                code="max_value",
            )
        return pence


class PenceField(models.BigIntegerField):
    """An amount of money stored as integer pence and edited in pounds."""

    def formfield(self, **kwargs):
        # Skip IntegerField's number widget and 64-bit bounds: this is edited as pounds.
        kwargs.setdefault("min_value", 0)
        return models.Field.formfield(self, form_class=PoundsFormField, **kwargs)
