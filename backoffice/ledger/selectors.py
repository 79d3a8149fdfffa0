"""Reads of the ledger: balances and entries."""

from django.db.models import Sum

from .models import Account, Posting


def account_balance_pence(account: Account) -> int:
    """The sum of an account's postings: positive is a debit balance."""
    return (
        Posting.objects.filter(account=account).aggregate(total=Sum("amount_pence"))["total"] or 0
    )


def fund_income_pence(fund_code) -> int:
    """What a fund code holds: the credit balance of its account, as a positive amount."""
    account = Account.objects.filter(fund_code=fund_code).first()
    return -account_balance_pence(account) if account else 0


def ledger_total_pence(organisation) -> int:
    """The sum of every posting of a council: zero, always."""
    return (
        Posting.objects.filter(organisation=organisation).aggregate(total=Sum("amount_pence"))[
            "total"
        ]
        or 0
    )
