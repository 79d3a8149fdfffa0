"""Admin screens about the council itself, and Wagtail's that would show every council's rows."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.reports.audit_logging import LogEntriesView

from .models import Organisation
from .services import COUNCIL_SETTINGS_FIELDS, council_settings_save


def superusers_only(view):
    """Wagtail's site history lists the changes of every council; council staff see
    each row's own History instead, which the council screens keep to their council."""

    @require_admin_access
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


site_history = superusers_only(LogEntriesView.as_view())
site_history_results = superusers_only(LogEntriesView.as_view(results_only=True))


class CouncilSettingsForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = COUNCIL_SETTINGS_FIELDS


class CouncilSettingsView(WagtailAdminTemplateMixin, FormView):
    """The council's own details, receipt prefix and journal limit, for its finance team."""

    template_name = "tenancy/council_settings.html"
    form_class = CouncilSettingsForm
    header_icon = "home"

    def dispatch(self, request, *args, **kwargs):
        if request.organisation is None or not request.user.has_perm("tenancy.change_own_council"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Council settings")

    def get_page_subtitle(self):
        return str(self.request.organisation)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.request.organisation}

    def form_valid(self, form):
        council_settings_save(
            organisation=self.request.organisation,
            user=self.request.user,
            **{name: form.cleaned_data[name] for name in COUNCIL_SETTINGS_FIELDS},
        )
        messages.success(self.request, _("The council's settings are saved."))
        return redirect("tenancy_council_settings")


council_settings = require_admin_access(CouncilSettingsView.as_view())
