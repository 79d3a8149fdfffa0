"""Till sessions and departmental cash returns: every write, each in one transaction.

The money itself goes through the payment services: a counter payment is a
``payment_take`` (cash, cheque, card terminal) or, for a card over the phone,
a ``payment_create`` that the payment provider's staff (MOTO) flow completes;
an authorised cash return is one ``payment_take`` on the cash return channel.
So references are checked as everywhere else, and a bad one sends its line to
suspense, because the money is already in hand.

The ledger, beyond what the payments post:

- cash and cheques sit in **cash in transit** from the moment they are taken;
- when a supervisor signs off a session whose count differs from what was
  taken, the difference (the variance) moves between cash in transit and the
  office's fund for cash over and short, so that cash in transit then holds
  exactly what was counted, which is what is banked;
- banking a paying-in slip (``backoffice.banking``) moves what was counted
  from cash in transit to the bank, so cash in transit is zero once everything
  taken has been banked.

State only moves forward, under the row's lock, and every move is recorded
with who, when and a note.
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.funds.models import Channel, FundCode
from backoffice.ledger.models import AccountKind, EntryKind
from backoffice.ledger.services import (
    Leg,
    fund_account,
    lock_row,
    system_account,
    write_entry,
)
from backoffice.money import format_pence
from backoffice.payments import services as payment_services
from backoffice.payments.models import TAKEN_STATUSES, Method, Payment
from backoffice.payments.services import LineInput, Payer

from .models import (
    RETURN_TRANSITIONS,
    SESSION_TRANSITIONS,
    CashReturn,
    Denomination,
    PaymentKind,
    ReturnCashCount,
    ReturnCheque,
    ReturnLine,
    ReturnStatus,
    ReturnStatusChange,
    ReturnTemplate,
    ReturnTemplateLine,
    SessionCashCount,
    SessionDraft,
    SessionPayment,
    SessionStatus,
    SessionStatusChange,
    Till,
    TillSession,
)

# Cheques -------------------------------------------------------------------------------

_SORT_CODE = re.compile(r"^(\d{2})[- ]?(\d{2})[- ]?(\d{2})$")
_CHEQUE_NUMBER = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Cheque:
    """A cheque as written: its serial number, the bank's sort code, who wrote it, how much."""

    number: str
    sort_code: str
    drawer: str
    amount_pence: int = 0


def cheque_checked(cheque: Cheque, *, where: str = "The cheque") -> Cheque:
    """The cheque with its sort code written ``12-34-56``; ``ValidationError`` saying what is
    wrong with it otherwise."""
    errors = []
    number = (cheque.number or "").strip()
    if not _CHEQUE_NUMBER.match(number):
        errors.append(f"{where}: the cheque number is the 6 digits at the foot of the cheque.")
    match = _SORT_CODE.match((cheque.sort_code or "").strip())
    if not match:
        errors.append(f"{where}: a sort code is 6 digits, such as 12-34-56.")
    drawer = (cheque.drawer or "").strip()
    if not drawer:
        errors.append(f"{where}: give the name of who wrote the cheque (the drawer).")
    if errors:
        raise ValidationError(errors, code="cheque")
    return Cheque(
        number=number,
        sort_code="-".join(match.groups()),
        drawer=drawer[:200],
        amount_pence=cheque.amount_pence,
    )


def _counts_checked(cash_counts: Mapping[int, int]) -> dict[int, int]:
    """Denomination -> quantity, with zero quantities dropped; ``ValidationError`` otherwise."""
    counted = {}
    for denomination, quantity in cash_counts.items():
        if denomination not in Denomination.values:
            raise ValidationError(
                f"{denomination}p is not a note or coin of sterling.", code="denomination"
            )
        if not isinstance(quantity, int) or quantity < 0:
            raise ValidationError(
                f"The number of {Denomination(denomination).label} must be 0 or more.",
                code="denomination",
            )
        if quantity:
            counted[denomination] = quantity
    return counted


def cash_total_pence(cash_counts: Mapping[int, int]) -> int:
    return sum(denomination * quantity for denomination, quantity in cash_counts.items())


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


