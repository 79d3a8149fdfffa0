"""The finance administrator's screens for fund configuration."""

from django import forms
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters import BooleanFilter, ChoiceFilter, ModelChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views.generic import EditView, IndexView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets import Button, HeaderButton

from backoffice.money import format_pence
from backoffice.tenancy.viewsets import TenantModelViewSet

from . import services
from .forms import FundCodeForm, VatRateForm
from .models import (
    Channel,
    Department,
    FundCode,
    FundGroup,
    Pricing,
    ReferenceRule,
    Service,
    VatRate,
)
from .resources import FundCodeResource, ServiceResource
from .views import SpreadsheetExportView, SpreadsheetImportView, TryReferenceView


def _council_rows(model):
    def queryset(request):
        return model.objects.filter(organisation=request.organisation)

    return queryset


def _pounds(field_name):
    def accessor(instance):
        value = getattr(instance, field_name)
        return "—" if value is None else format_pence(value)

    return accessor


# Spreadsheet import and export ------------------------------------------------


class SpreadsheetIndexView(IndexView):
    import_url_name = None
    export_url_name = None

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        policy = self.permission_policy
        if policy.user_has_permission(self.request.user, "add") and policy.user_has_permission(
            self.request.user, "change"
        ):
            buttons.append(
                Button(
                    _("Import from spreadsheet"),
                    url=reverse(self.import_url_name),
                    icon_name="upload",
                    priority=30,
                )
            )
        export_url = reverse(self.export_url_name)
        buttons.append(
            Button(
                _("Export as CSV"),
                url=f"{export_url}?format=csv",
                icon_name="download",
                priority=40,
            )
        )
        buttons.append(
            Button(
                _("Export as XLSX"),
                url=f"{export_url}?format=xlsx",
                icon_name="download",
                priority=41,
            )
        )
        return buttons


class SpreadsheetViewSet(TenantModelViewSet):
    """A council's rows that finance can also keep in a spreadsheet."""

    index_view_class = SpreadsheetIndexView
    importer = None
    resource_class = None

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            import_url_name=self.get_url_name("import"),
            export_url_name=self.get_url_name("export"),
            **kwargs,
        )

    @property
    def import_view(self):
        return self.construct_view(
            SpreadsheetImportView,
            importer=self.importer,
            index_url_name=self.get_url_name("index"),
            header_icon=self.icon,
        )

    @property
    def export_view(self):
        return self.construct_view(SpreadsheetExportView, resource_class=self.resource_class)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", self.import_view, name="import"),
            path("export/", self.export_view, name="export"),
        ]


# Fund codes -------------------------------------------------------------------


class FundCodeFilterSet(WagtailFilterSet):
    department = ModelChoiceFilter(queryset=_council_rows(Department))
    group = ModelChoiceFilter(
        field_name="groups", label=_("Fund group"), queryset=_council_rows(FundGroup)
    )
    channel = ChoiceFilter(
        label=_("Accepts channel"), choices=Channel.choices, method="filter_channel"
    )
    is_active = BooleanFilter(label=_("Active"))
    is_suspense = BooleanFilter(label=_("Suspense fund"))

    class Meta:
        model = FundCode
        fields = ["department", "group", "channel", "is_active", "is_suspense"]

    def filter_channel(self, queryset, name, value):
        return queryset.accepting(value)


# Every screen here has an inspect page: those who may only read the configuration (income
# officers, approvers, auditors) cannot open the edit form, and would otherwise see a list
# whose rows lead nowhere.


class FundCodeViewSet(SpreadsheetViewSet):
    model = FundCode
    icon = "tag"
    menu_label = _("Fund codes")
    add_to_admin_menu = False
    importer = staticmethod(services.fund_codes_import)
    resource_class = FundCodeResource
    base_form_class = FundCodeForm
    filterset_class = FundCodeFilterSet
    search_fields = ["code", "name", "public_name", "gl_account_code", "cost_centre"]
    search_backend_name = None
    inspect_view_enabled = True
    list_display = [
        "code",
        "name",
        "department",
        "default_vat_rate",
        "reference_rule",
        BooleanColumn("is_active", label=_("Active")),
        BooleanColumn("is_suspense", label=_("Suspense")),
    ]
    panels = [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("code"), FieldPanel("name")]),
                FieldPanel("public_name"),
                FieldPanel("description"),
                FieldPanel("department"),
                FieldRowPanel([FieldPanel("is_active"), FieldPanel("is_suspense")]),
            ],
            heading=_("Fund"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("gl_account_code"), FieldPanel("cost_centre")]),
                FieldRowPanel([FieldPanel("default_vat_rate"), FieldPanel("vat_overridable")]),
            ],
            heading=_("Ledger and VAT"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("reference_rule"),
                FieldPanel("reference_must_exist"),
            ],
            heading=_("References"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("allowed_channels"),
                FieldRowPanel(
                    [FieldPanel("minimum_amount_pence"), FieldPanel("maximum_amount_pence")]
                ),
                FieldPanel("overpayment_allowed"),
                FieldPanel("collect_address"),
                FieldPanel("payer_message"),
            ],
            heading=_("Taking payments"),
        ),
    ]


