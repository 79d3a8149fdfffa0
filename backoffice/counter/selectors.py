"""Reads for the counter screens: sessions, their takings, returns and what may be banked."""

from django.db.models import Q

from backoffice.funds.models import Channel, Department, FundCode
from backoffice.payments.models import TAKEN_STATUSES
from backoffice.search.scoping import visible_fund_code_ids

from .models import (
    CashReturn,
    PaymentKind,
    ReturnStatus,
    SessionPayment,
    SessionStatus,
    Till,
    TillSession,
)


def open_session_of(user, organisation) -> TillSession | None:
    """The session the cashier has open in this council, if any (the newest)."""
    if organisation is None:
        return None
    return (
        TillSession.objects.filter(
            organisation=organisation, opened_by=user, status=SessionStatus.OPEN
        )
        .select_related("till__office")
        .order_by("-opened_at")
        .first()
    )


def tills_free_to_open(organisation):
    """Active tills of active offices with no session open."""
    return (
        Till.objects.filter(organisation=organisation, is_active=True, office__is_active=True)
        .exclude(sessions__status=SessionStatus.OPEN)
        .select_related("office")
        .order_by("office__name", "name")
    )


def session_payments(session: TillSession) -> list[SessionPayment]:
    return list(
        session.payments.select_related("payment").prefetch_related("payment__lines__fund_code")
    )


def takings_by_kind(records) -> dict[str, int]:
    """What the session has taken so far, by how it was paid (money taken only)."""
    totals = dict.fromkeys(PaymentKind.values, 0)
    for record in records:
        if record.payment.status in TAKEN_STATUSES:
            totals[record.kind] += record.payment.total_pence
    return totals


def counter_fund_codes(organisation, channel: str = Channel.FACE_TO_FACE):
    """The council's active fund codes that take payments on ``channel`` (not the suspense fund:
    money reaches it only through a bad reference)."""
    return (
        FundCode.objects.filter(organisation=organisation, is_suspense=False)
        .active()
        .accepting(channel)
        .order_by("code")
    )


def till_fund_codes(organisation):
    """Fund codes a cashier may take at a till: face to face, or by card over the phone."""
    funds = FundCode.objects.filter(organisation=organisation, is_suspense=False).active()
    return (funds.accepting(Channel.FACE_TO_FACE) | funds.accepting(Channel.TELEPHONE)).order_by(
        "code"
    )


# Cash returns --------------------------------------------------------------------------


def return_fund_codes(request):
    """Fund codes a user may put on a return: active, taking cash returns, and within the
    fund groups their membership limits them to (``backoffice.search.scoping``)."""
    funds = counter_fund_codes(request.organisation, Channel.CASH_RETURN)
    visible = visible_fund_code_ids(request)
    return funds if visible is None else funds.filter(pk__in=sorted(visible))


def return_departments(request):
    """Departments a user may make returns for: all the council's active ones, or those owning
    a fund code the user may see."""
    departments = Department.objects.filter(organisation=request.organisation, is_active=True)
    return _limited_to_fund_groups(request, departments)


def template_departments(request):
    """Departments whose return templates a user may see: as ``return_departments``, inactive
    ones included (their templates are still listed, to be retired or deleted)."""
    return _limited_to_fund_groups(
        request, Department.objects.filter(organisation=request.organisation)
    )


def _limited_to_fund_groups(request, departments):
    visible = visible_fund_code_ids(request)
    if visible is not None:
        departments = departments.filter(fund_codes__in=sorted(visible)).distinct()
    return departments.order_by("name")


def visible_returns(request, queryset=None):
    """The council's returns the user may see: all, or their departments' when limited to
    fund groups."""
    queryset = CashReturn.objects.all() if queryset is None else queryset
    queryset = queryset.filter(organisation=request.organisation)
    visible = visible_fund_code_ids(request)
    if visible is None:
        return queryset
    return queryset.filter(
        Q(department__fund_codes__in=sorted(visible)) | Q(lines__fund_code__in=sorted(visible))
    ).distinct()


def ready_for_banking(organisation) -> tuple[list[TillSession], list[CashReturn]]:
    """Signed-off sessions and authorised returns not on a paying-in slip yet."""
    sessions = (
        TillSession.objects.filter(organisation=organisation, status=SessionStatus.SIGNED_OFF)
        .exclude(slip_items__is_released=False)
        .select_related("till__office", "opened_by")
        .order_by("opened_at", "pk")
    )
    returns = (
        CashReturn.objects.filter(organisation=organisation, status=ReturnStatus.AUTHORISED)
        .exclude(slip_items__is_released=False)
        .select_related("department")
        .order_by("authorised_at", "pk")
    )
    return list(sessions), list(returns)


def slip_of(obj):
    """The paying-in slip a session or return is on (not a cancelled one), if any."""
    item = obj.slip_items.filter(is_released=False).select_related("slip").first()
    return item.slip if item else None
