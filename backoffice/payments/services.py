"""Taking, completing and refunding payments.

Each function runs in one database transaction and changes a payment only
while holding its row lock, so concurrent callbacks, refunds and retries see
one consistent payment. Every status move is recorded with who and why.
"""

import datetime
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from backoffice.funds.models import (
    CHANNELS_WITH_MONEY_IN_HAND,
    Channel,
    FundCode,
    Service,
    VatRate,
    VatRateNotInForce,
)
from backoffice.ledger.models import AccountKind, EntryKind
from backoffice.ledger.services import (
    Leg,
    accounts_for,
    entry_rows,
    insert_rows,
    insert_sql,
    lock_row,
    system_account,
    update_row,
    write_entry,
)
from backoffice.money import divide_half_up, format_pence
from backoffice.suspense import services as suspense
from plugins import departments

from .idempotency import run_once_keyed
from .models import (
    TAKEN_STATUSES,
    TRANSITIONS,
    Method,
    Payment,
    PaymentLine,
    PaymentStatus,
    ReceiptSequence,
    Refund,
    RefundStatus,
    StatusChange,
)


class InvalidTransition(ValidationError):
    """A status move the payment state machine does not allow."""


@dataclass(frozen=True)
class LineInput:
    """One thing to pay for. ``amount_pence`` is what the payer pays for it, VAT included."""

    fund_code: FundCode
    amount_pence: int
    account_reference: str = ""
    service: Service | None = None
    vat_rate: VatRate | None = None
    narrative: str = ""


@dataclass(frozen=True)
class Payer:
    name: str = ""
    email: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    town: str = ""
    postcode: str = ""


# Creating a payment ------------------------------------------------------------------


def _plan_line(
    index: int, item: LineInput, *, organisation, channel: str, tax_point, suspense
) -> PaymentLine:
    where = f"Line {index}"
    fund = item.fund_code
    if fund.organisation_id != organisation.pk:
        raise ValidationError(f"{where}: fund code {fund.code} belongs to another council.")
    if not fund.is_active:
        raise ValidationError(f"{where}: fund code {fund.code} is not active.")
    if not fund.accepts_channel(channel) and channel != Channel.IMPORT:
        raise ValidationError(
            f"{where}: fund code {fund.code} does not take "
            f"{Channel(channel).label.lower()} payments."
        )
    if not isinstance(item.amount_pence, int) or item.amount_pence <= 0:
        raise ValidationError(f"{where}: the amount must be more than £0.00.")
    if fund.minimum_amount_pence is not None and item.amount_pence < fund.minimum_amount_pence:
        raise ValidationError(
            f"{where}: {fund.display_name} takes at least "
            f"{format_pence(fund.minimum_amount_pence)}."
        )
    if fund.maximum_amount_pence is not None and item.amount_pence > fund.maximum_amount_pence:
        raise ValidationError(
            f"{where}: {fund.display_name} takes at most {format_pence(fund.maximum_amount_pence)}."
        )
    if item.service is not None:
        if item.service.fund_code_id != fund.pk or not item.service.is_active:
            raise ValidationError(
                f"{where}: {item.service} is not an active service of {fund.code}."
            )
        if item.service.pricing == "fixed" and item.amount_pence != item.service.price_pence:
            raise ValidationError(
                f"{where}: {item.service} costs {format_pence(item.service.price_pence)}."
            )
    vat_rate = item.vat_rate or (item.service.effective_vat_rate if item.service else None)
    vat_rate = vat_rate or fund.default_vat_rate
    if item.vat_rate is not None and item.vat_rate.pk != fund.default_vat_rate_id:
        if not fund.vat_overridable:
            raise ValidationError(f"{where}: the VAT rate of {fund.code} cannot be changed.")
        if item.vat_rate.organisation_id != organisation.pk:
            raise ValidationError(f"{where}: that VAT rate belongs to another council.")
    try:
        vat = vat_rate.vat_in_gross(item.amount_pence, tax_point)
    except VatRateNotInForce as error:
        raise ValidationError(f"{where}: {error}") from error

    line = PaymentLine(
        organisation=organisation,
        fund_code=fund,
        service=item.service,
        account_reference=item.account_reference.strip(),
        vat_rate=vat_rate,
        net_pence=item.amount_pence - vat,
        vat_pence=vat,
        gross_pence=item.amount_pence,
        narrative=item.narrative[:255],
    )
    check = fund.check_reference(item.account_reference)
    if check.is_valid:
        line.account_reference = check.reference
        verdict = departments.reference_verdict(
            organisation=organisation, fund_code=fund, reference=check.reference
        )
        if verdict is None or verdict.valid:
            return line
        reason = verdict.reason or f"{check.reference} is not a reference the department knows."
    else:
        reason = check.problems[0].message
    if channel not in CHANNELS_WITH_MONEY_IN_HAND:
        # The payer is still here: ask them to put the reference right before paying.
        raise ValidationError(f"{where}: {reason}", code="bad_reference")
    # The money has already arrived: keep it, in suspense, until someone allocates it.
    suspense_fund = suspense.get()
    if suspense_fund is None:
        raise ValidationError(
            f"{where}: {reason} This council has no suspense fund to hold the money: "
            "mark one fund code as the suspense fund."
        )
    line.intended_fund_code = fund
    line.fund_code = suspense_fund
    line.suspense_reason = reason[:255]
    return line


