"""Which of a council's payments a member of staff may see: all of them, or their fund groups'.

Every screen that lists or shows payments (the search, its export, the
Transactions > Payments listing and each payment's pages) asks here, so the
rule is in one place:

- a superuser sees every payment of the council they act for;
- a person whose membership has fund groups sees only payments with at least
  one line on a fund code of those groups (a payment paying council tax and
  parking together is seen by both departments, whole);
- a Department user sees only their fund groups' payments, and nothing until
  a system administrator gives their membership some;
- everyone else sees every payment of their council.

The council itself is ``request.organisation`` (see backoffice/tenancy): rows
of another council are never seen, whatever the fund groups.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Exists, OuterRef

from backoffice.accounts.roles import DEPARTMENT_USER
from backoffice.funds.models import FundCode
from backoffice.payments.models import Payment, PaymentLine
from backoffice.tenancy.models import Membership

_CACHE_ATTRIBUTE = "_visible_fund_code_ids"


def visible_fund_code_ids(request) -> frozenset[int] | None:
    """The fund codes whose payments the user may see, or None for every fund of the council.

    Worked out once per request.
    """
    if hasattr(request, _CACHE_ATTRIBUTE):
        return getattr(request, _CACHE_ATTRIBUTE)
    fund_code_ids = _visible_fund_code_ids(request.user, request.organisation)
    setattr(request, _CACHE_ATTRIBUTE, fund_code_ids)
    return fund_code_ids


def _visible_fund_code_ids(user, organisation) -> frozenset[int] | None:
    if organisation is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return None
    # Every listing and search asks this first, so it is one plain statement (the ORM
    # took longer to build it than PostgreSQL to run it): the usual answer (no fund
    # groups: all the council's payments, or none for a Department user) needs no more,
    # and the fund codes are read only when the membership has groups.
    with connection.cursor() as cursor:
        cursor.execute(_groups_sql(), [user.pk, organisation.pk, user.pk, DEPARTMENT_USER])
        has_groups, is_department = cursor.fetchone()
    if has_groups:
        return frozenset(
            FundCode.objects.filter(
                organisation=organisation,
                groups__memberships__user=user,
                groups__memberships__organisation=organisation,
            ).values_list("pk", flat=True)
        )
    if is_department:
        return frozenset()
    return None


@functools.cache
def _groups_sql() -> str:
    """Whether the user's membership of a council has fund groups; whether they are a
    Department user. Parameters: user, council, user, the Department user group's name."""
    chosen = Membership.fund_groups.through._meta
    membership = Membership._meta
    user_groups = get_user_model().groups.through._meta
    return (
        f"SELECT EXISTS (SELECT 1 FROM {chosen.db_table} c JOIN {membership.db_table} m"  # noqa: S608 - names from the models
        f" ON m.id = c.{chosen.get_field('membership').column}"
        f" WHERE m.{membership.get_field('user').column} = %s"
        f" AND m.{membership.get_field('organisation').column} = %s),"
        f" EXISTS (SELECT 1 FROM {user_groups.db_table} u JOIN {Group._meta.db_table} g"
        f" ON g.id = u.{user_groups.get_field('group').column}"
        f" WHERE u.{user_groups.get_field('user').column} = %s AND g.name = %s)"
    )


def has_line_on(fund_code_ids):
    """``EXISTS`` a line of the (outer) payment on one of ``fund_code_ids``.

    The line's council is the payment's, said again so that the (organisation,
    fund code, payment) index of lines answers it from the index alone: for one
    payment at a time when walking newest first, or for all of a fund's lines.
    """
    return Exists(
        PaymentLine.objects.filter(
            organisation_id=OuterRef("organisation_id"),
            fund_code_id__in=sorted(fund_code_ids),
            payment=OuterRef("pk"),
        )
    )


def visible_payments(request, queryset=None):
    """The council's payments the user may see (``queryset`` narrowed, or all payments)."""
    queryset = Payment.objects.all() if queryset is None else queryset
    queryset = queryset.for_organisation(request.organisation)
    fund_code_ids = visible_fund_code_ids(request)
    if fund_code_ids is None:
        return queryset
    if not fund_code_ids:
        return queryset.none()
    return queryset.filter(has_line_on(fund_code_ids))


def payment_is_visible(request, payment: Payment) -> bool:
    """Whether the user may see ``payment`` (of their council, and of their fund groups)."""
    if request.organisation is None or payment.organisation_id != request.organisation.pk:
        return False
    fund_code_ids = visible_fund_code_ids(request)
    if fund_code_ids is None:
        return True
    return payment.lines.filter(fund_code_id__in=fund_code_ids).exists()
