"""Reads for paying-in slips: what is on one, by note and coin and cheque by cheque."""

from collections import Counter
from dataclasses import dataclass

from backoffice.counter.models import (
    Denomination,
    PaymentKind,
    ReturnCashCount,
    ReturnCheque,
    SessionCashCount,
    SessionPayment,
)

from .models import PayingInSlip


@dataclass(frozen=True)
class SlipCheque:
    number: str
    sort_code: str
    drawer: str
    amount_pence: int
    source: str


def slip_items(slip: PayingInSlip):
    return list(
        slip.items.select_related("till_session__till__office", "cash_return__department").order_by(
            "pk"
        )
    )


def slip_denominations(slip: PayingInSlip) -> list[tuple[str, int, int]]:
    """(note or coin, how many, amount) for the slip's cash, largest first."""
    items = slip.items.filter(is_released=slip.status == "cancelled")
    counts = Counter()
    for count in SessionCashCount.objects.filter(
        session__in=items.exclude(till_session=None).values("till_session")
    ):
        counts[count.denomination_pence] += count.quantity
    for count in ReturnCashCount.objects.filter(
        cash_return__in=items.exclude(cash_return=None).values("cash_return")
    ):
        counts[count.denomination_pence] += count.quantity
    return [
        (Denomination(value).label, counts[value], value * counts[value])
        for value in Denomination.values
        if counts[value]
    ]


def slip_cheques(slip: PayingInSlip) -> list[SlipCheque]:
    """Every cheque on the slip: those found in the tills at close, and the returns' cheques."""
    items = slip.items.filter(is_released=slip.status == "cancelled")
    cheques = [
        SlipCheque(
            record.cheque_number,
            record.cheque_sort_code,
            record.cheque_drawer,
            record.payment.total_pence,
            str(record.payment),
        )
        for record in SessionPayment.objects.filter(
            session__in=items.exclude(till_session=None).values("till_session"),
            kind=PaymentKind.CHEQUE,
            cheque_in_till=True,
        )
        .select_related("payment")
        .order_by("pk")
    ]
    cheques += [
        SlipCheque(
            cheque.cheque_number,
            cheque.sort_code,
            cheque.drawer,
            cheque.amount_pence,
            str(cheque.cash_return),
        )
        for cheque in ReturnCheque.objects.filter(
            cash_return__in=items.exclude(cash_return=None).values("cash_return")
        )
        .select_related("cash_return")
        .order_by("pk")
    ]
    return cheques
