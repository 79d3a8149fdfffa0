"""Colours a council chooses for its payment pages, and the WCAG contrast rule they must meet.

Contrast is WCAG 2.2's: the relative luminance of each sRGB colour, and the
ratio (lighter + 0.05) / (darker + 0.05). Text needs at least 4.5:1 against
its background for level AA (success criterion 1.4.3).
"""

import math
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_TEXT_CONTRAST = 4.5

hex_colour_validator = RegexValidator(
    HEX_COLOUR,
    "Give a colour as # followed by six hexadecimal digits, e.g. #1d70b8.",
    code="invalid_colour",
)


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    if not HEX_COLOUR.match(colour or ""):
        raise ValueError(f"{colour!r} is not a colour written as #rrggbb")
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def format_ratio(ratio: float) -> str:
    # Rounded down, so that a pair just short of 4.5:1 never reads as "4.50:1".
    return f"{math.floor(ratio * 100) / 100:.2f}:1"


def check_text_contrast(*, text: str, background: str, what: str) -> None:
    """Refuse ``text`` on ``background`` below WCAG AA's 4.5:1, saying by how much.

    ``what`` names the pair for the person choosing, e.g. "The header text colour
    on the brand colour".
    """
    ratio = contrast_ratio(text, background)
    if ratio < AA_TEXT_CONTRAST:
        raise ValidationError(
            "%(what)s (%(text)s on %(background)s) has a contrast ratio of %(ratio)s; "
            "text needs at least 4.5:1 to meet WCAG 2.2 AA. Choose a darker or lighter "
            "colour so that the two differ more.",
            code="low_contrast",
            params={
                "what": what,
                "text": text,
                "background": background,
                "ratio": format_ratio(ratio),
            },
        )