# Till sessions -------------------------------------------------------------------------


def _move_session(session: TillSession, to_status: str, *, changed_by=None, actor="", note=""):
    if to_status not in SESSION_TRANSITIONS[session.status]:
        raise ValidationError(
            f"{session} is {session.get_status_display().lower()}: it cannot become "
            f"{SessionStatus(to_status).label.lower()}.",
            code="invalid_transition",
        )
    SessionStatusChange.objects.create(
        organisation_id=session.organisation_id,
        session=session,
        from_status=session.status,
        to_status=to_status,
        changed_by=changed_by,
        actor=actor,
        note=note,
    )
    session.status = to_status


def _locked_session(session: TillSession) -> TillSession:
    return lock_row(TillSession, session.pk)


@transaction.atomic
def till_session_open(*, till: Till, opened_by, note: str = "") -> TillSession:
    """Open a session on a till for the cashier ``opened_by``. A till has one open session."""
    till = lock_row(Till, till.pk)
    if not till.is_active:
        raise ValidationError(f"{till} is not in use: choose another till.", code="till_inactive")
    open_now = (
        TillSession.objects.filter(till=till, status=SessionStatus.OPEN)
        .select_related("opened_by")
        .first()
    )
    if open_now is not None:
        raise ValidationError(
            f"{till.name} already has a session open, opened by {_person(open_now.opened_by)} "
            f"at {timezone.localtime(open_now.opened_at):%H:%M on %d/%m/%Y}. It must be "
            "closed before another is opened.",
            code="till_in_use",
        )
    try:
        with transaction.atomic():
            session = TillSession.objects.create(
                organisation_id=till.organisation_id, till=till, opened_by=opened_by
            )
    except IntegrityError:
        # Lost a race with another cashier opening the same till (the till row lock
        # makes this all but impossible; the constraint makes it impossible).
        raise ValidationError(
            f"{till.name} already has a session open.", code="till_in_use"
        ) from None
    SessionStatusChange.objects.create(
        organisation_id=session.organisation_id,
        session=session,
        to_status=SessionStatus.OPEN,
        changed_by=opened_by,
        note=note,
    )
    return session


def _check_cashier(session: TillSession, user, *, doing: str) -> None:
    if user.pk != session.opened_by_id:
        raise PermissionDenied(
            f"Only {_person(session.opened_by)}, who opened this session, can {doing}."
        )


def _check_open(session: TillSession) -> None:
    if session.status != SessionStatus.OPEN:
        raise ValidationError(
            f"{session} is {session.get_status_display().lower()}: no more payments can be "
            "taken in it. Open a new session.",
            code="session_not_open",
        )


def _session_key(session: TillSession, idempotency_key: str | None) -> str | None:
    # A payment's key is unique per council; the session's id keeps two tills'
    # keys apart whatever a browser sends.
    return f"counter-{session.pk}-{idempotency_key}" if idempotency_key else None


def _replayed(session: TillSession, key: str | None) -> SessionPayment | None:
    """The payment this session already took with ``key``, if any."""
    if not key:
        return None
    return (
        SessionPayment.objects.filter(session=session, payment__idempotency_key=key)
        .select_related("payment")
        .first()
    )


_METHOD_OF_KIND = {
    PaymentKind.CASH: Method.CASH,
    PaymentKind.CHEQUE: Method.CHEQUE,
    PaymentKind.CARD_TERMINAL: Method.CARD,
    PaymentKind.CARD_PHONE: Method.CARD,
}


