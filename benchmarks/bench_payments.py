"""Mixed payment load through the services, on PostgreSQL, with every ledger invariant checked.

Four worker processes, for a fixed time, take payments (one to three lines,
some with bad references that go to suspense), take two-step provider
payments, refund (full and partial), journal between funds, and retry with
repeated idempotency keys. Then the ledger is checked: every entry balances,
all postings sum to zero, each fund holds its lines less refunds plus or
minus journals, receipt numbers are unique and gapless, refunds never exceed
what was taken, and every retry returned the first result.

The same workers then write the same shape of rows with plain ORM creates
(no validation, locks, idempotency or receipt numbers): the obvious
alternative, and the ceiling the services are measured against.

Target (issue: payments and the ledger): 500 payments/s on a 2-core machine.

Run: ``make bench`` (or ``python benchmarks/bench_payments.py --seconds 20``).
It uses its own database, ``BENCH_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/ims_bench), dropped and created afresh.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import run_in_processes  # noqa: E402 - needs ROOT on the path

BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ims_bench"
)
TARGET_PAYMENTS_PER_S = 500


def _django():
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    # As in production: work done after a payment commits (suspense rules, departmental
    # notices) is queued for the task worker, not run by the worker taking payments.
    os.environ["TASKS_BACKEND"] = "database"
    import django

    django.setup()


def _fresh_database():
    import psycopg

    url = urlparse(BENCH_DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    _django()
    from django.core.management import call_command

    from fixtures.demo import load_demo_council

    call_command("migrate", verbosity=0)
    load_demo_council(password="benchmark-only")  # noqa: S106 - a throwaway database


# Work -----------------------------------------------------------------------------


def _council():
    from backoffice.funds.models import FundCode
    from backoffice.tenancy.models import Organisation

    organisation = Organisation.objects.get(code="barchester")
    funds = {
        fund.code: fund
        for fund in FundCode.objects.filter(organisation=organisation).select_related(
            "organisation", "reference_rule", "default_vat_rate"
        )
    }
    return organisation, funds


# Valid references of the demo council's rules (see fixtures/demo_council.toml).
REFERENCES = {
    "CTAX": "301234566",
    "NNDR": "91002346",
    "BCTRL": "BC2400123",
    "LICENCE": "LN004512",
    "PLAN": "24/01234/FUL",
}


def _lines(funds, rng):
    from backoffice.payments.services import LineInput

    lines = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        code = rng.choice(list(REFERENCES))
        reference = REFERENCES[code]
        if rng.random() < 0.05:
            reference = reference[:-1] + ("0" if reference[-1] != "0" else "1")  # to suspense
        lines.append(LineInput(funds[code], rng.randint(100, 50_000), reference))
    return lines


def _services_worker(index: int):
    return (lambda: _services_prepare(index)), _services_work


def _services_prepare(index: int):
    _django()
    from django.contrib.auth import get_user_model

    from backoffice.payments import providers
    from backoffice.payments.services import RefundOutcome

    # The provider is elsewhere; here every refund it is sent is accepted.
    providers.register_refund_gateway(
        "sandbox", lambda refund: RefundOutcome(accepted=True, provider_reference=f"r{refund.pk}")
    )
    organisation, funds = _council()
    officer = get_user_model().objects.get(username="income.officer")
    return index, organisation, funds, officer


def _services_work(state, seconds: float) -> dict:
    from django.core.exceptions import ValidationError
    from django.db import connection

    from backoffice.ledger.services import journal_request
    from backoffice.payments.models import Method
    from backoffice.payments.services import (
        payment_create,
        payment_succeed,
        payment_take,
        refund_request,
    )

    index, organisation, funds, officer = state
    rng = random.Random(index)
    counts = {
        "payments": 0,
        "refunds": 0,
        "refunds_refused": 0,
        "journals": 0,
        "retries": 0,
        "retry_mismatches": 0,
    }
    taken = []
    last = None
    deadline = time.perf_counter() + seconds
    serial = 0
    while time.perf_counter() < deadline:
        serial += 1
        roll = rng.random()
        if roll < 0.08 and last is not None:
            key, lines, first = last
            again = payment_take(
                organisation=organisation,
                channel="telephone",
                method=Method.CARD,
                lines=lines,
                idempotency_key=key,
            )
            counts["retries"] += 1
            counts["retry_mismatches"] += again.pk != first.pk
        elif roll < 0.70:
            key = f"w{index}-{serial}"
            lines = _lines(funds, rng)
            method = rng.choice((Method.CARD, Method.CASH, Method.CHEQUE, Method.BANK_TRANSFER))
            payment = payment_take(
                organisation=organisation,
                channel="telephone" if method == Method.CARD else "face_to_face",
                method=method,
                lines=lines,
                idempotency_key=key,
                created_by=officer,
            )
            if method == Method.CARD:
                last = (key, lines, payment)
            taken.append(payment)
            counts["payments"] += 1
        elif roll < 0.80:
            payment = payment_create(
                organisation=organisation,
                channel="telephone",
                method=Method.CARD,
                provider="sandbox",
                lines=_lines(funds, rng),
                idempotency_key=f"w{index}-{serial}-online",
            )
            taken.append(payment_succeed(payment=payment, actor="sandbox callback"))
            counts["payments"] += 1
        elif roll < 0.90 and taken:
            payment = rng.choice(taken)
            remaining = payment.total_pence - payment.refunded_pence
            if remaining > 0:
                amount = remaining if rng.random() < 0.3 else rng.randint(1, remaining)
                try:
                    refund_request(
                        payment=payment,
                        amount_pence=amount,
                        reason="benchmark",
                        requested_by=officer,
                        idempotency_key=f"w{index}-{serial}-refund",
                    )
                    counts["refunds"] += 1
                except ValidationError:
                    counts["refunds_refused"] += 1  # another refund used up what was left
                payment.refresh_from_db(fields=["refunded_pence", "status"])
        else:
            source, target = rng.sample(["CTAX", "NNDR", "BCTRL", "LICENCE"], 2)
            journal_request(
                organisation=organisation,
                from_fund_code=funds[source],
                to_fund_code=funds[target],
                amount_pence=rng.randint(1, 10_000),
                reason="benchmark",
                requested_by=officer,
            )
            counts["journals"] += 1
    connection.close()
    return counts


def _plain_orm_worker(index: int):
    return (lambda: _plain_orm_prepare(index)), _plain_orm_work


def _plain_orm_prepare(index: int):
    _django()
    return (index, *_council())


def _plain_orm_work(state, seconds: float) -> dict:
    """The same rows written with plain creates: no checks, locks, keys or receipt numbers."""
    from django.db import connection, transaction

    from backoffice.ledger.models import Account, JournalEntry, Posting
    from backoffice.payments.models import Payment, PaymentLine

    index, organisation, funds = state
    vat = funds["CTAX"].default_vat_rate
    accounts = {
        account.fund_code_id: account
        for account in Account.objects.filter(organisation=organisation)
    }
    clearing = Account.objects.filter(organisation=organisation, kind="provider_clearing").first()
    rng = random.Random(index)
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with transaction.atomic():
            codes = [rng.choice(list(REFERENCES)) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
            amounts = [rng.randint(100, 50_000) for _ in codes]
            payment = Payment.objects.create(
                organisation=organisation,
                channel="telephone",
                method="card",
                status="created",
                total_pence=sum(amounts),
                tax_point="2026-11-25",
            )
            PaymentLine.objects.bulk_create(
                [
                    PaymentLine(
                        organisation=organisation,
                        payment=payment,
                        fund_code=funds[code],
                        vat_rate=vat,
                        net_pence=amount,
                        vat_pence=0,
                        gross_pence=amount,
                    )
                    for code, amount in zip(codes, amounts, strict=True)
                ]
            )
            entry = JournalEntry.objects.create(
                organisation=organisation, kind="payment", description="plain"
            )
            Posting.objects.bulk_create(
                [
                    Posting(
                        organisation=organisation,
                        entry=entry,
                        account=clearing,
                        amount_pence=sum(amounts),
                    )
                ]
                + [
                    Posting(
                        organisation=organisation,
                        entry=entry,
                        account=accounts[funds[code].pk],
                        amount_pence=-amount,
                    )
                    for code, amount in zip(codes, amounts, strict=True)
                ]
            )
        count += 1
    connection.close()
    return {"payments": count}


def _timed(index, wait_for_all, worker, seconds):
    """Set up (Django, the council), wait for every worker, then work for ``seconds``."""
    prepare, work = worker(index)
    state = prepare()
    wait_for_all()
    started = time.perf_counter()
    counts = work(state, seconds)
    return counts, time.perf_counter() - started


def _run(worker, workers: int, seconds: float) -> tuple[list[dict], float]:
    """Counts from each worker, and the longest worker's working time (set-up excluded)."""
    collected = run_in_processes(_timed, workers, worker, seconds)
    return [counts for counts, _ in collected], max(elapsed for _, elapsed in collected)


