"""The "Suspense" menu: the items, the rules, and the ageing report."""

from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets import Button

from backoffice.funds.models import Channel, FundCode
from backoffice.ledger.viewsets import ServiceWrittenViewSet
from backoffice.money import format_pence
from backoffice.tenancy.viewsets import TenantModelViewSet

from .forms import SuspenseRuleActionForm, SuspenseRuleForm
from .models import ItemStatus, SuspenseItem, SuspenseRule
from .selectors import AGE_BUCKETS, age_in_days
from .views import (
    SuspenseAgeingView,
    SuspenseAllocateView,
    SuspenseItemInspectView,
    SuspenseItemRunView,
    SuspenseNoteView,
    SuspenseRuleEditView,
    SuspenseRuleInspectView,
    SuspenseRulePreviewView,
    SuspenseRuleReorderView,
    SuspenseRuleSwitchView,
    SuspenseRunAllView,
    VisibleItemsMixin,
)


def _council_rows(model, **filters):
    def queryset(request):
        return model.objects.filter(organisation=request.organisation, **filters)

    return queryset


def _status(item) -> str:
    if item.open_pence > 0:
        return ItemStatus.OPEN
    return ItemStatus.AWAITING_APPROVAL if item.pending_pence > 0 else ItemStatus.CLEARED


# Items ----------------------------------------------------------------------------------------


class SuspenseItemFilterSet(WagtailFilterSet):
    status = ChoiceFilter(label=_("Status"), choices=ItemStatus.choices, method="filter_status")
    age = ChoiceFilter(
        label=_("Age"),
        choices=[(bucket.key, bucket.label) for bucket in AGE_BUCKETS],
        method="filter_age",
    )
    intended_fund_code = ModelChoiceFilter(
        label=_("Fund the payer meant"), queryset=_council_rows(FundCode)
    )
    channel = ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    received = DateFromToRangeFilter(
        field_name="received_at", label=_("Received between"), widget=DateRangePickerWidget
    )
    allocated_by_rule = ModelChoiceFilter(
        field_name="allocations__rule",
        label=_("Allocated by the rule"),
        queryset=_council_rows(SuspenseRule),
        distinct=True,
    )

    class Meta:
        model = SuspenseItem
        fields = ["status", "age", "intended_fund_code", "channel"]

    def filter_status(self, queryset, name, value):
        return queryset.in_status(value)

    def filter_age(self, queryset, name, value):
        bucket = next(bucket for bucket in AGE_BUCKETS if bucket.key == value)
        oldest, newest = bucket.received_between(timezone.localdate())
        queryset = queryset.filter(received_at__lt=newest)
        return queryset if oldest is None else queryset.filter(received_at__gte=oldest)


class SuspenseItemIndexView(VisibleItemsMixin, IndexView):
    any_permission_required = ["view"]
    run_all_url_name = None
    ageing_url_name = None

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .with_amounts()
            .select_related("intended_fund_code", "payment_line__payment")
        )

    def search_queryset(self, queryset):
        queryset = super().search_queryset(queryset)
        return queryset.distinct() if self.is_searching else queryset

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        buttons.append(
            Button(
                _("Ageing report"), url=reverse(self.ageing_url_name), icon_name="time", priority=10
            )
        )
        if self.user_has_permission("change"):
            buttons.append(
                Button(
                    _("Run the rules on every open item"),
                    url=reverse(self.run_all_url_name),
                    icon_name="cogs",
                    priority=20,
                )
            )
        return buttons