def till_session_take_payment(
    *,
    session: TillSession,
    taken_by,
    kind: str,
    lines: Sequence[LineInput],
    payer: Payer | None = None,
    tendered_pence: int | None = None,
    cheque: Cheque | None = None,
    terminal_reference: str = "",
    idempotency_key: str | None = None,
) -> SessionPayment:
    """Take money in hand at the counter: cash (with change), a cheque, or a card on the terminal.

    The payment is taken (receipt number, ledger entry) and linked to the
    session in one transaction, and the session's draft is cleared with it.
    The same ``idempotency_key`` again (a form sent twice, a resubmit after a
    lost connection) returns the payment already taken and writes nothing.
    A line whose reference fails its fund's rule goes to suspense.
    """
    if kind == PaymentKind.CARD_PHONE:
        raise ValidationError(
            "A card payment over the phone is taken through the payment provider: "
            "use till_session_start_phone_payment.",
            code="kind",
        )
    if kind not in PaymentKind.values:
        raise ValidationError(f"'{kind}' is not a way of paying at the counter.", code="kind")
    key = _session_key(session, idempotency_key)
    with transaction.atomic():
        session = _locked_session(session)
        _check_cashier(session, taken_by, doing="take payments in it")
        if session.status != SessionStatus.OPEN:
            # A resubmit of a payment taken just before the session was closed.
            replayed = _replayed(session, key)
            if replayed is not None:
                return replayed
            _check_open(session)
        total = sum(item.amount_pence for item in lines)
        details = _counter_details(
            kind,
            total=total,
            tendered_pence=tendered_pence,
            cheque=cheque,
            terminal_reference=terminal_reference,
        )
        # A repeat of the key with the same content returns the payment already taken;
        # with other content it raises IdempotencyConflict.
        payment = payment_services.payment_take(
            organisation=session.organisation,
            channel=Channel.FACE_TO_FACE,
            method=_METHOD_OF_KIND[kind],
            lines=lines,
            payer=payer or Payer(),
            created_by=taken_by,
            idempotency_key=key,
            reason=f"Taken at {session.till}",
        )
        replayed = SessionPayment.objects.filter(payment=payment).first()
        if replayed is not None:
            return replayed
        record = SessionPayment.objects.create(
            organisation_id=session.organisation_id,
            session=session,
            payment=payment,
            kind=kind,
            amount_pence=payment.total_pence,
            **details,
        )
        SessionDraft.objects.filter(session=session).delete()
    return record


def _counter_details(kind, *, total, tendered_pence, cheque, terminal_reference) -> dict:
    if kind == PaymentKind.CASH:
        tendered = total if tendered_pence is None else tendered_pence
        if not isinstance(tendered, int) or tendered < total:
            raise ValidationError(
                f"The cash handed over ({format_pence(tendered or 0)}) is less than the "
                f"{format_pence(total)} being paid.",
                code="tendered",
            )
        return {"tendered_pence": tendered, "change_pence": tendered - total}
    if kind == PaymentKind.CHEQUE:
        if cheque is None:
            raise ValidationError("Give the cheque's number, sort code and drawer.", code="cheque")
        cheque = cheque_checked(cheque)
        return {
            "cheque_number": cheque.number,
            "cheque_sort_code": cheque.sort_code,
            "cheque_drawer": cheque.drawer,
        }
    terminal_reference = (terminal_reference or "").strip()
    if not terminal_reference:
        raise ValidationError(
            "Give the card terminal's reference for the transaction, from its receipt.",
            code="terminal_reference",
        )
    return {"terminal_reference": terminal_reference[:50]}


def till_session_start_phone_payment(
    *,
    session: TillSession,
    taken_by,
    provider: str,
    lines: Sequence[LineInput],
    payer: Payer | None = None,
    idempotency_key: str | None = None,
) -> SessionPayment:
    """Record a card payment over the phone, about to be taken by the provider's staff (MOTO)
    flow; the caller then hands it to the provider (``plugins.online.payment_begin`` with
    ``moto=True``), outside this transaction.

    Nothing is posted until the provider says the card was charged. The same
    key again returns the payment already recorded.
    """
    key = _session_key(session, idempotency_key)
    with transaction.atomic():
        session = _locked_session(session)
        _check_cashier(session, taken_by, doing="take payments in it")
        if session.status != SessionStatus.OPEN:
            replayed = _replayed(session, key)
            if replayed is not None:
                return replayed
            _check_open(session)
        if not provider:
            raise ValidationError(
                "Choose the payment provider to take the card through.", code="provider"
            )
        payment = payment_services.payment_create(
            organisation=session.organisation,
            channel=Channel.TELEPHONE,
            method=Method.CARD,
            lines=lines,
            payer=payer or Payer(),
            provider=provider,
            created_by=taken_by,
            idempotency_key=key,
        )
        replayed = SessionPayment.objects.filter(payment=payment).first()
        if replayed is not None:
            return replayed
        record = SessionPayment.objects.create(
            organisation_id=session.organisation_id,
            session=session,
            payment=payment,
            kind=PaymentKind.CARD_PHONE,
            amount_pence=payment.total_pence,
        )
        SessionDraft.objects.filter(session=session).delete()
    return record