def _plan(*, organisation, channel, method, lines, tax_point) -> list[PaymentLine]:
    if channel not in Channel.values:
        raise ValidationError(f"'{channel}' is not a channel.")
    if method not in Method.values:
        raise ValidationError(f"'{method}' is not a method of payment.")
    if not lines:
        raise ValidationError("A payment needs at least one line.")
    suspense = _SuspenseFund(organisation)
    return [
        _plan_line(
            index,
            item,
            organisation=organisation,
            channel=channel,
            tax_point=tax_point,
            suspense=suspense,
        )
        for index, item in enumerate(lines, start=1)
    ]


class _SuspenseFund:
    """The council's suspense fund, looked up only when a line needs it."""

    def __init__(self, organisation):
        self.organisation = organisation
        self._fund = None
        self._looked = False

    def get(self):
        if not self._looked:
            self._fund = FundCode.objects.filter(
                organisation=self.organisation, is_suspense=True
            ).first()
            self._looked = True
        return self._fund


def _insert(
    *,
    organisation,
    channel,
    method,
    planned: list[PaymentLine],
    payer,
    provider,
    provider_reference="",
    created_by,
    tax_point,
    succeeding: bool,
    reason: str = "",
    idempotency_key: str | None = None,
    idempotency_fingerprint: str = "",
) -> Payment:
    """Write the payment (as created), its lines and its status moves: one statement.

    With ``succeeding`` the move to success is recorded too; ``_mark_taken``
    makes it so, last thing before commit. The payment is the first row
    written, so that a repeated idempotency key fails before anything else.
    """
    payment, history = _new_payment(
        organisation=organisation,
        channel=channel,
        method=method,
        planned=planned,
        payer=payer,
        provider=provider,
        provider_reference=provider_reference,
        created_by=created_by,
        tax_point=tax_point,
        succeeding=succeeding,
        reason=reason,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
    )
    insert_rows([payment], children=[planned, history])
    return payment


def _new_payment(
    *,
    organisation,
    channel,
    method,
    planned: list[PaymentLine],
    payer,
    provider,
    provider_reference,
    created_by,
    tax_point,
    succeeding: bool,
    reason: str,
    idempotency_key: str | None,
    idempotency_fingerprint: str,
    pk: int | None = None,
) -> tuple[Payment, list[StatusChange]]:
    """The payment (as created, its lines pointed at it) and its status history, not yet written."""
    payment = Payment(
        pk=pk,
        organisation=organisation,
        channel=channel,
        method=method,
        status=PaymentStatus.CREATED,
        provider=provider,
        provider_reference=provider_reference,
        payer_name=payer.name,
        payer_email=payer.email,
        address_line_1=payer.address_line_1,
        address_line_2=payer.address_line_2,
        town=payer.town,
        postcode=payer.postcode,
        total_pence=sum(line.gross_pence for line in planned),
        tax_point=tax_point,
        created_by=created_by,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
    )
    for line in planned:
        line.payment = payment
    moves = [("", PaymentStatus.CREATED, "")]
    if succeeding:
        moves.append((PaymentStatus.CREATED, PaymentStatus.SUCCESS, reason))
    history = [
        StatusChange(
            organisation=organisation,
            payment=payment,
            from_status=from_status,
            to_status=to_status,
            changed_by=created_by,
            reason=why[:255],
        )
        for from_status, to_status, why in moves
    ]
    return payment, history


