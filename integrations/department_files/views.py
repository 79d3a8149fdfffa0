"""Admin screens: the departmental integrations of a council, and uploading one's references."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from backoffice.accounts.roles import FINANCE_ADMINISTRATOR
from plugins.models import Integration

from .forms import KnownReferencesUploadForm
from .plugin import NAME
from .selectors import known_reference_counts
from .services import KnownReferencesFileError, known_references_replace

PERMISSION = "plugins.manage_integrations"


def may_manage(user) -> bool:
    """Whoever may configure the council's integrations: the permission, or the finance team."""
    return user.has_perm(PERMISSION) or user.groups.filter(name=FINANCE_ADMINISTRATOR).exists()


class DepartmentFilesMixin(WagtailAdminTemplateMixin):
    header_icon = "doc-full"

    def dispatch(self, request, *args, **kwargs):
        # Permission first, so that a refused user learns nothing about which ids exist.
        if request.organisation is None or not may_manage(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def integrations(self):
        return Integration.objects.for_organisation(self.request.organisation).filter(plugin=NAME)


class IntegrationListView(DepartmentFilesMixin, TemplateView):
    """The council's departmental files integrations, each with its references per fund."""

    template_name = "department_files/index.html"

    def get_page_title(self):
        return _("Known references")

    def get_context_data(self, **kwargs):
        rows = [
            {"integration": integration, "funds": known_reference_counts(integration)}
            for integration in self.integrations().order_by("title")
        ]
        return super().get_context_data(rows=rows, **kwargs)


class KnownReferencesView(DepartmentFilesMixin, FormView):
    """How many references one integration knows per fund, and the upload that replaces them."""

    template_name = "department_files/references.html"
    form_class = KnownReferencesUploadForm

    def get_integration(self) -> Integration:
        # Another council's integration, or another plugin's, is simply not found.
        return get_object_or_404(self.integrations(), pk=self.kwargs["pk"])

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.integration = None

    def get(self, request, *args, **kwargs):
        self.integration = self.get_integration()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.integration = self.get_integration()
        return super().post(request, *args, **kwargs)

    def get_page_title(self):
        return _("Known references")

    def get_page_subtitle(self):
        return str(self.integration)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("department_files_index"), "label": _("Known references")},
            {"url": "", "label": str(self.integration)},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            integration=self.integration,
            funds=known_reference_counts(self.integration),
            **kwargs,
        )

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            outcome = known_references_replace(
                integration=self.integration, content=upload.read(), user=self.request.user
            )
        except KnownReferencesFileError as error:
            return self.render_to_response(
                self.get_context_data(
                    form=form, error=error, filename=upload.name, problems=error.problems
                )
            )
        messages.success(
            self.request,
            _(
                "%(filename)s replaced the list: %(total)d references "
                "(%(duplicates)d repeated rows kept once)."
            )
            % {"filename": upload.name, "total": outcome.total, "duplicates": outcome.duplicates},
        )
        return redirect("department_files_references", pk=self.integration.pk)