# What a draft may hold: the take-payment form's own fields, as typed. Never card details.
DRAFT_FIELDS = frozenset(
    {
        "kind",
        "amount",
        "fund_code",
        "account_reference",
        "payer_name",
        "payer_email",
        "postcode",
        "tendered",
        "cheque_number",
        "cheque_sort_code",
        "cheque_drawer",
        "terminal_reference",
        "provider",
        "receipt",
        "receipt_email",
        "idempotency_key",
    }
)
_DRAFT_VALUE_LENGTH = 255


@transaction.atomic
def till_session_draft_save(*, session: TillSession, saved_by, fields: Mapping[str, str]):
    """Keep what the cashier has typed of the next payment, so that nothing is lost with the
    browser. Unknown fields are ignored; values are kept as typed (checked when taken)."""
    session = _locked_session(session)
    _check_cashier(session, saved_by, doing="take payments in it")
    _check_open(session)
    key = _session_key(session, fields.get("idempotency_key"))
    if (
        key
        and Payment.objects.filter(
            organisation_id=session.organisation_id, idempotency_key=key
        ).exists()
    ):
        # A late save from the form of a payment already taken: the page has moved on.
        return None
    kept = {
        name: str(value)[:_DRAFT_VALUE_LENGTH]
        for name, value in fields.items()
        if name in DRAFT_FIELDS and value not in (None, "")
    }
    draft, _ = SessionDraft.objects.update_or_create(
        session=session,
        defaults={"organisation_id": session.organisation_id, "fields": kept},
    )
    return draft


def expected_takings(session: TillSession) -> tuple[int, int]:
    """(cash, cheques) the till should hold: every cash and cheque payment taken in it.

    Refunds are paid back by the council directly, never from the till, so
    they do not change what the till should hold.
    """
    cash = cheques = 0
    for record in session.payments.select_related("payment").filter(
        kind__in=(PaymentKind.CASH, PaymentKind.CHEQUE)
    ):
        if record.payment.status not in TAKEN_STATUSES:
            continue
        if record.kind == PaymentKind.CASH:
            cash += record.payment.total_pence
        else:
            cheques += record.payment.total_pence
    return cash, cheques


