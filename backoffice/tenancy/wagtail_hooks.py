from functools import cache

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import BooleanFilter, ModelChoiceFilter
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import policy_registry

from .forms import MembershipForm
from .models import Membership, Organisation

MANAGING = ("add", "change", "delete")


def manages_councils(user, model) -> bool:
    """A system administrator keeps every council of the deployment and its memberships."""
    return policy_registry.get_by_type(model).user_has_any_permission(user, MANAGING)


class OwnCouncilForReadersMixin:
    """Someone who may only read councils (an auditor) reads their own council's rows: any
    other council's answers 404, as though it did not exist. Those who manage councils
    (system administrators) work across the deployment."""

    council_field = None  # the lookup of the row's council: "pk", or "organisation"

    def reads_own_council_only(self) -> bool:
        return not manages_councils(self.request.user, self.model)

    def _own_council_id(self):
        organisation = self.request.organisation
        return organisation.pk if organisation is not None else None

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        # A history listing's queryset is of log entries, scoped by its object.
        if queryset.model is self.model and self.reads_own_council_only():
            queryset = queryset.filter(**{self.council_field: self._own_council_id()})
        return queryset

    def get_object(self, *args, **kwargs):
        # Permission first (Wagtail finds the object before it checks): someone refused the
        # page is refused it for every id, and learns nothing about which councils exist.
        if not self._may_use_this_view():
            raise PermissionDenied
        obj = super().get_object(*args, **kwargs)
        council_id = obj.pk if self.council_field == "pk" else obj.organisation_id
        if self.reads_own_council_only() and council_id != self._own_council_id():
            raise Http404
        return obj

    def _may_use_this_view(self) -> bool:
        required, any_required = self.permission_required, self.any_permission_required
        return (required is None or self.user_has_permission(required)) and (
            any_required is None or self.user_has_any_permission(any_required)
        )


@cache
def own_council_for_readers(view_class):
    """The same view, kept to the reader's own council."""
    return type(f"OwnCouncil{view_class.__name__}", (OwnCouncilForReadersMixin, view_class), {})


class CouncilsModelViewSet(ModelViewSet):
    council_field = None
    add_to_admin_menu = False
    # Auditors read councils and memberships but may not open the edit form.
    inspect_view_enabled = True

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(
            own_council_for_readers(view_class), council_field=self.council_field, **kwargs
        )


def _councils_seen(request):
    if manages_councils(request.user, Membership):
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=getattr(request.organisation, "pk", None))


class MembershipFilterSet(WagtailFilterSet):
    organisation = ModelChoiceFilter(queryset=_councils_seen)
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = Membership
        fields = ["organisation", "is_active"]


class OrganisationViewSet(CouncilsModelViewSet):
    """Councils in this deployment: kept by system administrators, read by auditors."""

    model = Organisation
    council_field = "pk"
    icon = "home"
    search_fields = ["code", "name", "town", "postcode"]
    search_backend_name = None
    list_display = [
        "name",
        "code",
        "town",
        "vat_registration_number",
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("code")]),
        MultiFieldPanel(
            [
                FieldPanel("address_line_1"),
                FieldPanel("address_line_2"),
                FieldRowPanel([FieldPanel("town"), FieldPanel("postcode")]),
            ],
            heading=_("Address"),
        ),
        FieldPanel("vat_registration_number"),
        FieldRowPanel(
            [FieldPanel("receipt_prefix"), FieldPanel("journal_approval_threshold_pence")]
        ),
        MultiFieldPanel(
            [FieldPanel("email"), FieldPanel("telephone"), FieldPanel("website")],
            heading=_("Contact details"),
        ),
        FieldPanel("is_active"),
    ]


class MembershipViewSet(CouncilsModelViewSet):
    """Who is staff of which council: kept by system administrators, read by auditors."""

    model = Membership
    council_field = "organisation"
    icon = "user"
    filterset_class = MembershipFilterSet
    search_fields = ["user__username", "user__email", "user__last_name"]
    search_backend_name = None
    list_display = [
        "user",
        "organisation",
        BooleanColumn("is_active", label=_("Active")),
    ]
    panels = [
        FieldPanel("user"),
        FieldPanel("organisation"),
        FieldPanel("is_active"),
        # Which payments the person sees (docs/search.md, "Who sees what").
        FieldPanel("fund_groups"),
    ]

    def get_edit_handler(self):
        # The form checks that the fund groups chosen are the membership's council's.
        return ObjectList(self.panels, base_form_class=MembershipForm).bind_to_model(self.model)


class CouncilsViewSetGroup(ViewSetGroup):
    menu_label = _("Councils")
    menu_icon = "home"
    menu_order = 900
    items = (
        OrganisationViewSet("tenancy_organisation", url_prefix="councils"),
        MembershipViewSet("tenancy_membership", url_prefix="councils/memberships"),
    )


@hooks.register("register_admin_viewset")
def register_councils_viewsets():
    return CouncilsViewSetGroup()


class CouncilSettingsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("tenancy.change_own_council")


@hooks.register("register_settings_menu_item")
def register_council_settings_menu_item():
    return CouncilSettingsMenuItem(
        _("Council settings"), reverse("tenancy_council_settings"), icon_name="home", order=10
    )
