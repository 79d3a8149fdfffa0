"""The "Transactions" menu: finding payments, their pages, refunds and journals."""

from functools import cache

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import DateFromToRangeFilter, ModelChoiceFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.base import ViewSetGroup

from backoffice.funds.models import FundCode
from backoffice.ledger.views import JournalRequestView
from backoffice.ledger.viewsets import JournalViewSet, ServiceWrittenViewSet
from backoffice.money import format_pence
from backoffice.receipts.views import ReceiptDownloadView, ReceiptEmailView
from backoffice.search.scoping import payment_is_visible, visible_payments

from .models import Payment, PaymentLine, PaymentStatus
from .views import PaymentInspectView, PaymentRefundView


def _council_fund_codes(request):
    return FundCode.objects.filter(organisation=request.organisation).order_by("code")


class FundGroupScopedViewMixin:
    """Payments of other fund groups are hidden from those limited to theirs (404, as absent).

    Who is limited, and to what, is ``backoffice.search.scoping``: the same rule
    as the transaction search.
    """

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if queryset.model is Payment:
            queryset = visible_payments(self.request, queryset)
        return queryset

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        payment = obj.payment if isinstance(obj, PaymentLine) else obj
        if isinstance(payment, Payment) and not payment_is_visible(self.request, payment):
            raise Http404
        return obj


@cache
def fund_group_scoped(view_class):
    """The same view, closed to payments outside the user's fund groups."""
    return type(f"FundGroupScoped{view_class.__name__}", (FundGroupScopedViewMixin, view_class), {})


class PaymentFilterSet(WagtailFilterSet):
    created = DateFromToRangeFilter(
        field_name="created_at", label=_("Created between"), widget=DateRangePickerWidget
    )
    fund_code = ModelChoiceFilter(
        field_name="lines__fund_code",
        label=_("Fund code"),
        queryset=_council_fund_codes,
        # A payment with two lines on the fund would otherwise be listed twice.
        distinct=True,
    )

    class Meta:
        model = Payment
        # Generated from the model's choices, so Wagtail gives them its radio buttons.
        fields = ["status", "channel", "method"]


class PaymentIndexView(IndexView):
    any_permission_required = ["view"]

    def search_queryset(self, queryset):
        # Searching account references joins the lines: one row per payment, however many match.
        queryset = super().search_queryset(queryset)
        return queryset.distinct() if self.is_searching else queryset


class PaymentViewSet(ServiceWrittenViewSet):
    model = Payment
    icon = "doc-full"
    menu_label = _("Payments")
    add_to_admin_menu = False
    index_view_class = PaymentIndexView
    inspect_view_class = PaymentInspectView
    filterset_class = PaymentFilterSet
    search_fields = [
        "receipt_number",
        "payer_name",
        "payer_email",
        "provider_reference",
        "postcode",
        "lines__account_reference",
    ]
    search_backend_name = None
    list_per_page = 50
    list_display = [
        # A payment not taken has no receipt number: it shows as "Payment 12 (failed)".
        TitleColumn(
            "receipt_number",
            label=_("Receipt number"),
            accessor=str,
            url_name="payments_payment:inspect",
            sort_key="receipt_number",
        ),
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
        Column("payer_name", label=_("Payer"), sort_key="payer_name"),
        Column("channel", label=_("Channel"), accessor="get_channel_display"),
        Column("method", label=_("Method"), accessor="get_method_display"),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda payment: payment.status == PaymentStatus.SUCCESS,
        ),
        Column(
            "total_pence",
            label=_("Total"),
            accessor=lambda payment: format_pence(payment.total_pence),
            sort_key="total_pence",
        ),
        Column("provider_reference", label=_("Provider reference")),
    ]

    def construct_view(self, view_class, **kwargs):
        # Every view of a payment (and of its lines), including those added below.
        return super().construct_view(fund_group_scoped(view_class), **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            refund_url_name=self.get_url_name("refund"),
            move_line_url_name=self.get_url_name("move_line"),
            journal_url_name="ledger_journal:inspect",
            receipt_download_url_name=self.get_url_name("receipt_download"),
            receipt_email_url_name=self.get_url_name("receipt_email"),
            **kwargs,
        )

    @property
    def receipt_download_view(self):
        return self.construct_view(
            ReceiptDownloadView, inspect_url_name=self.get_url_name("inspect")
        )

    @property
    def receipt_email_view(self):
        return self.construct_view(
            ReceiptEmailView,
            inspect_url_name=self.get_url_name("inspect"),
            index_url_name=self.get_url_name("index"),
        )

    @property
    def refund_view(self):
        return self.construct_view(PaymentRefundView)

    @property
    def move_line_view(self):
        # The object is one of the payment's lines; the page sits among the payment's pages.
        return self.construct_view(JournalRequestView, model=PaymentLine)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("refund/<int:pk>/", self.refund_view, name="refund"),
            path("move-line/<int:pk>/", self.move_line_view, name="move_line"),
            path("receipt/<int:pk>/", self.receipt_download_view, name="receipt_download"),
            path("receipt/<int:pk>/email/", self.receipt_email_view, name="receipt_email"),
        ]


class TransactionsViewSetGroup(ViewSetGroup):
    menu_label = _("Transactions")
    menu_icon = "doc-full-inverse"
    menu_order = 100
    items = (
        PaymentViewSet("payments_payment", url_prefix="transactions/payments"),
        JournalViewSet("ledger_journal", url_prefix="transactions/journals"),
    )
