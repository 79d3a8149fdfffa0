"""The endpoints an automated telephone payment system (IVR) calls.

Both take a POST authenticated with the integration's API key
(``Authorization: Bearer <key>``). The integration's plugin reads the
request and writes the answer (``ims_telephone_*`` hooks), so an IVR can
speak its vendor's own format; the checking and recording in between is
``plugins.telephone_payments``, the same whatever the format. Errors the
system finds itself (authentication, unreadable requests, conflicts) are
answered in JSON, as docs/integrations/telephone.md describes.
"""

import functools
import logging

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backoffice.payments.idempotency import IdempotencyConflict

from . import manager, telephone_payments
from .services import integration_for_api_key
from .types import PluginKind

logger = logging.getLogger(__name__)


class _Refusal(Exception):
    """A request answered with an error before the plugin's answer is written."""

    def __init__(self, response: JsonResponse):
        super().__init__(response.status_code)
        self.response = response


def _error(status: int, code: str, message: str, problems=None) -> JsonResponse:
    body = {"error": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    return JsonResponse(body, status=status)


def _unauthorised(message: str, *, invalid_token: bool) -> JsonResponse:
    response = _error(401, "unauthorised", message)
    # RFC 6750: say that a bearer token is wanted, and whether the one sent was refused.
    challenge = 'Bearer realm="ims"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _telephone_integration(request, public_id):
    """The enabled telephone integration the request's API key opens, or a refusal."""
    api_key = _bearer_token(request)
    if not api_key:
        raise _Refusal(
            _unauthorised(
                "Send the integration's API key in the header 'Authorization: Bearer <key>'.",
                invalid_token=False,
            )
        )
    integration = integration_for_api_key(public_id=public_id, api_key=api_key)
    if integration is None:
        # One answer for a wrong key, an unknown id and a disabled integration, so
        # that a caller without the key learns nothing about which it was.
        raise _Refusal(
            _unauthorised(
                "The API key does not open this integration, or the integration is disabled.",
                invalid_token=True,
            )
        )
    try:
        kinds = manager.plugin_info(integration.plugin).kinds
    except manager.PluginNotInstalled:
        kinds = ()
    if PluginKind.TELEPHONE not in kinds:
        raise _Refusal(
            _error(404, "not_found", "This integration does not take telephone payments.")
        )
    return integration


def _problems(error: ValidationError) -> list[dict]:
    """A ``ValidationError`` as ``[{"field", "message"}]``; ``field`` is null for the request."""
    if hasattr(error, "error_dict"):
        return [
            {"field": None if field == "__all__" else field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": None, "message": message} for message in error.messages]


def _ask(integration, hook: str, **kwargs):
    answer = manager.call(integration.plugin, hook, integration=integration, **kwargs)
    if answer is None:
        logger.error("Plugin %s does not implement %s.", integration.plugin, hook)
        raise _Refusal(
            _error(
                501,
                "not_implemented",
                f"The plugin '{integration.plugin}' does not implement {hook}.",
            )
        )
    return answer


def _read(integration, hook: str, request):
    try:
        return _ask(integration, hook, request=request)
    except ValidationError as error:
        raise _Refusal(
            _error(400, "invalid_request", "The request could not be read.", _problems(error))
        ) from error


def _answered(view):
    """Turn a ``_Refusal`` raised anywhere in the view into its response."""

    @functools.wraps(view)
    def wrapped(request, public_id):
        try:
            return view(request, public_id)
        except _Refusal as refusal:
            return refusal.response

    return wrapped


@csrf_exempt
@require_POST
@_answered
def check(request, public_id):
    """May this fund code, reference and amount be paid? Answers with every problem found."""
    integration = _telephone_integration(request, public_id)
    check_ = _read(integration, "ims_telephone_read_check", request)
    problems = telephone_payments.telephone_check(integration=integration, check=check_)
    return _ask(integration, "ims_telephone_answer_check", check=check_, problems=problems)


@csrf_exempt
@require_POST
@_answered
def outcome(request, public_id):
    """The IVR reports a card payment: recorded once per transaction id."""
    integration = _telephone_integration(request, public_id)
    outcome_ = _read(integration, "ims_telephone_read_outcome", request)
    try:
        recorded = telephone_payments.telephone_outcome_record(
            integration=integration, outcome=outcome_
        )
    except IdempotencyConflict as error:
        return _error(409, "idempotency_conflict", " ".join(error.messages))
    except ValidationError as error:
        # Nothing was written: say why, so that someone can put it right and report again.
        logger.warning(
            "Telephone payment %s from %s not recorded: %s",
            outcome_.transaction_id,
            integration.key,
            error,
        )
        code = getattr(error, "code", None) or "cannot_record"
        return _error(422, code, "The payment could not be recorded.", _problems(error))
    return _ask(
        integration,
        "ims_telephone_answer_outcome",
        outcome=outcome_,
        payment=recorded.payment,
        replayed=recorded.replayed,
    )
