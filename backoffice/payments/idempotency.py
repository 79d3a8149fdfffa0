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


def _replay(record: IdempotencyRecord, fingerprint_: str, model):
    if record.fingerprint != fingerprint_:
        raise IdempotencyConflict(
            f"The idempotency key '{record.key}' was already used for a different "
            f"{record.scope.replace('_', ' ')} request; use a new key for a new request.",
            code="idempotency_conflict",
        )
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