def _content(*, channel, method, lines, payer, provider) -> dict:
    return {
        "channel": channel,
        "method": method,
        "provider": provider,
        "payer": payer.__dict__,
        "lines": [
            {
                "fund_code": item.fund_code.pk,
                "amount_pence": item.amount_pence,
                "account_reference": item.account_reference,
                "service": item.service.pk if item.service else None,
                "vat_rate": item.vat_rate.pk if item.vat_rate else None,
                "narrative": item.narrative,
            }
            for item in lines
        ],
    }


def payment_create(
    *,
    organisation,
    channel: str,
    method: str,
    lines: Sequence[LineInput],
    payer: Payer = Payer(),
    provider: str = "",
    created_by=None,
    tax_point: datetime.date | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Record a payment about to be made, with its lines; nothing is posted yet.

    A line whose reference fails its fund's rule is refused on the online
    channel (the payer corrects it) and goes to the suspense fund on channels
    where the money is already in hand.
    """
    tax_point = tax_point or timezone.localdate()
    payment, _ = run_once_keyed(
        organisation=organisation,
        scope="payment_create",
        key=idempotency_key,
        content=_content(
            channel=channel, method=method, lines=lines, payer=payer, provider=provider
        ),
        model=Payment,
        write=lambda key, fingerprint: _insert(
            organisation=organisation,
            channel=channel,
            method=method,
            planned=_plan(
                organisation=organisation,
                channel=channel,
                method=method,
                lines=lines,
                tax_point=tax_point,
            ),
            payer=payer,
            provider=provider,
            created_by=created_by,
            tax_point=tax_point,
            succeeding=False,
            idempotency_key=key,
            idempotency_fingerprint=fingerprint,
        ),
    )
    return payment


# Moving a payment's status -------------------------------------------------------------


def _locked(payment: Payment) -> Payment:
    """The payment afresh, locked until commit.

    A payment never changes council, so the caller's copy of it (when loaded)
    comes along instead of being looked up again.
    """
    locked = lock_row(Payment, payment.pk)
    if Payment._meta.get_field("organisation").is_cached(payment):
        locked.organisation = payment.organisation
    return locked


def _move(payment: Payment, to_status: str, *, changed_by=None, actor: str = "", reason: str = ""):
    if to_status not in TRANSITIONS[payment.status]:
        raise InvalidTransition(
            f"{payment} is {payment.get_status_display().lower()}; it cannot become "
            f"{PaymentStatus(to_status).label.lower()}.",
            code="invalid_transition",
        )
    insert_rows(
        [
            StatusChange(
                organisation_id=payment.organisation_id,
                payment=payment,
                from_status=payment.status,
                to_status=to_status,
                changed_by=changed_by,
                actor=actor,
                reason=reason[:255],
            )
        ]
    )
    payment.status = to_status


@transaction.atomic
def payment_start(
    *,
    payment: Payment,
    provider_reference: str = "",
    changed_by=None,
    actor: str = "",
    reason: str = "",
) -> Payment:
    """The payer has been sent to the provider (or the provider has the payment)."""
    payment = _locked(payment)
    if payment.status == PaymentStatus.IN_PROGRESS:
        return payment
    _move(payment, PaymentStatus.IN_PROGRESS, changed_by=changed_by, actor=actor, reason=reason)
    if provider_reference:
        payment.provider_reference = provider_reference
    update_row(payment, ["status", "provider_reference", "updated_at"])
    return payment


_NEXT_RECEIPT = (
    f"UPDATE {ReceiptSequence._meta.db_table} SET last_number = last_number + 1 "  # noqa: S608 - table name from the model
    "WHERE organisation_id = %s RETURNING last_number"
)


def _next_receipt_number(organisation) -> str:
    """The council's next receipt number, in the caller's transaction.

    The UPDATE locks the council's sequence row until commit, so numbers are
    issued one at a time, in order, and a rolled-back payment's number is
    issued again to the next payment: no gaps and no duplicates.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_RECEIPT, [organisation.pk])
        row = cursor.fetchone()
        if row is None:
            ReceiptSequence.objects.bulk_create(
                [ReceiptSequence(organisation=organisation)], ignore_conflicts=True
            )
            cursor.execute(_NEXT_RECEIPT, [organisation.pk])
            row = cursor.fetchone()
    return f"{_receipt_prefix(organisation)}{row[0]:08d}"