# Invariants -------------------------------------------------------------------------


INVARIANTS = {
    "every entry balances": """
        SELECT COUNT(*) FROM (SELECT entry_id FROM ledger_posting GROUP BY entry_id
                              HAVING SUM(amount_pence) <> 0) unbalanced""",
    "all postings sum to zero": "SELECT COALESCE(SUM(amount_pence), 0) FROM ledger_posting",
    "each fund holds its lines less refunds plus or minus journals": """
        WITH ledger AS (
            SELECT a.fund_code_id AS fund, -SUM(p.amount_pence) AS held
            FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
            WHERE a.fund_code_id IS NOT NULL GROUP BY a.fund_code_id),
        lines AS (
            SELECT l.fund_code_id AS fund,
                   SUM(l.net_pence - (l.refunded_pence - l.refunded_vat_pence)) AS held
            FROM payments_paymentline l JOIN payments_payment pay ON pay.id = l.payment_id
            WHERE pay.status IN ('success', 'partially_refunded', 'refunded')
            GROUP BY l.fund_code_id),
        journals AS (
            SELECT fund, SUM(amount) AS held FROM (
                SELECT to_fund_code_id AS fund, amount_pence AS amount
                    FROM ledger_journal WHERE status = 'posted'
                UNION ALL
                SELECT from_fund_code_id, -amount_pence FROM ledger_journal WHERE status = 'posted'
            ) moves GROUP BY fund)
        SELECT COUNT(*) FROM ledger
        FULL JOIN lines ON lines.fund = ledger.fund
        LEFT JOIN journals ON journals.fund = COALESCE(ledger.fund, lines.fund)
        WHERE COALESCE(ledger.held, 0) <> COALESCE(lines.held, 0) + COALESCE(journals.held, 0)""",
    "receipt numbers are unique and gapless": """
        SELECT COUNT(*) - COUNT(DISTINCT receipt_number)
             + (SELECT COALESCE(MAX(last_number), 0) FROM payments_receiptsequence)
             - COUNT(*)
        FROM payments_payment WHERE receipt_number IS NOT NULL""",
    "no payment refunded beyond what was taken": """
        SELECT COUNT(*) FROM payments_payment pay WHERE pay.refunded_pence > pay.total_pence
           OR pay.refunded_pence <> (SELECT COALESCE(SUM(amount_pence), 0) FROM payments_refund r
                                     WHERE r.payment_id = pay.id AND r.status <> 'rejected')""",
}


