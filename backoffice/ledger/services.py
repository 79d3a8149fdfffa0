"""Posting to the ledger, and journals between fund codes.

Every function runs in one database transaction; an entry that does not
balance is refused before anything is written.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from backoffice.money import format_pence

from .models import (
    Account,
    AccountKind,
    EntryKind,
    Journal,
    JournalEntry,
    JournalStatus,
    Posting,
)


class UnbalancedEntry(ValidationError):
    pass


# Lean writes for the hot path ---------------------------------------------------------
#
# Every payment writes a handful of rows. Through the ORM each statement costs
# more Python (query compilation, bulk_create's bookkeeping) than PostgreSQL
# spends running it, and the workers share the database's cores (see
# docs/PERFORMANCE.md). ``insert_rows`` (and ``_read_accounts`` below) write
# and read rows as plain SQL built from the models' own fields, so the rows are
# exactly what the ORM would write, with the same defaults and database types.


@cache
def _insert_fields(model: type[models.Model]) -> tuple:
    meta = model._meta
    return tuple(field for field in meta.concrete_fields if field is not meta.auto_field)


@cache
def _values_sql(model: type[models.Model], rows: int, *, parent_column: str = "") -> str:
    """``INSERT INTO ... VALUES (%s, ...), ...``; ``parent_column`` takes the parent CTE's key."""
    quote = connection.ops.quote_name
    columns = [field.column for field in _insert_fields(model)]
    values = ", ".join("(SELECT pk FROM parent)" if c == parent_column else "%s" for c in columns)
    table = quote(model._meta.db_table)
    # Only names from the model and placeholders go into the text: the values are parameters.
    return (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {', '.join([f'({values})'] * rows)}"
    )


@cache
def _parent_field(child: type[models.Model], parent: type[models.Model]) -> models.ForeignKey:
    """The child's one foreign key to the parent (a line's payment, a posting's entry)."""
    (field,) = (
        field
        for field in child._meta.concrete_fields
        if field.is_relation and field.related_model is parent
    )
    return field


# Fields whose database value is the Python value itself, on every database we
# run on: passed as they are, skipping get_db_prep_save's conversions (most of
# a row's Python cost). Dates, times and anything else go the whole way.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.BooleanField,
    models.ForeignKey,
)


@cache
def _preparers(model: type[models.Model], skip: str = "") -> tuple:
    def prepare(field):
        if isinstance(field, _AS_IS):
            return lambda obj: getattr(obj, field.attname)
        # As save() does: pre_save for auto_now and the like, then the database's type.
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)

    return tuple(prepare(field) for field in _insert_fields(model) if field.attname != skip)


def _params(objs: Sequence[models.Model], *, skip: str = "") -> list:
    preparers = _preparers(type(objs[0]), skip)
    return [prepare(obj) for obj in objs for prepare in preparers]


def insert_rows(objs: Sequence[models.Model], *, children: Sequence[Sequence] = ()) -> None:
    """INSERT new instances of one model in one statement and set their primary keys.

    Like ``bulk_create`` (no ``save()``, no signals) at a fraction of its
    Python cost: the rows are exactly what the ORM would write, with the same
    defaults, timestamps and database types. Only for models whose rows need
    nothing from ``save()``: the ledger's and the payments' own.

    ``children`` are lists of new rows that point at the one object in
    ``objs`` (a payment's lines, an entry's postings). On PostgreSQL they go
    in the same statement as it (one round trip instead of several); their
    own primary keys are then not read back, as nothing needs them.
    """
    if not objs:
        return
    model = type(objs[0])
    quote = connection.ops.quote_name
    returning = f" RETURNING {quote(model._meta.pk.column)} AS pk"
    children = [group for group in children if group]
    if children and len(objs) != 1:
        raise ValueError("Children go with one parent row at a time.")
    if children and connection.vendor == "postgresql":
        sql, params = [f"WITH parent AS ({_values_sql(model, 1)}{returning})"], _params(objs)
        for number, group in enumerate(children):
            link = _parent_field(type(group[0]), model)
            values = _values_sql(type(group[0]), len(group), parent_column=link.column)
            sql.append(f", child_{number} AS ({values})")
            params += _params(group, skip=link.attname)
        sql.append(" SELECT pk FROM parent")
        keys = _execute("".join(sql), params)
    else:
        keys = _execute(_values_sql(model, len(objs)) + returning, _params(objs))
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    for group in children:
        for child in group:
            setattr(child, _parent_field(type(child), model).name, objs[0])
        if connection.vendor != "postgresql":
            insert_rows(group)


