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
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    group_ids = list(membership.fund_groups.values_list("pk", flat=True)) if membership else []
    if group_ids:
        return frozenset(
            FundCode.objects.filter(organisation=organisation, groups__in=group_ids).values_list(
                "pk", flat=True
            )
        )
    if user.groups.filter(name=DEPARTMENT_USER).exists():
        return frozenset()
    return None


def has_line_on(fund_code_ids):
    """``EXISTS`` a line of the (outer) payment on one of ``fund_code_ids``."""
    return Exists(
        PaymentLine.objects.filter(payment=OuterRef("pk"), fund_code_id__in=sorted(fund_code_ids))
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