def _check_invariants() -> dict:
    from django.db import connection

    broken = {}
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql)
            value = cursor.fetchone()[0]
            if value:
                broken[name] = value
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    options = parser.parse_args()

    _fresh_database()
    results, elapsed = _run(_services_worker, options.workers, options.seconds)
    totals = {key: sum(result[key] for result in results) for key in results[0]}
    broken = _check_invariants()
    if totals["retry_mismatches"]:
        broken["every retry returned the first result"] = totals["retry_mismatches"]
    plain, plain_elapsed = _run(_plain_orm_worker, options.workers, options.seconds)
    plain_payments = sum(result["payments"] for result in plain)

    from django.db import connection

    rate = totals["payments"] / elapsed
    plain_rate = plain_payments / plain_elapsed
    print(
        json.dumps(
            {
                "bench": "payments_mixed_load",
                "machine": (
                    f"{platform.machine()}, {os.cpu_count()} cores, "
                    f"Python {platform.python_version()}"
                ),
                "database": f"PostgreSQL {connection.pg_version // 10000}",
                "workers": options.workers,
                "seconds": round(elapsed, 1),
                "payments": totals["payments"],
                "refunds": totals["refunds"],
                "journals": totals["journals"],
                "retries": totals["retries"],
                "payments_per_s": round(rate, 1),
                "plain_orm_payments_per_s": round(plain_rate, 1),
                "services_vs_plain_orm": round(rate / plain_rate, 2),
                "target_payments_per_s": TARGET_PAYMENTS_PER_S,
                "meets_target": rate >= TARGET_PAYMENTS_PER_S,
                "invariants": broken or "hold",
            }
        )
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
