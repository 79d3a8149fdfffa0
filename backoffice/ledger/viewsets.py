"""The journals listing and pages, and the base of every screen over rows only services write."""

from django.contrib.admin.utils import quote
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.tables import Column, DateColumn, UserColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.widgets import Button, HeaderButton
from wagtail.permissions import policy_registry

from backoffice.money import format_pence
from backoffice.tenancy.viewsets import TenantModelViewSet

from .models import Journal, JournalStatus
from .views import JournalDecisionView

# Views a ModelViewSet would offer that would write, or that have nothing to show here.
_UNOFFERED_VIEWS = ("add", "edit", "delete", "copy", "history", "usage")


class InspectURLFinder(ModelAdminURLFinder):
    """Wagtail's "edit this object" links lead to its page, for anyone who may view it."""

    def get_edit_url(self, instance):
        policy = policy_registry.get(instance)
        if self.user and policy and not policy.user_has_permission(self.user, "view"):
            return None
        return self.construct_edit_url(instance)


class ServiceWrittenViewSet(TenantModelViewSet):
    """Rows that only services write (payments, journals): listed and shown, never edited here.

    The add, edit and delete views are not routed at all, so no request to
    this viewset can write a row except through the actions a subclass adds,
    which call services.
    """

    inspect_view_enabled = True
    copy_view_enabled = False
    # Not in Wagtail's reference index: its bookkeeping would add writes to every payment taken.
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        unoffered = {f"{name}_url_name": None for name in _UNOFFERED_VIEWS}
        return super().get_common_view_kwargs(**{**unoffered, **kwargs})

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
        ]

    @property
    def url_finder_class(self):
        return type(
            "_InspectURLFinder",
            (InspectURLFinder,),
            {"edit_url_name": self.get_url_name("inspect")},
        )


def _pounds(field_name):
    def accessor(instance):
        return format_pence(getattr(instance, field_name))

    return accessor


class JournalIndexView(IndexView):
    any_permission_required = ["view"]
    decision_url_name = None

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related(
                "from_fund_code", "to_fund_code", "requested_by", "payment_line__payment"
            )
        )

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if instance.status == JournalStatus.PENDING_APPROVAL and self.user_has_permission(
            "approve"
        ):
            buttons.append(
                Button(
                    _("Approve or reject"),
                    url=reverse(self.decision_url_name, args=[quote(instance.pk)]),
                    icon_name="tick",
                    priority=5,
                )
            )
        return buttons


class JournalInspectView(InspectView):
    any_permission_required = ["view"]
    decision_url_name = None
    payment_url_name = "payments_payment:inspect"
    labels = {
        "status": _("Status"),
        "from_fund_code": _("From fund"),
        "to_fund_code": _("To fund"),
        "amount_pence": _("Amount"),
        "reason": _("Reason"),
        "payment": _("Payment"),
        "requested_by": _("Requested by"),
        "requested_at": _("Requested at"),
        "decided_by": _("Decided by"),
        "decided_at": _("Decided at"),
        "decision_note": _("Decision note"),
        "entry": _("Ledger entry"),
    }

    def get_page_title(self):
        return capfirst(Journal._meta.verbose_name)

    def get_fields(self):
        return list(self.labels)

    def get_field_label(self, field_name, field):
        return self.labels[field_name]

    def get_amount_pence_display_value(self):
        return format_pence(self.object.amount_pence)

    def get_payment_display_value(self):
        line = self.object.payment_line
        if line is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse(self.payment_url_name, args=[line.payment_id]),
            line.payment,
            line,
        )

    def get_decided_by_display_value(self):
        return self.object.decided_by or "—"

    def get_decided_at_display_value(self):
        return self.object.decided_at or "—"

    def get_entry_display_value(self):
        return self.object.entry or "—"

    @cached_property
    def header_buttons(self):
        if self.object.status == JournalStatus.PENDING_APPROVAL and self.user_has_permission(
            "approve"
        ):
            return [
                HeaderButton(
                    _("Approve or reject"),
                    url=reverse(self.decision_url_name, args=[quote(self.object.pk)]),
                    icon_name="tick",
                )
            ]
        return []


class JournalViewSet(ServiceWrittenViewSet):
    model = Journal
    icon = "arrows-up-down"
    menu_label = _("Journals")
    add_to_admin_menu = False
    index_view_class = JournalIndexView
    inspect_view_class = JournalInspectView
    list_filter = ["status"]
    list_display = [
        # As a string, Wagtail makes it the title column: a link, with the row's buttons.
        "__str__",
        DateColumn("requested_at", label=_("Requested"), sort_key="requested_at"),
        Column("amount_pence", label=_("Amount"), accessor=_pounds("amount_pence")),
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        Column("payment", label=_("Payment"), accessor="payment_line.payment"),
        UserColumn("requested_by", label=_("Requested by")),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            decision_url_name=self.get_url_name("decide"), **kwargs
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            decision_url_name=self.get_url_name("decide"), **kwargs
        )

    @property
    def decision_view(self):
        return self.construct_view(JournalDecisionView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("decide/<int:pk>/", self.decision_view, name="decide"),
        ]
