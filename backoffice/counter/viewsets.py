"""The "Counter" menu: till sessions, cash returns, return templates, offices and tills."""

from functools import cache

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn, StatusTagColumn, UserColumn
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.base import ViewSetGroup

from backoffice.funds.models import Department
from backoffice.ledger.viewsets import ServiceWrittenViewSet
from backoffice.money import format_pence
from backoffice.tenancy.viewsets import TenantModelViewSet

from . import selectors
from .models import (
    CashReturn,
    Office,
    ReturnStatus,
    ReturnTemplate,
    SessionStatus,
    Till,
    TillSession,
)
from .views import (
    CashReturnIndexView,
    CashReturnPageView,
    CloseSessionView,
    CounterReceiptEmailView,
    CounterReceiptView,
    DraftSaveView,
    OpenSessionView,
    PhonePaymentView,
    ReturnDecisionView,
    ReturnEditView,
    SignOffView,
    StartReturnView,
    TillSessionIndexView,
    TillSessionPageView,
)


def _council_rows(model, **filters):
    def queryset(request):
        return model.objects.filter(organisation=request.organisation, **filters)

    return queryset


def _pounds(field_name):
    def accessor(instance):
        value = getattr(instance, field_name)
        return "—" if value is None else format_pence(value)

    return accessor


# Till sessions -------------------------------------------------------------------------


class TillSessionFilterSet(WagtailFilterSet):
    status = ChoiceFilter(choices=SessionStatus.choices)
    till = ModelChoiceFilter(queryset=_council_rows(Till))
    office = ModelChoiceFilter(field_name="till__office", queryset=_council_rows(Office))
    opened = DateFromToRangeFilter(
        field_name="opened_at", label=_("Opened between"), widget=DateRangePickerWidget
    )

    class Meta:
        model = TillSession
        fields = ["status", "till", "office", "opened"]


class TillSessionViewSet(ServiceWrittenViewSet):
    model = TillSession
    icon = "form"
    menu_label = _("Till sessions")
    add_to_admin_menu = False
    index_view_class = TillSessionIndexView
    inspect_view_class = TillSessionPageView
    filterset_class = TillSessionFilterSet
    list_per_page = 50
    list_display = [
        "__str__",
        Column("office", label=_("Office"), accessor="till.office"),
        UserColumn("opened_by", label=_("Cashier")),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda session: session.status == SessionStatus.OPEN,
        ),
        Column("expected", label=_("Expected"), accessor=_pounds("expected_pence")),
        Column("counted", label=_("Counted"), accessor=_pounds("counted_pence")),
        Column("variance", label=_("Variance"), accessor=_pounds("variance_pence")),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(open_url_name=self.get_url_name("open"), **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            close_url_name=self.get_url_name("close"),
            sign_off_url_name=self.get_url_name("sign_off"),
            draft_url_name=self.get_url_name("draft"),
            receipt_url_name=self.get_url_name("receipt"),
            receipt_email_url_name=self.get_url_name("receipt_email"),
            phone_url_name=self.get_url_name("phone"),
            **kwargs,
        )

    @property
    def open_view(self):
        return self.construct_view(OpenSessionView)

    @property
    def draft_view(self):
        return self.construct_view(DraftSaveView)

    @property
    def close_view(self):
        return self.construct_view(CloseSessionView)

    @property
    def sign_off_view(self):
        return self.construct_view(SignOffView)

    @property
    def receipt_view(self):
        return self.construct_view(
            CounterReceiptView, session_url_name=self.get_url_name("inspect")
        )

    @property
    def receipt_email_view(self):
        return self.construct_view(
            CounterReceiptEmailView, session_url_name=self.get_url_name("inspect")
        )

    @property
    def phone_view(self):
        return self.construct_view(
            PhonePaymentView,
            session_url_name=self.get_url_name("inspect"),
            phone_url_name=self.get_url_name("phone"),
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("open/", self.open_view, name="open"),
            path("draft/<int:pk>/", self.draft_view, name="draft"),
            path("close/<int:pk>/", self.close_view, name="close"),
            path("sign-off/<int:pk>/", self.sign_off_view, name="sign_off"),
            path("receipt/<int:pk>/", self.receipt_view, name="receipt"),
            path("receipt/<int:pk>/email/", self.receipt_email_view, name="receipt_email"),
            path("phone/<int:pk>/", self.phone_view, name="phone"),
        ]


# Cash returns --------------------------------------------------------------------------


class CashReturnScopedMixin:
    """Returns outside a user's fund groups are hidden from them (404, as absent): the same
    rule as payments (``backoffice.search.scoping``)."""

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if queryset.model is CashReturn:
            queryset = selectors.visible_returns(self.request, queryset)
        return queryset

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if isinstance(obj, CashReturn) and not (
            selectors.visible_returns(self.request).filter(pk=obj.pk).exists()
        ):
            raise Http404
        return obj


@cache
def return_scoped(view_class):
    return type(f"ReturnScoped{view_class.__name__}", (CashReturnScopedMixin, view_class), {})


class CashReturnFilterSet(WagtailFilterSet):
    status = ChoiceFilter(choices=ReturnStatus.choices)
    department = ModelChoiceFilter(queryset=_council_rows(Department))
    created = DateFromToRangeFilter(
        field_name="created_at", label=_("Started between"), widget=DateRangePickerWidget
    )

    class Meta:
        model = CashReturn
        fields = ["status", "department", "created"]