def _receipt_prefix(organisation) -> str:
    return f"{organisation.receipt_prefix}-" if organisation.receipt_prefix else ""


# On PostgreSQL the number is issued inside the statement that marks the
# payment taken (or, for payment_take, writes it): the council's sequence row
# is then locked for that statement and the commit only, which is what every
# other payment of the council waits for. The sequence row is created by the
# council's first receipt. The receipt number is the prefix (%s) and the number
# zero-padded to eight digits, as ``_next_receipt_number`` writes it.
_ISSUE_RECEIPT = (
    f"INSERT INTO {ReceiptSequence._meta.db_table} AS sequence (organisation_id, last_number) "  # noqa: S608
    "VALUES (%s, 1) ON CONFLICT (organisation_id) "
    "DO UPDATE SET last_number = sequence.last_number + 1 RETURNING last_number"
)
_RECEIPT_NUMBER = (
    "(SELECT %s || LPAD(last_number::text, GREATEST(8, LENGTH(last_number::text)), '0') "
    "FROM issued)"
)
_ISSUE_RECEIPT_AND_MARK_TAKEN = (
    f"WITH issued AS ({_ISSUE_RECEIPT}) "  # noqa: S608 - table names from the models
    f"UPDATE {Payment._meta.db_table} SET status = %s, receipt_number = {_RECEIPT_NUMBER}, "
    "completed_at = %s, updated_at = %s, provider_reference = %s WHERE id = %s "
    "RETURNING receipt_number"
)
_MARK_TAKEN = (
    f"UPDATE {Payment._meta.db_table} SET status = %s, receipt_number = %s, "  # noqa: S608
    "completed_at = %s, updated_at = %s, provider_reference = %s WHERE id = %s"
)


def _mark_taken(payment: Payment, *, provider_reference: str | None = None) -> None:
    """Issue the receipt number and make the payment successful.

    Last before commit: the receipt number locks the council's sequence until
    then, and every payment of the council waits for that lock.
    """
    now = timezone.now()
    if provider_reference is not None:
        payment.provider_reference = provider_reference
    stamp = Payment._meta.get_field("completed_at").get_db_prep_save(now, connection)
    # completed_at, updated_at, provider_reference and the payment's id, in both statements.
    rest = [stamp, stamp, payment.provider_reference, payment.pk]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _ISSUE_RECEIPT_AND_MARK_TAKEN,
                [
                    payment.organisation_id,
                    PaymentStatus.SUCCESS,
                    _receipt_prefix(payment.organisation),
                    *rest,
                ],
            )
            receipt_number = cursor.fetchone()[0]
        else:
            receipt_number = _next_receipt_number(payment.organisation)
            cursor.execute(_MARK_TAKEN, [PaymentStatus.SUCCESS, receipt_number, *rest])
    payment.status = PaymentStatus.SUCCESS
    payment.receipt_number = receipt_number
    payment.completed_at = payment.updated_at = now