class SuspenseItemViewSet(ServiceWrittenViewSet):
    """Items are written by the payments that bring them and moved by journals: never edited."""

    model = SuspenseItem
    icon = "warning"
    menu_label = _("Items")
    add_to_admin_menu = False
    index_view_class = SuspenseItemIndexView
    inspect_view_class = SuspenseItemInspectView
    filterset_class = SuspenseItemFilterSet
    search_fields = ["reference", "payer_name", "narrative"]
    search_backend_name = None
    list_per_page = 50
    list_display = [
        TitleColumn(
            "reference",
            label=_("Reference given"),
            accessor=lambda item: item.reference or _("(none)"),
            url_name="suspense_item:inspect",
            sort_key="reference",
        ),
        DateColumn("received_at", label=_("Received"), sort_key="received_at"),
        Column("age", label=_("Days waiting"), accessor=age_in_days),
        Column("payer_name", label=_("Payer"), sort_key="payer_name"),
        Column("intended_fund_code", label=_("Meant for"), accessor="intended_fund_code.code"),
        Column(
            "paid_pence",
            label=_("Paid"),
            accessor=lambda item: format_pence(item.paid_pence),
            sort_key="paid_pence",
        ),
        Column(
            "open_pence",
            label=_("To allocate"),
            accessor=lambda item: format_pence(item.open_pence),
        ),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor=lambda item: ItemStatus(_status(item)).label,
            primary=lambda item: _status(item) == ItemStatus.OPEN,
        ),
        Column("channel", label=_("Channel"), accessor="get_channel_display"),
    ]

    def construct_view(self, view_class, **kwargs):
        if not issubclass(view_class, VisibleItemsMixin):
            view_class = type(f"Visible{view_class.__name__}", (VisibleItemsMixin, view_class), {})
        return super().construct_view(view_class, **kwargs)

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            run_all_url_name=self.get_url_name("run_all"),
            ageing_url_name=self.get_url_name("ageing"),
            **kwargs,
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            allocate_url_name=self.get_url_name("allocate"),
            run_url_name=self.get_url_name("run"),
            note_url_name=self.get_url_name("note"),
            **kwargs,
        )

    @property
    def allocate_view(self):
        return self.construct_view(SuspenseAllocateView)

    @property
    def run_view(self):
        return self.construct_view(SuspenseItemRunView)

    @property
    def note_view(self):
        return self.construct_view(SuspenseNoteView)

    @property
    def run_all_view(self):
        return self.construct_view(SuspenseRunAllView)

    @property
    def ageing_view(self):
        return self.construct_view(SuspenseAgeingView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("allocate/<int:pk>/", self.allocate_view, name="allocate"),
            path("run/<int:pk>/", self.run_view, name="run"),
            path("note/<int:pk>/", self.note_view, name="note"),
            path("run-all/", self.run_all_view, name="run_all"),
            path("ageing/", self.ageing_view, name="ageing"),
        ]


# Rules ----------------------------------------------------------------------------------------


class ActionsPanel(InlinePanel):
    """The rule's actions, each offered only its own council's funds."""

    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["form"] = SuspenseRuleActionForm
        return options


class SuspenseRuleIndexView(IndexView):
    preview_url_name = None

    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            Button(
                _("Dry run"),
                url=reverse(self.preview_url_name, args=[instance.pk]),
                icon_name="view",
                priority=5,
            ),
        ]


class SuspenseRuleViewSet(TenantModelViewSet):
    model = SuspenseRule
    icon = "cogs"
    menu_label = _("Rules")
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    base_form_class = SuspenseRuleForm
    index_view_class = SuspenseRuleIndexView
    inspect_view_class = SuspenseRuleInspectView
    edit_view_class = SuspenseRuleEditView
    reorder_view_class = SuspenseRuleReorderView
    search_fields = ["name", "description"]
    search_backend_name = None
    list_display = [
        "name",
        BooleanColumn("is_enabled", label=_("Switched on")),
        Column(
            "enabled_by",
            label=_("Switched on by"),
            accessor=lambda rule: (
                (rule.enabled_by.get_full_name() or rule.enabled_by.get_username())
                if rule.enabled_by
                else "—"
            ),
        ),
        "description",
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        InlinePanel(
            "conditions",
            heading=_("Applies when"),
            label=_("Condition"),
            panels=[
                FieldRowPanel([FieldPanel("group"), FieldPanel("field"), FieldPanel("negate")]),
                FieldRowPanel([FieldPanel("operator"), FieldPanel("value")]),
            ],
        ),
        ActionsPanel(
            "actions",
            heading=_("Does"),
            label=_("Action"),
            panels=[
                FieldPanel("kind"),
                FieldRowPanel([FieldPanel("value"), FieldPanel("replacement")]),
                FieldRowPanel([FieldPanel("length"), FieldPanel("fund_code")]),
            ],
        ),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            preview_url_name=self.get_url_name("preview"), **kwargs
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            preview_url_name=self.get_url_name("preview"), **kwargs
        )

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(preview_url_name=self.get_url_name("preview"), **kwargs)

    @property
    def preview_view(self):
        return self.construct_view(
            SuspenseRulePreviewView, switch_url_name=self.get_url_name("switch")
        )

    @property
    def switch_view(self):
        return self.construct_view(
            SuspenseRuleSwitchView, preview_url_name=self.get_url_name("preview")
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("preview/<int:pk>/", self.preview_view, name="preview"),
            path("switch/<int:pk>/", self.switch_view, name="switch"),
        ]


class SuspenseViewSetGroup(ViewSetGroup):
    menu_label = _("Suspense")
    menu_icon = "warning"
    menu_order = 110
    items = (
        SuspenseItemViewSet("suspense_item", url_prefix="suspense/items"),
        SuspenseRuleViewSet("suspense_rule", url_prefix="suspense/rules"),
    )