def _execute(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def insert_sql(objs: Sequence[models.Model], *, expressions: dict | None = None) -> tuple:
    """The INSERT of new instances of one model, as ``(sql, params)`` for a statement of one's own.

    Values are prepared as ``insert_rows`` prepares them. ``expressions`` gives
    columns, by field name, an SQL expression and its parameters instead: a
    key from another part of the statement, say.
    """
    model = type(objs[0])
    meta = model._meta
    quote = connection.ops.quote_name
    expressions = expressions or {}
    fields = list(zip(_insert_fields(model), _preparers(model), strict=True))
    columns, params, rows = [quote(field.column) for field, _ in fields], [], []
    for obj in objs:
        values = []
        for field, prepare in fields:
            if field.name in expressions:
                expression, expression_params = expressions[field.name]
                values.append(expression)
                params += expression_params
            else:
                values.append("%s")
                params.append(prepare(obj))
        rows.append(f"({', '.join(values)})")
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) VALUES {', '.join(rows)}"  # noqa: S608
    return sql, params


def update_row(obj: models.Model, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` as one plain UPDATE, for the same reason as
    ``insert_rows``; ``auto_now`` fields (``updated_at``) are stamped as ``save()`` would."""
    meta = type(obj)._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    _execute(
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names from the model
        f"WHERE {quote(meta.pk.column)} = %s",
        [*params, obj.pk],
    )


@dataclass(frozen=True)
class Leg:
    """One posting of an entry yet to be written: debit positive, credit negative."""

    account: Account
    amount_pence: int


# Accounts --------------------------------------------------------------------------

_SYSTEM_ACCOUNT_NAMES = {
    AccountKind.BANK: "Bank",
    AccountKind.CASH_IN_TRANSIT: "Cash in transit",
    AccountKind.VAT_OUTPUT: "VAT output tax",
}


def _account_defaults(key) -> dict:
    if not isinstance(key, tuple):
        fund = key
        kind = AccountKind.SUSPENSE if fund.is_suspense else AccountKind.FUND
        return {"kind": kind, "fund_code": fund, "code": f"FUND-{fund.code}", "name": fund.name}
    kind, provider = key
    if kind == AccountKind.PROVIDER_CLEARING:
        if not provider:
            raise ValueError("A clearing account belongs to a payment provider; name it.")
        return {
            "kind": kind,
            "provider": provider,
            "code": f"CLEARING-{provider}",
            "name": f"{provider} clearing",
        }
    if kind not in _SYSTEM_ACCOUNT_NAMES:
        raise ValueError(f"'{kind}' is not a system account kind.")
    return {
        "kind": kind,
        "code": kind.upper().replace("_", "-"),
        "name": _SYSTEM_ACCOUNT_NAMES[kind],
    }


def accounts_for(organisation, *, fund_codes=(), system=()) -> dict:
    """The accounts of these fund codes and system accounts, created where missing.

    ``system`` holds ``(kind, provider)`` pairs (provider blank but for
    clearing accounts). Returns a dict keyed by fund code id and by
    ``(kind, provider)``. One query when every account exists already, as it
    does after a council's first payments: this is on every payment's path.
    """
    fund_codes = {fund.pk: fund for fund in fund_codes}
    system = {
        (kind, provider if kind == AccountKind.PROVIDER_CLEARING else "")
        for kind, provider in system
    }
    for fund in fund_codes.values():
        if fund.organisation_id != organisation.pk:
            raise ValidationError(f"Fund code {fund.code} belongs to another council.")
    known = _committed_accounts.get(organisation.pk, {})
    found = {key: known[key] for key in [*fund_codes, *system] if key in known}
    unknown_funds = [pk for pk in fund_codes if pk not in found]
    unknown_system = {key for key in system if key not in found}
    if unknown_funds or unknown_system:
        # One query: the funds asked for, and the system accounts of the kinds asked for.
        read = {}
        for account in _read_accounts(organisation, fund_ids=unknown_funds, kinds=unknown_system):
            key = account.fund_code_id if account.fund_code_id else (account.kind, account.provider)
            read[key] = account
        found.update(read)
        _remember_accounts(organisation.pk, read)
    # Created in one fixed order, so that two first payments racing to create
    # the same accounts wait for each other instead of deadlocking.
    missing = sorted(
        (key for key in [*fund_codes, *system] if key not in found),
        key=lambda key: (1, *key) if isinstance(key, tuple) else (0, key, ""),
    )
    for key in missing:
        if key not in found:
            source = fund_codes[key] if not isinstance(key, tuple) else key
            found[key] = _create_account(organisation, _account_defaults(source))
            _remember_accounts(organisation.pk, {key: found[key]})
    return found


# A council's accounts, by fund code id and by (kind, provider), as committed.
#
# Reading them was one query on every payment, refund and journal. An account
# is never changed or deleted once it exists (its postings protect it, and no
# screen edits it), so a committed one can be remembered for the life of the
# process. Only committed rows are remembered: one created or read inside a
# transaction that is then rolled back is forgotten with it.
_committed_accounts: dict[int, dict] = {}


def _remember_accounts(organisation_id: int, accounts: dict) -> None:
    if not accounts:
        return

    def remember():
        _committed_accounts.setdefault(organisation_id, {}).update(accounts)

    transaction.on_commit(remember)


def forget_accounts() -> None:
    """Forget every remembered account: for tests, whose databases are emptied between them."""
    _committed_accounts.clear()


@cache
def _select_columns(model: type[models.Model]) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    return ", ".join(quote(field.column) for field in fields), [field.attname for field in fields]


def _select(model: type[models.Model], where: str, params: list, *, lock: bool = False) -> list:
    """Instances of ``model`` from plain SQL (``where`` written with placeholders only)."""
    columns, names = _select_columns(model)
    sql = f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}"  # noqa: S608
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return [model.from_db(connection.alias, names, row) for row in _execute(sql, params)]


def lock_row(model: type[models.Model], pk):
    """``model.objects.select_for_update().get(pk=pk)``, without building a queryset.

    For rows locked on every callback, refund and approval: the row stays
    locked until the caller's transaction ends.
    """
    rows = _select(
        model, f"{connection.ops.quote_name(model._meta.pk.column)} = %s", [pk], lock=True
    )
    if not rows:
        raise model.DoesNotExist(f"{model._meta.object_name} {pk} does not exist.")
    return rows[0]


def _read_accounts(organisation, *, fund_ids: list, kinds) -> list[Account]:
    """The council's accounts of these fund codes and system kinds, in one plain query.

    Plain SQL rather than a queryset: it runs for every payment, refund and
    journal, and building the queryset cost more than running it.
    """
    wanted, params = [], [organisation.pk]
    if fund_ids:
        wanted.append(f"fund_code_id IN ({', '.join(['%s'] * len(fund_ids))})")
        params += fund_ids
    kinds = sorted({kind for kind, _ in kinds})
    if kinds:
        wanted.append(f"(fund_code_id IS NULL AND kind IN ({', '.join(['%s'] * len(kinds))}))")
        params += kinds
    if not wanted:
        return []
    return _select(Account, f"organisation_id = %s AND ({' OR '.join(wanted)})", params)


def _create_account(organisation, fields: dict) -> Account:
    lookup = (
        {"fund_code": fields["fund_code"]}
        if "fund_code" in fields
        else {
            "kind": fields["kind"],
            "provider": fields.get("provider", ""),
            "fund_code__isnull": True,
        }
    )
    try:
        # A savepoint, so that losing a race to create it leaves the caller's transaction usable.
        with transaction.atomic():
            return Account.objects.create(organisation=organisation, **fields)
    except IntegrityError:
        return Account.objects.get(organisation=organisation, **lookup)


def fund_account(fund_code) -> Account:
    """The ledger account of a fund code (the suspense account for the suspense fund)."""
    return accounts_for(fund_code.organisation, fund_codes=[fund_code])[fund_code.pk]


def system_account(organisation, kind: str, *, provider: str = "") -> Account:
    """The council's bank, cash in transit, VAT output tax or a provider's clearing account."""
    key = (kind, provider if kind == AccountKind.PROVIDER_CLEARING else "")
    return accounts_for(organisation, system=[key])[key]


# Entries ---------------------------------------------------------------------------


def _merged(legs: Iterable[Leg]) -> list[Leg]:
    """Legs on the same account added together, and zero legs dropped."""
    totals: dict[int, int] = {}
    accounts: dict[int, Account] = {}
    for leg in legs:
        totals[leg.account.pk] = totals.get(leg.account.pk, 0) + leg.amount_pence
        accounts[leg.account.pk] = leg.account
    return [Leg(accounts[pk], amount) for pk, amount in totals.items() if amount]


def write_entry(
    *,
    organisation,
    kind: str,
    description: str,
    legs: Sequence[Leg],
    created_by=None,
    reason: str = "",
    source=None,
    reverses: JournalEntry | None = None,
    is_migration: bool = False,
) -> JournalEntry:
    """Write one balanced entry. Raises ``UnbalancedEntry`` and writes nothing otherwise.

    ``write_entry`` is for callers already inside a transaction (it takes no
    savepoint of its own); everyone else calls ``entry_post``.
    """
    entry, postings = entry_rows(
        organisation=organisation,
        kind=kind,
        description=description,
        legs=legs,
        created_by=created_by,
        reason=reason,
        source=source,
        reverses=reverses,
        is_migration=is_migration,
    )
    # Inserted only, never saved again: the append-only rule holds (and the
    # database's triggers would refuse anything else).
    insert_rows([entry], children=[postings])
    return entry


def entry_rows(
    *,
    organisation,
    kind: str,
    description: str,
    legs: Sequence[Leg],
    created_by=None,
    reason: str = "",
    source=None,
    reverses: JournalEntry | None = None,
    is_migration: bool = False,
) -> tuple[JournalEntry, list[Posting]]:
    """The entry and its postings, checked as ``write_entry`` checks them, not yet written.

    For a caller that writes them in a statement of its own (``insert_sql``).
    """
    legs = _merged(legs)
    if len(legs) < 2:
        raise UnbalancedEntry("An entry needs at least two postings with amounts.")
    total = sum(leg.amount_pence for leg in legs)
    if total != 0:
        raise UnbalancedEntry(f"The postings of an entry must sum to zero, not {total}p.")
    foreign = [leg.account for leg in legs if leg.account.organisation_id != organisation.pk]
    if foreign:
        raise ValidationError(f"Account {foreign[0]} belongs to another council.")
    entry = JournalEntry(
        organisation=organisation,
        kind=kind,
        description=description[:255],
        reason=reason,
        created_by=created_by,
        source_type=ContentType.objects.get_for_model(source) if source is not None else None,
        source_id=source.pk if source is not None else None,
        reverses=reverses,
        is_migration=is_migration,
    )
    postings = [
        Posting(
            organisation=organisation,
            entry=entry,
            account=leg.account,
            amount_pence=leg.amount_pence,
        )
        for leg in legs
    ]
    return entry, postings


entry_post = transaction.atomic(write_entry)


@transaction.atomic
def entry_reverse(
    *, entry: JournalEntry, created_by=None, reason: str, source=None
) -> JournalEntry:
    """Cancel an entry with its mirror image; the original stays as it was."""
    if not reason.strip():
        raise ValidationError("Say why the entry is being reversed.")
    # Locked, so that two reversals racing for one entry get the same clear answer.
    entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(f"{entry} has already been reversed.")
    legs = [
        Leg(posting.account, -posting.amount_pence)
        for posting in entry.postings.select_related("account")
    ]
    return entry_post(
        organisation=entry.organisation,
        kind=EntryKind.REVERSAL,
        description=f"Reversal of entry {entry.pk}: {entry.description}",
        legs=legs,
        created_by=created_by,
        reason=reason,
        source=source or entry,
        reverses=entry,
    )


# Journals between fund codes ----------------------------------------------------------


def _check_journal(*, organisation, from_fund_code, to_fund_code, amount_pence: int, reason: str):
    errors = {}
    if amount_pence is None or amount_pence <= 0:
        errors["amount_pence"] = "A journal moves more than 0p."
    if not reason or not reason.strip():
        errors["reason"] = "Say why the money is being moved."
    for field, fund in (("from_fund_code", from_fund_code), ("to_fund_code", to_fund_code)):
        if fund.organisation_id != organisation.pk:
            errors[field] = f"{fund.code} belongs to another council."
        elif not fund.is_active and field == "to_fund_code":
            errors[field] = f"{fund.code} is not active: money cannot be moved to it."
    if from_fund_code.pk == to_fund_code.pk:
        errors["to_fund_code"] = "Choose a different fund code to move the money to."
    if errors:
        raise ValidationError(errors)


def _check_line(payment_line, *, from_fund_code, amount_pence: int) -> None:
    """A line's money can be moved only once taken, and only what is still on it."""
    from backoffice.payments.models import TAKEN_STATUSES, PaymentLine

    # Locked, so that two journals racing for one line cannot both take what is left.
    line = PaymentLine.objects.select_for_update().select_related("payment").get(pk=payment_line.pk)
    if line.fund_code_id != from_fund_code.pk:
        raise ValidationError({"payment_line": "The line's money is not on that fund code."})
    if line.payment.status not in TAKEN_STATUSES:
        raise ValidationError(
            {"payment_line": f"{line.payment} was never taken: there is no money to move."}
        )
    moved = sum(
        Journal.objects.filter(payment_line=line)
        .exclude(status=JournalStatus.REJECTED)
        .values_list("amount_pence", flat=True)
    )
    on_line = line.net_pence - (line.refunded_pence - line.refunded_vat_pence) - moved
    if amount_pence > on_line:
        raise ValidationError(
            {
                "amount_pence": f"Only {format_pence(max(on_line, 0))} of this line is still on "
                f"{from_fund_code.code} to move."
            }
        )


def journal_request(
    *,
    organisation,
    from_fund_code,
    to_fund_code,
    amount_pence: int,
    reason: str,
    requested_by,
    payment_line=None,
    idempotency_key: str | None = None,
) -> Journal:
    """Ask to move money between fund codes.

    At or below the council's threshold it posts at once; above it waits for
    a second, different person (``journal_approve``). Moving a payment line's
    money is limited to what is still on the line (its net, less refunds and
    other journals of it).
    """
    from backoffice.payments.idempotency import run_once

    def write():
        _check_journal(
            organisation=organisation,
            from_fund_code=from_fund_code,
            to_fund_code=to_fund_code,
            amount_pence=amount_pence,
            reason=reason,
        )
        if payment_line is not None:
            _check_line(payment_line, from_fund_code=from_fund_code, amount_pence=amount_pence)
        journal = Journal(
            organisation=organisation,
            from_fund_code=from_fund_code,
            to_fund_code=to_fund_code,
            amount_pence=amount_pence,
            reason=reason,
            payment_line=payment_line,
            requested_by=requested_by,
            status=JournalStatus.PENDING_APPROVAL,
        )
        insert_rows([journal])
        if amount_pence <= organisation.journal_approval_threshold_pence:
            _journal_post(journal, decided_by=requested_by, note="Within the council's limit.")
        return journal

    journal, _ = run_once(
        organisation=organisation,
        scope="journal_request",
        key=idempotency_key,
        content={
            "from": from_fund_code.pk,
            "to": to_fund_code.pk,
            "amount_pence": amount_pence,
            "reason": reason,
            "payment_line": payment_line.pk if payment_line is not None else None,
        },
        model=Journal,
        write=write,
    )
    return journal


def _locked_pending(journal: Journal) -> Journal:
    journal = lock_row(Journal, journal.pk)
    if journal.status != JournalStatus.PENDING_APPROVAL:
        raise ValidationError(f"{journal} has already been {journal.get_status_display().lower()}.")
    return journal


def _journal_post(journal: Journal, *, decided_by, note: str) -> Journal:
    accounts = accounts_for(
        journal.organisation, fund_codes=[journal.from_fund_code, journal.to_fund_code]
    )
    journal.entry = write_entry(
        organisation=journal.organisation,
        kind=EntryKind.JOURNAL,
        description=(
            f"Journal {journal.pk}: {journal.from_fund_code.code} to {journal.to_fund_code.code}"
        ),
        legs=[
            Leg(accounts[journal.from_fund_code_id], journal.amount_pence),
            Leg(accounts[journal.to_fund_code_id], -journal.amount_pence),
        ],
        created_by=journal.requested_by,
        reason=journal.reason,
        source=journal,
    )
    journal.status = JournalStatus.POSTED
    journal.decided_by = decided_by
    journal.decided_at = timezone.now()
    journal.decision_note = note
    update_row(journal, ["entry", "status", "decided_by", "decided_at", "decision_note"])
    return journal


@transaction.atomic
def journal_approve(*, journal: Journal, approved_by, note: str = "") -> Journal:
    """A second person approves a journal: it posts now."""
    journal = _locked_pending(journal)
    if approved_by.pk == journal.requested_by_id:
        raise PermissionDenied("A journal must be approved by someone other than who asked for it.")
    _check_journal(
        organisation=journal.organisation,
        from_fund_code=journal.from_fund_code,
        to_fund_code=journal.to_fund_code,
        amount_pence=journal.amount_pence,
        reason=journal.reason,
    )
    return _journal_post(journal, decided_by=approved_by, note=note)


@transaction.atomic
def journal_reject(*, journal: Journal, rejected_by, note: str) -> Journal:
    """Turn a journal down: nothing is posted."""
    journal = _locked_pending(journal)
    if not note.strip():
        raise ValidationError({"decision_note": "Say why the journal is rejected."})
    journal.status = JournalStatus.REJECTED
    journal.decided_by = rejected_by
    journal.decided_at = timezone.now()
    journal.decision_note = note
    update_row(journal, ["status", "decided_by", "decided_at", "decision_note"])
    return journal