def _receiving_key_of(provider: str, method: str) -> tuple[str, str]:
    if provider:
        return (AccountKind.PROVIDER_CLEARING, provider)
    if method in (Method.CASH, Method.CHEQUE):
        return (AccountKind.CASH_IN_TRANSIT, "")
    if method == Method.CARD:
        return (AccountKind.PROVIDER_CLEARING, "card-terminal")
    return (AccountKind.BANK, "")


def _receiving_key(payment: Payment) -> tuple[str, str]:
    return _receiving_key_of(payment.provider, payment.method)


def receiving_account(payment: Payment):
    """Where the money taken is, until it is banked: clearing, cash in transit or bank."""
    kind, provider = _receiving_key(payment)
    return system_account(payment.organisation, kind, provider=provider)


_VAT_OUTPUT = (AccountKind.VAT_OUTPUT, "")


def _accounts(organisation, lines: list[PaymentLine], receiving: tuple[str, str]) -> dict:
    return accounts_for(
        organisation,
        fund_codes=[line.fund_code for line in lines],
        system=[receiving, _VAT_OUTPUT],
    )


def _payment_entry(payment: Payment, lines: list[PaymentLine], *, created_by, accounts=None):
    """What ``write_entry`` takes for the payment's entry: the money in, each fund's net, VAT."""
    receiving = _receiving_key(payment)
    accounts = accounts or _accounts(payment.organisation, lines, receiving)
    vat = sum(line.vat_pence for line in lines)
    legs = [Leg(accounts[receiving], payment.total_pence)]
    legs += [Leg(accounts[line.fund_code_id], -line.net_pence) for line in lines]
    if vat:
        legs.append(Leg(accounts[_VAT_OUTPUT], -vat))
    return {
        "organisation": payment.organisation,
        "kind": EntryKind.PAYMENT,
        "description": f"Payment {payment.pk}",
        "legs": legs,
        "created_by": created_by,
        "source": payment,
    }


def _post_payment(payment: Payment, lines: list[PaymentLine], *, created_by, accounts=None):
    return write_entry(**_payment_entry(payment, lines, created_by=created_by, accounts=accounts))


def _record_suspense_items(payment: Payment, lines: list[PaymentLine]) -> None:
    """Lines that went to suspense become suspense items, in the payment's transaction."""
    if any(line.in_suspense for line in lines):
        suspense.suspense_items_record(payment=payment)


@transaction.atomic
def payment_succeed(
    *,
    payment: Payment,
    changed_by=None,
    actor: str = "",
    reason: str = "",
    provider_reference: str | None = None,
) -> Payment:
    """The money is taken: issue the receipt number and post the entry.

    Repeated on a successful payment (a provider calling back twice), it
    changes nothing; on a refunded one it is refused like any backward move.
    """
    payment = _locked(payment)
    if payment.status == PaymentStatus.SUCCESS:
        return payment
    _move(payment, PaymentStatus.SUCCESS, changed_by=changed_by, actor=actor, reason=reason)
    lines = list(payment.lines.select_related("fund_code"))
    _post_payment(payment, lines, created_by=changed_by)
    _mark_taken(payment, provider_reference=provider_reference)
    _record_suspense_items(payment, lines)
    transaction.on_commit(partial(departments.notify_payment_taken, payment))
    return payment


UNSUCCESSFUL = (
    PaymentStatus.FAILED,
    PaymentStatus.CANCELLED,
    PaymentStatus.EXPIRED,
    PaymentStatus.ERROR,
)


@transaction.atomic
def payment_close(
    *, payment: Payment, status: str, changed_by=None, actor: str = "", reason: str = ""
) -> Payment:
    """The payment did not happen (failed, cancelled, expired or error): nothing is posted."""
    if status not in UNSUCCESSFUL:
        raise ValueError(f"payment_close takes one of {', '.join(UNSUCCESSFUL)}, not '{status}'.")
    payment = _locked(payment)
    if payment.status == status:
        return payment
    _move(payment, status, changed_by=changed_by, actor=actor, reason=reason)
    payment.completed_at = timezone.now()
    update_row(payment, ["status", "completed_at", "updated_at"])
    return payment


