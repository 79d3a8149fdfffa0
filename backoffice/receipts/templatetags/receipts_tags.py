from django import template

from backoffice.money import format_pence

register = template.Library()


@register.filter
def pounds(pence: int) -> str:
    """Integer pence as pounds for a receipt: ``24000`` -> ``'£240.00'``."""
    return format_pence(pence)