@transaction.atomic
def till_session_close(
    *,
    session: TillSession,
    closed_by,
    cash_counts: Mapping[int, int],
    cheques_in_till: Collection[int],
    variance_reason: str = "",
) -> TillSession:
    """Close a session with the cash counted by denomination and the cheques found in the till.

    ``cheques_in_till`` are the ids of the session's cheque payments whose
    cheque is there. The expected total, the counted total and the variance
    (counted less expected) are recorded; a variance needs a reason. Nothing
    is posted until a supervisor signs the session off.
    """
    session = _locked_session(session)
    _check_cashier(session, closed_by, doing="close it")
    if session.status != SessionStatus.OPEN:
        raise ValidationError(
            f"{session} is already {session.get_status_display().lower()}.", code="closed"
        )
    counted_cash = _counts_checked(cash_counts)
    cheques = {
        record.pk: record
        for record in session.payments.select_related("payment").filter(kind=PaymentKind.CHEQUE)
    }
    unknown = set(cheques_in_till) - set(cheques)
    if unknown:
        raise ValidationError(
            "Only the session's own cheques can be counted in its till.", code="cheques"
        )
    expected_cash, expected_cheques = expected_takings(session)
    counted_cheques = sum(
        cheques[pk].payment.total_pence
        for pk in cheques_in_till
        if cheques[pk].payment.status in TAKEN_STATUSES
    )
    counted_cash_pence = cash_total_pence(counted_cash)
    variance = counted_cash_pence + counted_cheques - expected_cash - expected_cheques
    variance_reason = (variance_reason or "").strip()
    if variance and not variance_reason:
        raise ValidationError(
            {
                "variance_reason": (
                    f"The count is {format_pence(abs(variance))} "
                    f"{'over' if variance > 0 else 'short of'} the "
                    f"{format_pence(expected_cash + expected_cheques)} taken: say why."
                )
            },
            code="variance_reason",
        )
    SessionCashCount.objects.bulk_create(
        [
            SessionCashCount(
                organisation_id=session.organisation_id,
                session=session,
                denomination_pence=denomination,
                quantity=quantity,
            )
            for denomination, quantity in sorted(counted_cash.items(), reverse=True)
        ]
    )
    for pk, record in cheques.items():
        record.cheque_in_till = pk in cheques_in_till
    SessionPayment.objects.bulk_update(list(cheques.values()), ["cheque_in_till"])
    session.expected_cash_pence = expected_cash
    session.expected_cheques_pence = expected_cheques
    session.counted_cash_pence = counted_cash_pence
    session.counted_cheques_pence = counted_cheques
    session.variance_pence = variance
    session.variance_reason = variance_reason if variance else ""
    session.closed_at = timezone.now()
    note = (
        f"Counted {format_pence(counted_cash_pence + counted_cheques)}, "
        f"expected {format_pence(expected_cash + expected_cheques)}."
    )
    if variance:
        note += f" Variance {format_pence(variance)}: {variance_reason}"
    _move_session(session, SessionStatus.CLOSED, changed_by=closed_by, note=note)
    session.save()
    SessionDraft.objects.filter(session=session).delete()
    return session


@transaction.atomic
def till_session_sign_off(*, session: TillSession, signed_off_by, note: str = "") -> TillSession:
    """A supervisor, not the cashier, signs a closed session off; it is then ready for banking.

    A variance is posted now, with its reason: a shortage debits the office's
    fund for cash over and short and credits cash in transit; a surplus the
    reverse.
    Cash in transit then holds what was counted.
    """
    session = _locked_session(session)
    if signed_off_by.pk == session.opened_by_id:
        raise PermissionDenied(
            "A session must be signed off by someone other than the cashier who took it."
        )
    if session.status != SessionStatus.CLOSED:
        raise ValidationError(
            f"{session} is {session.get_status_display().lower()}: only a closed session "
            "can be signed off.",
            code="not_closed",
        )
    if session.variance_pence:
        # Its own fund, not suspense: suspense items are payment lines to allocate, and a
        # till's surplus or shortage is neither.
        fund = (
            Till.objects.select_related("office__variance_fund_code")
            .get(pk=session.till_id)
            .office.variance_fund_code
        )
        session.variance_entry = write_entry(
            organisation=session.organisation,
            kind=EntryKind.JOURNAL,
            description=f"Till variance: {session} ({session.pk})",
            legs=[
                Leg(
                    system_account(session.organisation, AccountKind.CASH_IN_TRANSIT),
                    session.variance_pence,
                ),
                Leg(fund_account(fund), -session.variance_pence),
            ],
            created_by=signed_off_by,
            reason=session.variance_reason,
            source=session,
        )
    session.signed_off_by = signed_off_by
    session.signed_off_at = timezone.now()
    _move_session(session, SessionStatus.SIGNED_OFF, changed_by=signed_off_by, note=note.strip())
    session.save()
    return session


def till_session_mark_banked(
    *, session: TillSession, slip, changed_by=None, actor: str = ""
) -> TillSession:
    """The session's money is in the bank (called by ``banking.services`` in its transaction)."""
    session = _locked_session(session)
    _move_session(
        session,
        SessionStatus.BANKED,
        changed_by=changed_by,
        actor=actor,
        note=f"Banked on {slip}.",
    )
    session.save(update_fields=["status"])
    return session