def _take_in_one_statement(*, organisation, planned, created_by, accounts, **fields) -> Payment:
    """PostgreSQL: write a payment taken, all of it, in one statement.

    The payment (already successful, with its receipt number), its lines, its
    status history, its entry and the entry's postings go in together, each
    pointing at the keys the statement gives the payment and the entry, with
    the receipt number issued by the same statement. One statement instead
    of seven, and no second write of the payment to mark it taken: on a
    machine where the workers and the database share the cores, what limits
    is the work per statement (docs/PERFORMANCE.md).
    """
    payment, history = _new_payment(
        organisation=organisation, planned=planned, created_by=created_by, succeeding=True, **fields
    )
    # Created, succeeded and completed at the same moment.
    now = timezone.now()
    payment.status = PaymentStatus.SUCCESS
    payment.created_at = payment.updated_at = payment.completed_at = now
    entry, postings = entry_rows(
        **_payment_entry(payment, planned, created_by=created_by, accounts=accounts)
    )
    of_payment = ("(SELECT id FROM payment)", [])
    statement, params = [f"WITH issued AS ({_ISSUE_RECEIPT})"], [organisation.pk]
    for name, rows, expressions, returning in (
        (
            "payment",
            [payment],
            {
                "receipt_number": (_RECEIPT_NUMBER, [_receipt_prefix(organisation)]),
                # Given here, as save() would otherwise stamp them after completed_at.
                "created_at": ("%s", [now]),
                "updated_at": ("%s", [now]),
            },
            " RETURNING id, receipt_number",
        ),
        ("lines", planned, {"payment": of_payment}, ""),
        ("history", history, {"payment": of_payment}, ""),
        (
            "entry",
            [entry],
            {
                "source_id": of_payment,
                "description": ("%s || (SELECT id FROM payment)", ["Payment "]),
            },
            " RETURNING id",
        ),
        ("postings", postings, {"entry": ("(SELECT id FROM entry)", [])}, ""),
    ):
        sql, values = insert_sql(rows, expressions=expressions)
        statement.append(f", {name} AS ({sql}{returning})")
        params += values
    statement.append(" SELECT id, receipt_number FROM payment")
    with connection.cursor() as cursor:
        cursor.execute("".join(statement), params)
        payment.pk, payment.receipt_number = cursor.fetchone()
    payment._state.adding = False
    payment._state.db = connection.alias
    for line in planned:
        line.payment = payment
    return payment


def payment_take(
    *,
    organisation,
    channel: str,
    method: str,
    lines: Sequence[LineInput],
    payer: Payer = Payer(),
    provider: str = "",
    provider_reference: str = "",
    created_by=None,
    tax_point: datetime.date | None = None,
    idempotency_key: str | None = None,
    reason: str = "Money received",
) -> Payment:
    """Record money already in hand (cash, cheque, terminal, bank): created and succeeded at once.

    The same as ``payment_create`` then ``payment_succeed`` — both moves are
    recorded — in one transaction and with fewer statements, since nobody
    else can see the payment before it is taken.
    """
    tax_point = tax_point or timezone.localdate()

    def take(key, fingerprint):
        planned = _plan(
            organisation=organisation,
            channel=channel,
            method=method,
            lines=lines,
            tax_point=tax_point,
        )
        accounts = _accounts(organisation, planned, _receiving_key_of(provider, method))
        if connection.vendor == "postgresql":
            in_suspense = any(line.in_suspense for line in planned)
            # Its suspense items go in the payment's transaction, one statement after it.
            with transaction.atomic() if in_suspense else nullcontext():
                payment = _take_in_one_statement(
                    organisation=organisation,
                    channel=channel,
                    method=method,
                    planned=planned,
                    payer=payer,
                    provider=provider,
                    provider_reference=provider_reference,
                    created_by=created_by,
                    tax_point=tax_point,
                    reason=reason,
                    idempotency_key=key,
                    idempotency_fingerprint=fingerprint,
                    accounts=accounts,
                )
                _record_suspense_items(payment, planned)
            return payment
        payment = _insert(
            organisation=organisation,
            channel=channel,
            method=method,
            planned=planned,
            payer=payer,
            provider=provider,
            provider_reference=provider_reference,
            created_by=created_by,
            tax_point=tax_point,
            succeeding=True,
            reason=reason,
            idempotency_key=key,
            idempotency_fingerprint=fingerprint,
        )
        _post_payment(payment, planned, created_by=created_by, accounts=accounts)
        _mark_taken(payment)
        _record_suspense_items(payment, planned)
        return payment

    payment, written = run_once_keyed(
        organisation=organisation,
        scope="payment_take",
        key=idempotency_key,
        content={
            **_content(channel=channel, method=method, lines=lines, payer=payer, provider=provider),
            "provider_reference": provider_reference,
        },
        model=Payment,
        write=take,
        # On PostgreSQL ``take`` reads the accounts, then writes in one statement.
        single_statement=connection.vendor == "postgresql",
    )
    if written:
        transaction.on_commit(partial(departments.notify_payment_taken, payment))
    return payment


