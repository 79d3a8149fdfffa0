"""Paying-in slips: gathering what is to be banked, and marking it banked.

``paying_in_slip_mark_banked`` is what the bank reconciliation calls when a
statement shows the deposit; until then a person marks it. Banking moves the
slip's total from cash in transit to the bank in one entry, so cash in
transit holds only money not yet banked.
"""

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backoffice.counter import services as counter_services
from backoffice.counter.models import CashReturn, ReturnStatus, SessionStatus, TillSession
from backoffice.ledger.models import AccountKind, EntryKind
from backoffice.ledger.services import Leg, accounts_for, lock_row, write_entry
from backoffice.money import format_pence

from .models import PayingInSlip, PayingInSlipItem, SlipSequence, SlipStatus

_NEXT_NUMBER = (
    f"UPDATE {SlipSequence._meta.db_table} SET last_number = last_number + 1 "  # noqa: S608 - table name from the model
    "WHERE organisation_id = %s RETURNING last_number"
)


def _next_number(organisation) -> str:
    """The council's next slip number, in the caller's transaction.

    The UPDATE locks the council's sequence row until commit: numbers are
    issued one at a time, and a slip rolled back gives its number to the next.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBER, [organisation.pk])
        row = cursor.fetchone()
        if row is None:
            SlipSequence.objects.bulk_create(
                [SlipSequence(organisation=organisation)], ignore_conflicts=True
            )
            cursor.execute(_NEXT_NUMBER, [organisation.pk])
            row = cursor.fetchone()
    return f"PI-{row[0]:06d}"


def _on_active_slip(field: str, pk: int) -> PayingInSlipItem | None:
    return (
        PayingInSlipItem.objects.filter(**{field: pk}, is_released=False)
        .select_related("slip")
        .first()
    )


def paying_in_slip_create(
    *,
    organisation,
    prepared_by,
    sessions: Sequence[TillSession] = (),
    cash_returns: Sequence[CashReturn] = (),
    note: str = "",
) -> PayingInSlip:
    """Gather signed-off sessions and authorised returns on a new slip with the next number.

    Each is checked and locked (in id order, so that two slips being made at
    once wait rather than deadlock); one already on another slip is refused.
    """
    if not sessions and not cash_returns:
        raise ValidationError("Choose at least one till session or cash return to bank.")
    with transaction.atomic():
        items = []
        for session in sorted(sessions, key=lambda row: row.pk):
            session = lock_row(TillSession, session.pk)
            _check_ours(session, organisation)
            if session.status != SessionStatus.SIGNED_OFF:
                raise ValidationError(
                    f"Till session {session.pk} is {session.get_status_display().lower()}: only "
                    "signed-off sessions can be banked.",
                    code="not_ready",
                )
            _check_not_on_a_slip("till_session", session.pk, f"Till session {session.pk}")
            items.append(
                PayingInSlipItem(
                    organisation=organisation,
                    till_session=session,
                    cash_pence=session.counted_cash_pence,
                    cheques_pence=session.counted_cheques_pence,
                )
            )
        for cash_return in sorted(cash_returns, key=lambda row: row.pk):
            cash_return = lock_row(CashReturn, cash_return.pk)
            _check_ours(cash_return, organisation)
            if cash_return.status != ReturnStatus.AUTHORISED:
                raise ValidationError(
                    f"{cash_return} is {cash_return.get_status_display().lower()}: only "
                    "authorised returns can be banked.",
                    code="not_ready",
                )
            _check_not_on_a_slip("cash_return", cash_return.pk, str(cash_return))
            items.append(
                PayingInSlipItem(
                    organisation=organisation,
                    cash_return=cash_return,
                    cash_pence=cash_return.cash_pence,
                    cheques_pence=cash_return.cheques_pence,
                )
            )
        cash = sum(item.cash_pence for item in items)
        cheques = sum(item.cheques_pence for item in items)
        slip = PayingInSlip(
            organisation=organisation,
            number=_next_number(organisation),
            cash_pence=cash,
            cheques_pence=cheques,
            total_pence=cash + cheques,
            prepared_by=prepared_by,
            note=note.strip(),
        )
        slip.save()
        for item in items:
            item.slip = slip
        try:
            with transaction.atomic():
                PayingInSlipItem.objects.bulk_create(items)
        except IntegrityError:
            # Another slip took one of them between our check and our insert.
            raise ValidationError(
                "One of these is already on another paying-in slip: start again.",
                code="already_on_a_slip",
            ) from None
    return slip


def _check_ours(row, organisation) -> None:
    if row.organisation_id != organisation.pk:
        raise ValidationError(f"{row} belongs to another council.")


def _check_not_on_a_slip(field: str, pk: int, name: str) -> None:
    existing = _on_active_slip(field, pk)
    if existing is not None:
        raise ValidationError(f"{name} is already on {existing.slip}.", code="already_on_a_slip")


def _locked_slip(slip: PayingInSlip) -> PayingInSlip:
    return lock_row(PayingInSlip, slip.pk)


@transaction.atomic
def paying_in_slip_mark_banked(
    *,
    slip: PayingInSlip,
    banked_on: datetime.date,
    marked_by=None,
    actor: str = "",
    bank_reference: str = "",
) -> PayingInSlip:
    """The bank has the slip's deposit: move its total from cash in transit to the bank, and
    mark its sessions and returns banked.

    ``marked_by`` is the person, or ``actor`` names what did it when no person
    did (e.g. ``"bank reconciliation"``). Marked banked again, it changes
    nothing and returns the slip as it is.
    """
    slip = _locked_slip(slip)
    if slip.status == SlipStatus.BANKED:
        return slip
    if slip.status == SlipStatus.CANCELLED:
        raise ValidationError(f"{slip} was cancelled: it cannot be banked.", code="cancelled")
    if not isinstance(banked_on, datetime.date):
        raise ValidationError({"banked_on": "Give the day the bank took the deposit."})
    if marked_by is None and not actor:
        raise ValidationError("Say who or what marked the slip banked.")
    organisation = slip.organisation
    if slip.total_pence:
        accounts = accounts_for(
            organisation,
            system=[(AccountKind.CASH_IN_TRANSIT, ""), (AccountKind.BANK, "")],
        )
        slip.entry = write_entry(
            organisation=organisation,
            kind=EntryKind.JOURNAL,
            description=f"{slip} banked ({format_pence(slip.total_pence)})",
            legs=[
                Leg(accounts[(AccountKind.BANK, "")], slip.total_pence),
                Leg(accounts[(AccountKind.CASH_IN_TRANSIT, "")], -slip.total_pence),
            ],
            created_by=marked_by,
            reason=bank_reference or f"Banked on {banked_on:%d/%m/%Y}",
            source=slip,
        )
    for item in slip.items.filter(is_released=False).order_by("pk"):
        if item.till_session_id:
            counter_services.till_session_mark_banked(
                session=TillSession(pk=item.till_session_id),
                slip=slip,
                changed_by=marked_by,
                actor=actor,
            )
        else:
            counter_services.cash_return_mark_banked(
                cash_return=CashReturn(pk=item.cash_return_id),
                slip=slip,
                changed_by=marked_by,
                actor=actor,
            )
    slip.status = SlipStatus.BANKED
    slip.banked_on = banked_on
    slip.banked_by = marked_by
    slip.banked_actor = actor[:100]
    slip.banked_at = timezone.now()
    slip.bank_reference = bank_reference.strip()[:100]
    slip.save()
    return slip


@transaction.atomic
def paying_in_slip_cancel(*, slip: PayingInSlip, cancelled_by, reason: str) -> PayingInSlip:
    """Cancel a slip not yet banked (made in error): its sessions and returns can go on another.
    Nothing was posted for it, so nothing is reversed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the slip is cancelled."})
    slip = _locked_slip(slip)
    if slip.status != SlipStatus.PREPARED:
        raise ValidationError(
            f"{slip} is {slip.get_status_display().lower()}: only a slip waiting for the bank "
            "can be cancelled.",
            code="not_prepared",
        )
    slip.items.update(is_released=True)
    slip.status = SlipStatus.CANCELLED
    slip.cancelled_by = cancelled_by
    slip.cancelled_at = timezone.now()
    slip.cancel_reason = reason.strip()
    slip.save()
    return slip