# Departmental cash returns -------------------------------------------------------------


@dataclass(frozen=True)
class ReturnLineInput:
    fund_code: FundCode
    amount_pence: int = 0
    account_reference: str = ""
    narrative: str = ""


def _move_return(cash_return: CashReturn, to_status: str, *, changed_by=None, actor="", note=""):
    if to_status not in RETURN_TRANSITIONS[cash_return.status]:
        raise ValidationError(
            f"{cash_return} is {cash_return.get_status_display().lower()}: it cannot become "
            f"{ReturnStatus(to_status).label.lower()}.",
            code="invalid_transition",
        )
    ReturnStatusChange.objects.create(
        organisation_id=cash_return.organisation_id,
        cash_return=cash_return,
        from_status=cash_return.status,
        to_status=to_status,
        changed_by=changed_by,
        actor=actor,
        note=note,
    )
    cash_return.status = to_status


def _locked_return(cash_return: CashReturn) -> CashReturn:
    return lock_row(CashReturn, cash_return.pk)


def _check_fund(organisation, fund: FundCode, *, where: str) -> None:
    if fund.organisation_id != organisation.pk:
        raise ValidationError(f"{where}: fund code {fund.code} belongs to another council.")
    if not fund.is_active:
        raise ValidationError(f"{where}: fund code {fund.code} is not active.")
    if not fund.accepts_channel(Channel.CASH_RETURN):
        raise ValidationError(
            f"{where}: fund code {fund.code} does not take departmental cash returns."
        )


@transaction.atomic
def cash_return_create(
    *,
    organisation,
    department,
    created_by,
    template: ReturnTemplate | None = None,
    period: str = "",
    note: str = "",
) -> CashReturn:
    """Start a department's return, with its template's lines (amounts still to be filled in)."""
    if department.organisation_id != organisation.pk:
        raise ValidationError("That department belongs to another council.")
    if not department.is_active:
        raise ValidationError(f"{department} is no longer active.")
    if template is not None and template.department_id != department.pk:
        raise ValidationError(f"The template '{template.name}' is not one of {department}'s.")
    cash_return = CashReturn.objects.create(
        organisation=organisation,
        department=department,
        period=period.strip()[:100],
        template=template,
        created_by=created_by,
    )
    if template is not None:
        ReturnLine.objects.bulk_create(
            [
                ReturnLine(
                    organisation=organisation,
                    cash_return=cash_return,
                    position=position,
                    fund_code_id=line.fund_code_id,
                    account_reference=line.account_reference,
                    narrative=line.narrative,
                )
                for position, line in enumerate(template.lines.all())
            ]
        )
    ReturnStatusChange.objects.create(
        organisation=organisation,
        cash_return=cash_return,
        to_status=ReturnStatus.NEW,
        changed_by=created_by,
        note=note or (f"From the template '{template.name}'." if template else ""),
    )
    return cash_return