# Services ----------------------------------------------------------------------


class ServiceFilterSet(WagtailFilterSet):
    fund_code = ModelChoiceFilter(queryset=_council_rows(FundCode))
    pricing = ChoiceFilter(choices=Pricing.choices)
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = Service
        fields = ["fund_code", "pricing", "is_active"]


class ServiceViewSet(SpreadsheetViewSet):
    model = Service
    icon = "list-ul"
    add_to_admin_menu = False
    inspect_view_enabled = True
    importer = staticmethod(services.services_import)
    resource_class = ServiceResource
    filterset_class = ServiceFilterSet
    search_fields = ["name", "slug", "description"]
    search_backend_name = None
    list_display = [
        "name",
        "fund_code",
        "pricing",
        Column("price_pence", label=_("Price"), accessor=_pounds("price_pence")),
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("slug")]),
        FieldPanel("fund_code"),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("pricing"), FieldPanel("price_pence")]),
        FieldPanel("vat_rate"),
        FieldPanel("is_active"),
    ]


# Reference rules ----------------------------------------------------------------


class ReferenceRuleIndexView(IndexView):
    try_url_name = None

    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            Button(
                _("Try a reference"),
                url=reverse(self.try_url_name, args=[instance.pk]),
                icon_name="tick",
                priority=5,
            ),
        ]


class ReferenceRuleEditView(EditView):
    try_url_name = None

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Try a reference"),
                url=reverse(self.try_url_name, args=[self.object.pk]),
                icon_name="tick",
            ),
        ]


class ReferenceRuleViewSet(TenantModelViewSet):
    model = ReferenceRule
    icon = "tick-inverse"
    add_to_admin_menu = False
    inspect_view_enabled = True
    index_view_class = ReferenceRuleIndexView
    edit_view_class = ReferenceRuleEditView
    search_fields = ["name", "description", "input_mask"]
    search_backend_name = None
    list_filter = ["check_digit_algorithm", "character_set"]
    list_display = [
        "name",
        "input_mask",
        "check_digit_algorithm",
        "example",
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("example"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("strip_separators"), FieldPanel("upper_case")]),
                FieldRowPanel([FieldPanel("min_length"), FieldPanel("max_length")]),
                FieldPanel("character_set"),
                FieldPanel("input_mask"),
                FieldPanel("pattern"),
                FieldPanel("pattern_message"),
            ],
            heading=_("Shape of a reference"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("check_digit_algorithm"),
                FieldPanel("weights"),
                FieldRowPanel([FieldPanel("modulus"), FieldPanel("subtract_from_modulus")]),
                FieldPanel("result_substitutions"),
                FieldPanel("prefix_substitutions"),
            ],
            heading=_("Check digit"),
        ),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(try_url_name=self.get_url_name("try"), **kwargs)

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(try_url_name=self.get_url_name("try"), **kwargs)

    @property
    def try_view(self):
        return self.construct_view(
            TryReferenceView,
            index_url_name=self.get_url_name("index"),
            edit_url_name=self.get_url_name("edit"),
        )

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("try/<str:pk>/", self.try_view, name="try")]


# VAT rates, departments and fund groups -------------------------------------------


class VatRateViewSet(TenantModelViewSet):
    model = VatRate
    icon = "percent"
    menu_label = _("VAT rates")
    add_to_admin_menu = False
    inspect_view_enabled = True
    base_form_class = VatRateForm
    list_filter = ["category", "is_active"]
    list_display = [
        "code",
        "name",
        "category",
        Column("percentage_today", label=_("Rate today"), accessor="percentage_today_display"),
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [
        FieldRowPanel([FieldPanel("code"), FieldPanel("name")]),
        FieldPanel("category"),
        FieldPanel("is_active"),
        InlinePanel("periods", heading=_("Percentages over time"), label=_("Percentage")),
    ]


class DepartmentViewSet(TenantModelViewSet):
    model = Department
    icon = "group"
    add_to_admin_menu = False
    inspect_view_enabled = True
    search_fields = ["code", "name"]
    search_backend_name = None
    list_display = [
        "name",
        "code",
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [FieldPanel("code"), FieldPanel("name"), FieldPanel("is_active")]


class FundGroupViewSet(TenantModelViewSet):
    model = FundGroup
    icon = "folder-open-inverse"
    add_to_admin_menu = False
    inspect_view_enabled = True
    search_fields = ["name", "description"]
    search_backend_name = None
    list_display = [
        "name",
        "description",
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("fund_codes", widget=forms.CheckboxSelectMultiple),
    ]


class FundsViewSetGroup(ViewSetGroup):
    menu_label = _("Funds")
    menu_icon = "tag"
    menu_order = 200
    items = (
        FundCodeViewSet("funds_fundcode", url_prefix="funds/fund-codes"),
        ServiceViewSet("funds_service", url_prefix="funds/services"),
        FundGroupViewSet("funds_fundgroup", url_prefix="funds/fund-groups"),
        ReferenceRuleViewSet("funds_referencerule", url_prefix="funds/reference-rules"),
        VatRateViewSet("funds_vatrate", url_prefix="funds/vat-rates"),
        DepartmentViewSet("funds_department", url_prefix="funds/departments"),
    )