# Refunds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundOutcome:
    """What the payment provider said about a refund."""

    accepted: bool
    provider_reference: str = ""
    message: str = ""


RefundGateway = Callable[[Refund], RefundOutcome]


def paid_out_by_hand(refund: Refund) -> RefundOutcome:
    """For money taken without a provider (cash, cheque, bank, a card terminal at the
    counter): staff pay it back themselves, on the terminal or by cheque or transfer."""
    return RefundOutcome(accepted=True, message="Paid back by the council directly.")


def _refund_gateway(payment: Payment) -> RefundGateway:
    if payment.provider:
        from backoffice.payments import providers

        return providers.refund_gateway(payment.provider)
    return paid_out_by_hand


def _refund_reserve(
    *,
    payment: Payment,
    amount_pence: int,
    reason: str,
    requested_by,
    idempotency_key: str | None = None,
    idempotency_fingerprint: str = "",
) -> Refund:
    """Check and reserve the amount; the caller (``run_once_keyed``) holds the transaction."""
    payment = _locked(payment)
    if payment.status not in TAKEN_STATUSES:
        raise ValidationError(
            f"{payment} is {payment.get_status_display().lower()}: "
            "only money taken can be refunded.",
            code="not_refundable",
        )
    if not isinstance(amount_pence, int) or amount_pence <= 0:
        raise ValidationError("A refund must be of more than £0.00.", code="refund_amount")
    if not reason or not reason.strip():
        raise ValidationError("Say why the money is being refunded.", code="refund_reason")
    remaining = payment.total_pence - payment.refunded_pence
    if amount_pence > remaining:
        raise ValidationError(
            f"Only {format_pence(remaining)} of {payment} can still be refunded, "
            f"not {format_pence(amount_pence)}.",
            code="refund_too_much",
        )
    # Reserved now, in the same locked transaction as the check, so that
    # refunds racing for the same payment can never add up to more than it.
    payment.refunded_pence += amount_pence
    update_row(payment, ["refunded_pence", "updated_at"])
    refund = Refund(
        organisation_id=payment.organisation_id,
        payment=payment,
        amount_pence=amount_pence,
        reason=reason.strip(),
        requested_by=requested_by,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
    )
    # Last: a repeated key fails here, and undoes the reservation above with it.
    insert_rows([refund])
    return refund


