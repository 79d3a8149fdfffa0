"""The "Banking" menu: paying-in slips."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, UserColumn
from wagtail.admin.viewsets.base import ViewSetGroup

from backoffice.ledger.viewsets import ServiceWrittenViewSet
from backoffice.money import format_pence

from .models import PayingInSlip, SlipStatus
from .views import BankSlipView, CancelSlipView, PrepareSlipView, SlipIndexView, SlipPageView


class SlipFilterSet(WagtailFilterSet):
    status = ChoiceFilter(choices=SlipStatus.choices)

    class Meta:
        model = PayingInSlip
        fields = ["status"]


class PayingInSlipViewSet(ServiceWrittenViewSet):
    model = PayingInSlip
    icon = "doc-full"
    menu_label = _("Paying-in slips")
    add_to_admin_menu = False
    index_view_class = SlipIndexView
    inspect_view_class = SlipPageView
    filterset_class = SlipFilterSet
    list_per_page = 50
    list_display = [
        "__str__",
        DateColumn("prepared_at", label=_("Prepared"), sort_key="prepared_at"),
        UserColumn("prepared_by", label=_("Prepared by")),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda slip: slip.status == SlipStatus.PREPARED,
        ),
        Column("total", label=_("Total"), accessor=lambda slip: format_pence(slip.total_pence)),
        Column("banked_on", label=_("Banked on")),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            prepare_url_name=self.get_url_name("prepare"), **kwargs
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            bank_url_name=self.get_url_name("bank"),
            cancel_url_name=self.get_url_name("cancel"),
            **kwargs,
        )

    @property
    def prepare_view(self):
        return self.construct_view(PrepareSlipView)

    @property
    def bank_view(self):
        return self.construct_view(BankSlipView)

    @property
    def cancel_view(self):
        return self.construct_view(CancelSlipView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("prepare/", self.prepare_view, name="prepare"),
            path("bank/<int:pk>/", self.bank_view, name="bank"),
            path("cancel/<int:pk>/", self.cancel_view, name="cancel"),
        ]


class BankingViewSetGroup(ViewSetGroup):
    menu_label = _("Banking")
    menu_icon = "doc-full-inverse"
    menu_order = 160
    items = (PayingInSlipViewSet("banking_payinginslip", url_prefix="banking/paying-in-slips"),)