@transaction.atomic
def cash_return_save(
    *,
    cash_return: CashReturn,
    saved_by,
    lines: Sequence[ReturnLineInput],
    cash_counts: Mapping[int, int],
    cheques: Sequence[Cheque],
    period: str | None = None,
    note: str = "",
) -> CashReturn:
    """Replace a return's lines, cash and cheques with what the department has now.

    Only while it is new or in progress; a new return becomes in progress.
    Lines may still have no amount (a template's usual line with nothing this
    time); they are left out when the return is posted.
    """
    cash_return = _locked_return(cash_return)
    if not cash_return.is_editable:
        raise ValidationError(
            f"{cash_return} is {cash_return.get_status_display().lower()}: it can no longer "
            "be changed.",
            code="not_editable",
        )
    organisation = cash_return.organisation
    for position, line in enumerate(lines, start=1):
        _check_fund(organisation, line.fund_code, where=f"Line {position}")
        if not isinstance(line.amount_pence, int) or line.amount_pence < 0:
            raise ValidationError(f"Line {position}: the amount cannot be less than £0.00.")
    counted = _counts_checked(cash_counts)
    checked = []
    for position, cheque in enumerate(cheques, start=1):
        checked.append(cheque_checked(cheque, where=f"Cheque {position}"))
        if not isinstance(cheque.amount_pence, int) or cheque.amount_pence <= 0:
            raise ValidationError(f"Cheque {position}: the amount must be more than £0.00.")
    cash_return.lines.all().delete()
    cash_return.cash_counts.all().delete()
    cash_return.cheques.all().delete()
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                organisation=organisation,
                cash_return=cash_return,
                position=position,
                fund_code=line.fund_code,
                account_reference=line.account_reference.strip()[:100],
                narrative=line.narrative.strip()[:255],
                amount_pence=line.amount_pence,
            )
            for position, line in enumerate(lines)
        ]
    )
    ReturnCashCount.objects.bulk_create(
        [
            ReturnCashCount(
                organisation=organisation,
                cash_return=cash_return,
                denomination_pence=denomination,
                quantity=quantity,
            )
            for denomination, quantity in sorted(counted.items(), reverse=True)
        ]
    )
    ReturnCheque.objects.bulk_create(
        [
            ReturnCheque(
                organisation=organisation,
                cash_return=cash_return,
                cheque_number=cheque.number,
                sort_code=cheque.sort_code,
                drawer=cheque.drawer,
                amount_pence=cheque.amount_pence,
            )
            for cheque in checked
        ]
    )
    cash_return.cash_pence = cash_total_pence(counted)
    cash_return.cheques_pence = sum(cheque.amount_pence for cheque in checked)
    if period is not None:
        cash_return.period = period.strip()[:100]
    if cash_return.status == ReturnStatus.NEW or note.strip():
        _move_return(cash_return, ReturnStatus.IN_PROGRESS, changed_by=saved_by, note=note)
    cash_return.save()
    return cash_return


def _lines_with_money(cash_return: CashReturn) -> list[ReturnLine]:
    return [line for line in cash_return.lines.select_related("fund_code") if line.amount_pence]


@transaction.atomic
def cash_return_submit(*, cash_return: CashReturn, submitted_by, note: str = "") -> CashReturn:
    """The department sends its return to finance: its lines must add up to its money."""
    cash_return = _locked_return(cash_return)
    if cash_return.status != ReturnStatus.IN_PROGRESS:
        raise ValidationError(
            f"{cash_return} is {cash_return.get_status_display().lower()}: only a return in "
            "progress can be submitted (save its lines first).",
            code="not_in_progress",
        )
    lines = _lines_with_money(cash_return)
    if not lines:
        raise ValidationError("Give the amount received for at least one line.", code="no_lines")
    for position, line in enumerate(lines, start=1):
        _check_fund(cash_return.organisation, line.fund_code, where=f"Line {position}")
    lines_total = sum(line.amount_pence for line in lines)
    if lines_total != cash_return.total_pence:
        raise ValidationError(
            f"The lines add up to {format_pence(lines_total)} but the cash and cheques to "
            f"{format_pence(cash_return.total_pence)}: they must agree.",
            code="totals_differ",
        )
    cash_return.submitted_by = submitted_by
    cash_return.submitted_at = timezone.now()
    _move_return(cash_return, ReturnStatus.SUBMITTED, changed_by=submitted_by, note=note.strip())
    cash_return.save()
    return cash_return


def _method_of(cash_return: CashReturn) -> str:
    # Cash and cheques both wait in cash in transit, so either method posts the
    # same; a return holding only cheques is recorded as cheque, any cash as cash.
    return Method.CHEQUE if cash_return.cash_pence == 0 else Method.CASH


