"""Retryable writes: the same key and content returns the first result and writes nothing."""

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from .models import IdempotencyRecord

T = TypeVar("T", bound=models.Model)


class IdempotencyConflict(ValidationError):
    """The key was used before for a request with different content."""


def fingerprint(content) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _conflict(key: str, scope: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"The idempotency key '{key}' was already used for a different "
        f"{scope.replace('_', ' ')} request; use a new key for a new request.",
        code="idempotency_conflict",
    )


def _replay(record: IdempotencyRecord, fingerprint_: str, model):
    if record.fingerprint != fingerprint_:
        raise _conflict(record.key, record.scope)
    return model.objects.get(pk=record.result_id)


def run_once(
    *,
    organisation,
    scope: str,
    key: str | None,
    content,
    model: type[T],
    write: Callable[[], T],
) -> tuple[T, bool]:
    """``write()`` once per (council, scope, key); returns the result and whether it was written.

    A repeat with the same content returns the first result; with other
    content it raises ``IdempotencyConflict``. Two requests racing with one
    key: the second waits for the first, then returns its result.

    The write and its record share one transaction (a savepoint when the
    caller already has one), which ``run_once`` opens: services that use it
    need no transaction of their own.
    """
    if not key:
        with transaction.atomic():
            return write(), True
    fingerprint_ = fingerprint(content)
    record = IdempotencyRecord.objects.filter(
        organisation=organisation, scope=scope, key=key
    ).first()
    if record is not None:
        return _replay(record, fingerprint_, model), False
    try:
        # The write and its record together: if another request recorded
        # this key first, both are undone here and its result returned.
        with transaction.atomic():
            result = write()
            IdempotencyRecord.objects.create(
                organisation=organisation,
                scope=scope,
                key=key,
                fingerprint=fingerprint_,
                result_id=result.pk,
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.filter(
            organisation=organisation, scope=scope, key=key
        ).first()
        if record is None:
            raise
        return _replay(record, fingerprint_, model), False
    return result, True


def run_once_keyed(
    *,
    organisation,
    scope: str,
    key: str | None,
    content,
    model: type[T],
    write: Callable[[str | None, str], T],
    single_statement: bool = False,
) -> tuple[T, bool]:
    """``run_once`` for a result that keeps its key on its own row.

    ``model`` has ``idempotency_key`` and ``idempotency_fingerprint`` fields,
    unique per council; ``write(key, fingerprint)`` stores them on the row it
    creates, as its first write. Nothing is looked up beforehand: a new
    request (nearly all of them) costs no statement for its key. A repeat
    fails on the unique key, which undoes everything the attempt did, and
    then gets the first result (same content) or ``IdempotencyConflict``.
    Two requests racing with one key: the second waits for the first at its
    insert, then returns its result.

    A repeat whose content no longer passes validation (say, its fund has
    been closed since) still gets the first result, as with ``run_once``.

    ``single_statement``: ``write`` writes everything in one statement (after
    reads only), which the database runs as a transaction of its own; outside
    the caller's transaction none is opened around it, saving the round trips
    to begin and commit one. Inside one, a savepoint still keeps a repeated
    key from spoiling the caller's transaction.
    """

    def attempt(key, fingerprint_):
        if single_statement and not transaction.get_connection().in_atomic_block:
            return write(key, fingerprint_)
        with transaction.atomic():
            return write(key, fingerprint_)

    if not key:
        return attempt(None, ""), True
    fingerprint_ = fingerprint(content)
    try:
        return attempt(key, fingerprint_), True
    except (IntegrityError, ValidationError):
        first = model.objects.filter(organisation=organisation, idempotency_key=key).first()
        if first is None:
            raise
    if first.idempotency_fingerprint != fingerprint_:
        raise _conflict(key, scope)
    return first, False
