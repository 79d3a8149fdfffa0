"""The generic IVR plugin: any telephone payment system that speaks the documented JSON exchange.

The exchange is in docs/integrations/telephone.md. Requests are read
strictly: a missing, unknown or mistyped field is refused with a 400 naming
it, because a field the IVR thinks it sent but we ignored (a misspelt
``provider_reference``, say) would otherwise be lost without anyone knowing.
"""

import json
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import JsonResponse

from backoffice.funds.models import Channel, FundCode
from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind, RefundResult, TelephoneCheck, TelephoneOutcome

SUCCEEDED, FAILED = "succeeded", "failed"


class TelephoneSettingsForm(forms.Form):
    """What a finance administrator sets for one IVR: which funds it may take."""

    fund_codes = forms.MultipleChoiceField(
        label="Fund codes this telephone line may take",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave them all unticked to take every fund code that accepts "
        "telephone payments.",
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        funds = (
            FundCode.objects.for_organisation(organisation)
            .active()
            .accepting(Channel.TELEPHONE)
            .filter(is_suspense=False)
            .order_by("code")
        )
        self.fields["fund_codes"].choices = [(fund.code, str(fund)) for fund in funds]


@hookimpl
def ims_plugin_info():
    """The generic IVR: telephone payments through a JSON exchange, with an API key."""
    return PluginInfo(
        name="telephone",
        title="Telephone payments (generic IVR)",
        kinds=(PluginKind.TELEPHONE,),
        description="An automated telephone payment system checks a fund code, reference "
        "and amount, takes the card with its own card provider, then reports the outcome, "
        "in the JSON exchange described in docs/integrations/telephone.md.",
        settings_form=TelephoneSettingsForm,
        uses_api_key=True,
    )


# Reading requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """One field of a JSON object: its type, whether it must be there, its limits."""

    kind: str  # "string", "number" or "object"
    required: bool = True
    max_length: int | None = None
    blank: bool = True
    choices: tuple[str, ...] = ()
    fields: dict | None = None  # for an object: its own fields
    email: bool = False


_CHECK = {
    "fund_code": _Field("string", max_length=20, blank=False),
    "reference": _Field("string", max_length=100),
    "amount_pence": _Field("number"),
}

_PAYER = {
    "name": _Field("string", required=False, max_length=200),
    "email": _Field("string", required=False, max_length=254, email=True),
    "postcode": _Field("string", required=False, max_length=10),
}

_OUTCOME = {
    "transaction_id": _Field("string", max_length=100, blank=False),
    "fund_code": _Field("string", max_length=20, blank=False),
    "reference": _Field("string", max_length=100),
    "amount_pence": _Field("number"),
    "outcome": _Field("string", choices=(SUCCEEDED, FAILED)),
    "provider_reference": _Field("string", required=False, max_length=100),
    "payer": _Field("object", required=False, fields=_PAYER),
    "message": _Field("string", required=False, max_length=255),
}


def _is_kind(value, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        # JSON true/false are bools, which Python counts as integers.
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, dict)


def _field_problem(value, field: _Field) -> str | None:
    if not _is_kind(value, field.kind):
        article = "an" if field.kind == "object" else "a"
        return f"Must be {article} {field.kind}, not {json.dumps(value)}."
    if field.kind != "string":
        return None
    if not field.blank and not value.strip():
        return "Must not be blank."
    if field.max_length is not None and len(value) > field.max_length:
        return f"At most {field.max_length} characters, not {len(value)}."
    if field.choices and value not in field.choices:
        return f"Must be one of {', '.join(repr(choice) for choice in field.choices)}."
    if field.email and value:
        try:
            validate_email(value)
        except ValidationError:
            return "Must be an email address."
    return None


def _problems(data: dict, schema: dict, prefix: str = "") -> dict[str, str]:
    """Every problem with ``data`` against ``schema``, keyed by the field's dotted name."""
    problems = {}
    for name in sorted(set(data) - set(schema)):
        problems[prefix + name] = "Unknown field: the exchange has no field of this name."
    for name, field in schema.items():
        value = data.get(name)
        if value is None:
            # An optional field may be left out or sent as null; a required one may not.
            if field.required:
                problems[prefix + name] = "This field is required."
            continue
        problem = _field_problem(value, field)
        if problem:
            problems[prefix + name] = problem
        elif field.fields is not None:
            problems.update(_problems(value, field.fields, prefix=f"{prefix}{name}."))
    return problems


def _read_json(request, schema: dict) -> dict:
    """The request's JSON object, checked against ``schema``; ``ValidationError`` if not."""
    if request.content_type != "application/json":
        raise ValidationError(
            "Send the body as JSON, with the header 'Content-Type: application/json' "
            f"(this request said '{request.content_type or 'nothing'}')."
        )
    try:
        data = json.loads(request.body, parse_constant=_refuse_constant)
    except ValueError as error:
        raise ValidationError(f"The body is not valid JSON: {error}.") from error
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.")
    problems = _problems(data, schema)
    if problems:
        raise ValidationError(problems)
    return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


@hookimpl
def ims_telephone_read_check(integration, request):
    """Read ``{"fund_code", "reference", "amount_pence"}`` into a ``TelephoneCheck``."""
    data = _read_json(request, _CHECK)
    return TelephoneCheck(
        fund_code=data["fund_code"], reference=data["reference"], amount_pence=data["amount_pence"]
    )


@hookimpl
def ims_telephone_answer_check(integration, check, problems):
    """Answer ``{"payable": bool, "problems": [{"code", "message"}]}`` with a 200."""
    return JsonResponse(
        {
            "payable": not problems,
            "problems": [{"code": code, "message": message} for code, message in problems],
        }
    )


@hookimpl
def ims_telephone_read_outcome(integration, request):
    """Read an outcome report (see ``_OUTCOME``) into a ``TelephoneOutcome``."""
    data = _read_json(request, _OUTCOME)
    payer = data.get("payer") or {}
    return TelephoneOutcome(
        transaction_id=data["transaction_id"],
        fund_code=data["fund_code"],
        reference=data["reference"],
        amount_pence=data["amount_pence"],
        succeeded=data["outcome"] == SUCCEEDED,
        provider_reference=data.get("provider_reference") or "",
        payer_name=payer.get("name") or "",
        payer_email=payer.get("email") or "",
        postcode=payer.get("postcode") or "",
        message=data.get("message") or "",
    )


@hookimpl
def ims_telephone_answer_outcome(integration, outcome, payment, replayed):
    """Answer ``{"payment_id", "status", "receipt_number", "replayed"}``.

    201 when the payment was recorded now, 200 when the same transaction id
    was reported before and nothing new was written.
    """
    return JsonResponse(
        {
            "payment_id": payment.pk,
            "status": payment.status,
            "receipt_number": payment.receipt_number,
            "replayed": replayed,
        },
        status=200 if replayed else 201,
    )


# Refunds ---------------------------------------------------------------------------------


@hookimpl
def ims_provider_refund(integration, refund, amount_available_pence):
    """Accept the refund of a telephone payment, telling staff to pay it back themselves.

    The card was taken by the IVR's own card provider, which this system has
    no connection to: the money can only go back to the caller's card from
    that provider's portal. So the refund is recorded here (the ledger moves
    it out of the integration's clearing account, as the provider's payout
    will be that much smaller) and staff are told to make it in the portal.
    """
    payment = refund.payment
    return RefundResult(
        accepted=True,
        message=(
            f"Recorded here only: refund it to the caller's card in the portal of "
            f"{integration.title}'s card provider (their reference "
            f"{payment.provider_reference}); this system cannot reach that provider."
        ),
    )
