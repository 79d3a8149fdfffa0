"""What the suspense tests share: a council whose department keeps a list of accounts,
payments that land in suspense, and a rule maker."""

import pytest
from django.contrib.auth.models import Permission

from backoffice.funds.references import with_check_character
from backoffice.payments.services import LineInput, Payer, payment_take
from backoffice.suspense.models import SuspenseItem
from integrations.department_files.services import known_references_replace
from tests.factories import integration, staff


def account(fund, body: str) -> str:
    """``body`` with the check digit of ``fund``'s rule."""
    return with_check_character(body, fund.reference_rule.spec.check_digit)


def mistyped(reference: str) -> str:
    """The reference with its third and fourth digits swapped (they must differ)."""
    assert reference[2] != reference[3], reference
    return reference[:2] + reference[3] + reference[2] + reference[4:]


@pytest.fixture
def department(council, ctax):
    """``department(ctax=[...], ...)``: the council's department knows these references (and
    only these) for those funds; references of a fund not named are not checked."""

    def knows(**references):
        from backoffice.funds.models import FundCode

        funds = {code: FundCode.objects.get(organisation=council, code=code) for code in references}
        records = integration(
            council,
            plugin="department_files",
            key="records",
            settings={"fund_codes": sorted(references), "validate_references": True},
        )
        rows = ["fund_code,reference"] + [
            f"{code},{reference}" for code, refs in references.items() for reference in refs
        ]
        known_references_replace(integration=records, content="\n".join(rows) + "\n")
        return funds

    return knows


@pytest.fixture
def taken(council, suspense_fund):
    """``taken(fund, reference, amount_pence=5_000, **payment)``: a payment taken by telephone
    card; returns its suspense item, or None if its line was not suspended."""

    def take(fund, reference, amount_pence=5_000, *, narrative="", payer="Ann Payer", **kwargs):
        kwargs.setdefault("channel", "telephone")
        kwargs.setdefault("method", "card")
        payment = payment_take(
            organisation=council,
            lines=[LineInput(fund, amount_pence, account_reference=reference, narrative=narrative)],
            payer=Payer(name=payer),
            **kwargs,
        )
        return SuspenseItem.objects.filter(payment_line__payment=payment).first()

    return take


def grant(user, *codenames):
    """Give ``user`` admin access and these permissions ("suspense.view_suspenseitem"...)."""
    wanted = ["wagtailadmin.access_admin", *codenames]
    for name in wanted:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def person(council):
    """``person(*permissions)``: a member of staff of the council with only these rights."""
    made = []

    def make(*codenames, username=None):
        user = staff(council, roles=(), username=username or f"person{len(made)}")
        made.append(user)
        return grant(user, *codenames)

    return make
