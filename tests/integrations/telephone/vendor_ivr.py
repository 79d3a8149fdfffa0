"""A vendor's own IVR plugin, for the tests: form fields in, plain text out.

It shows what docs/integrations/telephone.md says a vendor writes: the four
telephone hooks, reading its own format into the system's values and
writing the system's answers back in its own words. Registered by the tests
only (see test_vendor_plugin.py).
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind, TelephoneCheck, TelephoneOutcome


@hookimpl
def ims_plugin_info():
    """A telephone plugin with an API key, and no settings."""
    return PluginInfo(
        name="vendor_ivr",
        title="Vendor IVR (form fields)",
        kinds=(PluginKind.TELEPHONE,),
        uses_api_key=True,
    )


def _pence(request) -> int:
    try:
        return int(request.POST["pence"])
    except KeyError:
        raise ValidationError({"pence": "Missing."}) from None
    except ValueError:
        raise ValidationError({"pence": "Not a whole number."}) from None


@hookimpl
def ims_telephone_read_check(integration, request):
    """``fund``, ``account`` and ``pence`` form fields."""
    return TelephoneCheck(
        fund_code=request.POST.get("fund", ""),
        reference=request.POST.get("account", ""),
        amount_pence=_pence(request),
    )


@hookimpl
def ims_telephone_answer_check(integration, check, problems):
    """``PAYABLE``, or ``REFUSED`` and the first problem's code."""
    text = f"REFUSED {problems[0][0]}" if problems else "PAYABLE"
    return HttpResponse(text, content_type="text/plain")


@hookimpl
def ims_telephone_read_outcome(integration, request):
    """``txn``, ``fund``, ``account``, ``pence`` and ``result`` (AUTHORISED or DECLINED)."""
    return TelephoneOutcome(
        transaction_id=request.POST.get("txn", ""),
        fund_code=request.POST.get("fund", ""),
        reference=request.POST.get("account", ""),
        amount_pence=_pence(request),
        succeeded=request.POST.get("result") == "AUTHORISED",
    )


@hookimpl
def ims_telephone_answer_outcome(integration, outcome, payment, replayed):
    """``RECORDED`` and the receipt number (or ``FAILED``), ``AGAIN`` on a repeat."""
    word = "AGAIN" if replayed else "RECORDED"
    return HttpResponse(f"{word} {payment.receipt_number or 'FAILED'}", content_type="text/plain")
