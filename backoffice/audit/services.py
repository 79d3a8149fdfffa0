"""Writing the audit log: ``audit_record`` is the one way an event gets in.

The middleware (every back-office request) and the sign-in signals call it;
domain services may call it too, to record something a request alone does not
say (e.g. which refund a form created). It raises if the event cannot be
written: a service recording inside its own transaction should fail rather
than act unaudited. The middleware and signals catch and log that instead,
so that a broken audit table never stops staff working.
"""

import ipaddress
import logging
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditAction, AuditEvent

logger = logging.getLogger(__name__)

USER_AGENT_LENGTH = AuditEvent._meta.get_field("user_agent").max_length
PATH_LENGTH = AuditEvent._meta.get_field("path").max_length
DESCRIPTION_LENGTH = AuditEvent._meta.get_field("description").max_length
QUERY_VALUE_LENGTH = 200

# A parameter whose name looks like any of these is never stored, whatever its value.
SECRET_NAME = re.compile(
    r"pass(word)?|secret|api[_-]?key|token|card|cvv|cvc|security[_-]?code|otp", re.IGNORECASE
)
# 13 to 19 digits, perhaps in groups: what a card number looks like when typed into a box.
CARD_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
CARD_NUMBER_REMOVED = "[card number removed]"


def audit_record(
    *,
    action: str,
    request=None,
    user=None,
    organisation=None,
    username: str | None = None,
    obj=None,
    object_type: str = "",
    object_id="",
    description: str = "",
    query=None,
    status_code: int | None = None,
) -> AuditEvent:
    """Record one event, taking who, from where and which page from ``request`` if given.

    ``user``, ``organisation`` and ``username`` given explicitly win over the
    request's. ``obj`` (a model instance) names the object: its type, id and
    "payment 123" as the description unless one is given. ``query`` is a
    mapping of search terms (a QueryDict or dict); secrets are dropped from it.
    """
    if action not in AuditAction.values:
        raise ValueError(f"{action!r} is not an audit action: use one of AuditAction.")
    from_request = {}
    if request is not None:
        request_user = getattr(request, "user", None)
        if user is None and getattr(request_user, "is_authenticated", False):
            user = request_user
        if organisation is None:
            organisation = getattr(request, "organisation", None)
        from_request = {
            "path": request.path[:PATH_LENGTH],
            "method": request.method or "",
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
        }
    if username is None:
        username = user.get_username() if user is not None else ""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        description = description or f"{obj._meta.verbose_name} {obj.pk}"
    return AuditEvent.objects.create(
        organisation=organisation,
        user=user,
        username=username[:150],
        at=timezone.now(),
        action=action,
        object_type=object_type,
        object_id="" if object_id in (None, "") else str(object_id)[:64],
        description=description[:DESCRIPTION_LENGTH],
        status_code=status_code,
        query=query_without_secrets(query) if query else {},
        **from_request,
    )


def query_without_secrets(query) -> dict[str, list[str]]:
    """Search terms fit to keep: no parameter named like a secret, no card numbers.

    ``query`` is a QueryDict (every value of a repeated parameter is kept) or a
    plain dict. Long values are cut short: the log records what was searched
    for, not pasted documents.
    """
    kept = {}
    for name in query:
        if SECRET_NAME.search(name):
            continue
        values = query.getlist(name) if hasattr(query, "getlist") else [query[name]]
        values = [_without_card_numbers(str(value))[:QUERY_VALUE_LENGTH] for value in values]
        if any(values):
            kept[name[:100]] = values
    return kept


def _without_card_numbers(value: str) -> str:
    def replace(match):
        digits = re.sub(r"\D", "", match.group())
        return CARD_NUMBER_REMOVED if _passes_luhn(digits) else match.group()

    return CARD_NUMBER_LIKE.sub(replace, value)


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def client_ip(request) -> str | None:
    """The address the request came from.

    REMOTE_ADDR, unless ``AUDIT_TRUSTED_PROXIES`` says how many reverse proxies
    of our own stand in front of the system: then X-Forwarded-For's entry that
    many places from the right, the address the outermost of our proxies saw.
    Entries further left are whatever the client chose to send, so they are
    never believed. A header with fewer entries than that, or an entry that is
    not an IP address, falls back to REMOTE_ADDR.
    """
    remote = _ip_or_none(request.META.get("REMOTE_ADDR", ""))
    trusted = getattr(settings, "AUDIT_TRUSTED_PROXIES", 0)
    if trusted <= 0:
        return remote
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop
    ]
    if len(forwarded) < trusted:
        return remote
    return _ip_or_none(forwarded[-trusted]) or remote


def _ip_or_none(value: str) -> str | None:
    value = value.strip()
    # Some proxies add the port: "203.0.113.7:51234" or "[2001:db8::1]:51234".
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def audit_record_quietly(**event) -> AuditEvent | None:
    """``audit_record`` for callers that must carry on whatever happens.

    The request middleware and the sign-in signals use it: a failure is logged,
    not raised, and inside a transaction it is confined to a savepoint so that
    the caller's transaction is not left broken.
    """
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                return audit_record(**event)
        # In autocommit, as in production requests, the INSERT is one statement on its own.
        return audit_record(**event)
    except Exception:
        logger.exception("Could not write the audit event (%s)", event.get("action"))
        return None