class CashReturnViewSet(ServiceWrittenViewSet):
    model = CashReturn
    icon = "clipboard-list"
    menu_label = _("Cash returns")
    add_to_admin_menu = False
    index_view_class = CashReturnIndexView
    inspect_view_class = CashReturnPageView
    filterset_class = CashReturnFilterSet
    list_per_page = 50
    list_display = [
        "__str__",
        Column("department", label=_("Department"), accessor="department"),
        Column("period", label=_("Period")),
        DateColumn("created_at", label=_("Started"), sort_key="created_at"),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda cash_return: cash_return.status == ReturnStatus.SUBMITTED,
        ),
        Column("total", label=_("Total"), accessor="total_display"),
        UserColumn("created_by", label=_("Started by")),
    ]

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(return_scoped(view_class), **kwargs)

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(start_url_name=self.get_url_name("start"), **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            edit_url_name=self.get_url_name("fill_in"),
            decide_url_name=self.get_url_name("decide"),
            **kwargs,
        )

    @property
    def start_view(self):
        return self.construct_view(StartReturnView, edit_url_name=self.get_url_name("fill_in"))

    @property
    def fill_in_view(self):
        return self.construct_view(ReturnEditView)

    @property
    def decide_view(self):
        return self.construct_view(ReturnDecisionView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("start/", self.start_view, name="start"),
            path("fill-in/<int:pk>/", self.fill_in_view, name="fill_in"),
            path("<int:pk>/<str:action>/", self.decide_view, name="decide"),
        ]


class ReturnTemplateInspectView(InspectView):
    any_permission_required = ["view", "change"]
    fields = ["department", "name", "is_active", "lines"]

    def get_lines_display_value(self):
        return (
            "; ".join(
                " ".join(
                    part
                    for part in (line.fund_code.code, line.account_reference, line.narrative)
                    if part
                )
                for line in self.object.lines.select_related("fund_code")
            )
            or "—"
        )

    def get_field_label(self, field_name, field):
        if field_name == "lines":
            return _("Lines")
        return super().get_field_label(field_name, field)


class TemplateScopedMixin:
    """Templates of departments outside a user's fund groups are hidden (404, as absent)."""

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if queryset.model is ReturnTemplate:
            queryset = queryset.filter(department__in=selectors.template_departments(self.request))
        return queryset

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if (
            isinstance(obj, ReturnTemplate)
            and not selectors.template_departments(self.request)
            .filter(pk=obj.department_id)
            .exists()
        ):
            raise Http404
        return obj


@cache
def template_scoped(view_class):
    return type(f"TemplateScoped{view_class.__name__}", (TemplateScopedMixin, view_class), {})


class ReturnTemplateViewSet(TenantModelViewSet):
    """A department's templates, saved from a return's "Save as template"; renamed, retired
    or deleted here."""

    model = ReturnTemplate
    icon = "copy"
    menu_label = _("Return templates")
    add_to_admin_menu = False
    inspect_view_enabled = True
    inspect_view_class = ReturnTemplateInspectView
    copy_view_enabled = False
    list_filter = ["is_active"]
    list_display = ["name", "department", BooleanColumn("is_active", label=_("In use"))]
    panels = [FieldPanel("name"), FieldPanel("is_active")]

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(template_scoped(view_class), **kwargs)

    def get_common_view_kwargs(self, **kwargs):
        # Templates are made from a return (its "Save as template"), not typed in empty.
        return super().get_common_view_kwargs(**{"add_url_name": None, **kwargs})

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "add"]


# Offices and tills ---------------------------------------------------------------------


class OfficeViewSet(TenantModelViewSet):
    model = Office
    icon = "home"
    menu_label = _("Offices")
    add_to_admin_menu = False
    search_fields = ["code", "name"]
    search_backend_name = None
    list_filter = ["kind", "is_active"]
    list_display = ["name", "code", "kind", BooleanColumn("is_active", label=_("Active"))]
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("code")]),
        FieldPanel("kind"),
        FieldPanel("address"),
        FieldPanel("variance_fund_code"),
        FieldPanel("is_active"),
    ]


class TillFilterSet(WagtailFilterSet):
    office = ModelChoiceFilter(queryset=_council_rows(Office))

    class Meta:
        model = Till
        fields = ["office", "is_active"]


class TillViewSet(TenantModelViewSet):
    model = Till
    icon = "table"
    menu_label = _("Tills")
    add_to_admin_menu = False
    search_fields = ["code", "name", "terminal_id"]
    search_backend_name = None
    filterset_class = TillFilterSet
    list_display = [
        "name",
        "office",
        "code",
        "terminal_id",
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [
        FieldPanel("office"),
        FieldRowPanel([FieldPanel("name"), FieldPanel("code")]),
        FieldPanel("terminal_id"),
        FieldPanel("is_active"),
    ]


class CounterViewSetGroup(ViewSetGroup):
    menu_label = _("Counter")
    menu_icon = "form"
    menu_order = 150
    items = (
        TillSessionViewSet("counter_tillsession", url_prefix="counter/sessions"),
        CashReturnViewSet("counter_cashreturn", url_prefix="counter/returns"),
        ReturnTemplateViewSet("counter_returntemplate", url_prefix="counter/return-templates"),
        OfficeViewSet("counter_office", url_prefix="counter/offices"),
        TillViewSet("counter_till", url_prefix="counter/tills"),
    )
