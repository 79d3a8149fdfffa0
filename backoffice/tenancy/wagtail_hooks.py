from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from .forms import MembershipForm
from .models import Membership, Organisation


class OrganisationViewSet(ModelViewSet):
    """Councils in this deployment: for system administrators."""

    model = Organisation
    icon = "home"
    add_to_admin_menu = False
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


class MembershipViewSet(ModelViewSet):
    """Who is staff of which council: for system administrators."""

    model = Membership
    icon = "user"
    add_to_admin_menu = False
    list_filter = ["organisation", "is_active"]
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