@transaction.atomic
def cash_return_authorise(*, cash_return: CashReturn, authorised_by, note: str = "") -> CashReturn:
    """A finance user other than the submitter authorises the return: its lines post now.

    The lines are taken as one payment on the cash return channel (a line with
    a bad reference goes to suspense); cash in transit holds the money until
    the return is banked.
    """
    cash_return = _locked_return(cash_return)
    if cash_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError(
            f"{cash_return} is {cash_return.get_status_display().lower()}: only a submitted "
            "return can be authorised.",
            code="not_submitted",
        )
    if authorised_by.pk == cash_return.submitted_by_id:
        raise PermissionDenied(
            "A return must be authorised by someone other than who submitted it."
        )
    lines = _lines_with_money(cash_return)
    payment = payment_services.payment_take(
        organisation=cash_return.organisation,
        channel=Channel.CASH_RETURN,
        method=_method_of(cash_return),
        lines=[
            LineInput(
                line.fund_code,
                line.amount_pence,
                account_reference=line.account_reference,
                narrative=line.narrative,
            )
            for line in lines
        ],
        payer=Payer(name=cash_return.department.name[:200]),
        created_by=authorised_by,
        idempotency_key=f"cash-return-{cash_return.pk}",
        reason=f"{cash_return} authorised",
    )
    cash_return.payment = payment
    cash_return.authorised_by = authorised_by
    cash_return.authorised_at = timezone.now()
    _move_return(cash_return, ReturnStatus.AUTHORISED, changed_by=authorised_by, note=note.strip())
    cash_return.save()
    return cash_return


@transaction.atomic
def cash_return_void(*, cash_return: CashReturn, voided_by, note: str) -> CashReturn:
    """Void a return that has not been authorised: nothing is, or ever will be, posted."""
    if not (note or "").strip():
        raise ValidationError({"note": "Say why the return is voided."}, code="note")
    cash_return = _locked_return(cash_return)
    _move_return(cash_return, ReturnStatus.VOIDED, changed_by=voided_by, note=note.strip())
    cash_return.save(update_fields=["status"])
    return cash_return


@transaction.atomic
def cash_return_send_back(*, cash_return: CashReturn, sent_back_by, note: str) -> CashReturn:
    """Send a submitted return back to the department to put right; it is in progress again."""
    if not (note or "").strip():
        raise ValidationError({"note": "Say what the department should put right."}, code="note")
    cash_return = _locked_return(cash_return)
    if cash_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError(
            f"{cash_return} is {cash_return.get_status_display().lower()}: only a submitted "
            "return can be sent back.",
            code="not_submitted",
        )
    cash_return.submitted_by = None
    cash_return.submitted_at = None
    _move_return(cash_return, ReturnStatus.IN_PROGRESS, changed_by=sent_back_by, note=note.strip())
    cash_return.save()
    return cash_return


def cash_return_mark_banked(
    *, cash_return: CashReturn, slip, changed_by=None, actor: str = ""
) -> CashReturn:
    """The return's money is in the bank (called by ``banking.services`` in its transaction)."""
    cash_return = _locked_return(cash_return)
    _move_return(
        cash_return,
        ReturnStatus.BANKED,
        changed_by=changed_by,
        actor=actor,
        note=f"Banked on {slip}.",
    )
    cash_return.save(update_fields=["status"])
    return cash_return


@transaction.atomic
def return_template_save(*, cash_return: CashReturn, name: str, saved_by) -> ReturnTemplate:
    """Keep a return's lines (funds, references, narratives) as its department's template, to
    start the next return from. A template of the same name is replaced."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the template a name."}, code="name")
    lines = list(cash_return.lines.all())
    if not lines:
        raise ValidationError("The return has no lines to keep as a template.", code="no_lines")
    template, _ = ReturnTemplate.objects.update_or_create(
        organisation_id=cash_return.organisation_id,
        department_id=cash_return.department_id,
        name=name[:100],
        defaults={"created_by": saved_by, "is_active": True},
    )
    template.lines.all().delete()
    ReturnTemplateLine.objects.bulk_create(
        [
            ReturnTemplateLine(
                organisation_id=cash_return.organisation_id,
                template=template,
                position=position,
                fund_code_id=line.fund_code_id,
                account_reference=line.account_reference,
                narrative=line.narrative,
            )
            for position, line in enumerate(lines)
        ]
    )
    return template