def _allocate(amount: int, lines: list[PaymentLine]) -> list[int]:
    """Share ``amount`` across lines in proportion to what each has left to refund.

    Largest remainder, so the shares add up to the penny and no line gives
    back more than it has left.
    """
    remaining = [line.gross_pence - line.refunded_pence for line in lines]
    total = sum(remaining)
    shares = [amount * left // total for left in remaining]
    leftovers = sorted(range(len(lines)), key=lambda i: (-(amount * remaining[i] % total), i))
    for i in leftovers[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def _post_refund(refund: Refund, payment: Payment, *, created_by):
    lines = list(payment.lines.select_related("fund_code").order_by("pk"))
    receiving = _receiving_key(payment)
    accounts = _accounts(payment.organisation, lines, receiving)
    legs = [Leg(accounts[receiving], -refund.amount_pence)]
    vat_total = 0
    for line, share in zip(lines, _allocate(refund.amount_pence, lines), strict=True):
        if not share:
            continue
        left_gross = line.gross_pence - line.refunded_pence
        left_vat = line.vat_pence - line.refunded_vat_pence
        vat = left_vat if share == left_gross else divide_half_up(share * left_vat, left_gross)
        line.refunded_pence += share
        line.refunded_vat_pence += vat
        update_row(line, ["refunded_pence", "refunded_vat_pence"])
        legs.append(Leg(accounts[line.fund_code_id], share - vat))
        vat_total += vat
    if vat_total:
        legs.append(Leg(accounts[_VAT_OUTPUT], vat_total))
    return write_entry(
        organisation=payment.organisation,
        kind=EntryKind.REFUND,
        description=f"Refund {refund.pk} of {payment.receipt_number} (payment {payment.pk})",
        legs=legs,
        created_by=created_by,
        reason=refund.reason,
        source=refund,
    )


@transaction.atomic
def refund_complete(*, refund: Refund, outcome: RefundOutcome) -> Refund:
    """Record what the provider said: accepted posts the refund; rejected posts nothing.

    Repeated (a provider calling back twice), it changes nothing.
    """
    # Who asked never changes: taken from the caller's refund, so that the
    # locked copy below need not look them up again.
    requested_by = refund.requested_by
    payment = _locked(refund.payment)  # cached on a refund from refund_request
    refund = lock_row(Refund, refund.pk)
    if refund.status != RefundStatus.PENDING:
        return refund
    refund.completed_at = timezone.now()
    refund.provider_reference = outcome.provider_reference
    if not outcome.accepted:
        refund.status = RefundStatus.REJECTED
        refund.failure_reason = (outcome.message or "Refused by the payment provider.")[:255]
        refund.save(
            update_fields=["status", "completed_at", "provider_reference", "failure_reason"]
        )
        payment.refunded_pence -= refund.amount_pence
        update_row(payment, ["refunded_pence", "updated_at"])
        return refund
    refund.entry = _post_refund(refund, payment, created_by=requested_by)
    refund.status = RefundStatus.SUCCEEDED
    update_row(refund, ["status", "completed_at", "provider_reference", "entry"])
    fully = (
        payment.refunded_pence == payment.total_pence
        and not payment.refunds.filter(status=RefundStatus.PENDING).exists()
    )
    to_status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
    if payment.status != to_status:
        _move(
            payment,
            to_status,
            changed_by=requested_by,
            reason=f"Refund {refund.pk}: {refund.reason}",
        )
        update_row(payment, ["status", "updated_at"])
    transaction.on_commit(partial(departments.notify_refund_completed, refund))
    return refund


def refund_request(
    *,
    payment: Payment,
    amount_pence: int,
    reason: str,
    requested_by,
    idempotency_key: str | None = None,
    gateway: RefundGateway | None = None,
) -> Refund:
    """Refund all or part of a payment.

    The amount is checked and reserved under the payment's lock, the
    provider is asked outside any transaction (a slow provider holds no
    lock), and the answer is recorded by ``refund_complete``.
    """
    refund, created = run_once_keyed(
        organisation=payment.organisation,
        scope="refund_request",
        key=idempotency_key,
        content={"payment": payment.pk, "amount_pence": amount_pence, "reason": reason},
        model=Refund,
        write=lambda key, fingerprint: _refund_reserve(
            payment=payment,
            amount_pence=amount_pence,
            reason=reason,
            requested_by=requested_by,
            idempotency_key=key,
            idempotency_fingerprint=fingerprint,
        ),
    )
    if not created or refund.status != RefundStatus.PENDING:
        return refund
    outcome = (gateway or _refund_gateway(refund.payment))(refund)
    return refund_complete(refund=refund, outcome=outcome)
