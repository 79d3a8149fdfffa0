"""Admin views beyond create/edit/delete: spreadsheet import and export, and trying a reference."""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from import_export.tmp_storages import MediaStorage
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .forms import TryReferenceForm
from .services import ImportFileError, read_spreadsheet

UPLOADS_SESSION_KEY = "funds.import_uploads"
_UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}$")


class ImportFileForm(forms.Form):
    import_file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("A .csv (UTF-8) or .xlsx file with a header row, as the export produces."),
    )


class ConfirmImportForm(forms.Form):
    upload = forms.RegexField(regex=_UPLOAD_NAME, widget=forms.HiddenInput)
    filename = forms.CharField(widget=forms.HiddenInput)


class SpreadsheetImportView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Upload, see the dry run row by row, then confirm: the django-import-export way.

    Nothing is saved until the user confirms a dry run that had no problems,
    and the confirmed import is itself all or nothing.
    """

    model = None
    importer = None  # a services function: (organisation, user, dataset, commit) -> ImportOutcome
    index_url_name = None
    template_name = "funds/import.html"
    header_icon = "download"
    permission_required = "add"
    form_class = ImportFileForm

    def dispatch(self, request, *args, **kwargs):
        if not self.user_has_permission("change"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Import %(things)s") % {"things": self.model._meta.verbose_name_plural}

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": self.model._meta.verbose_name_plural.capitalize(),
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def post(self, request, *args, **kwargs):
        if "upload" in request.POST:
            return self.confirm(ConfirmImportForm(request.POST))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["import_file"]
        content = upload.read()
        try:
            dataset = read_spreadsheet(content, upload.name)
        except ImportFileError as error:
            form.add_error("import_file", str(error))
            return self.form_invalid(form)
        outcome = self.run_import(dataset, commit=False)
        context = {"form": form, "outcome": outcome, "filename": upload.name}
        if outcome.ok:
            storage = MediaStorage(read_mode="rb")
            storage.save(content)
            uploads = self.request.session.get(UPLOADS_SESSION_KEY, [])
            self.request.session[UPLOADS_SESSION_KEY] = [*uploads[-9:], storage.name]
            context["confirm_form"] = ConfirmImportForm(
                initial={"upload": storage.name, "filename": upload.name}
            )
        return self.render_to_response(self.get_context_data(**context))

    def confirm(self, confirm_form):
        uploads = self.request.session.get(UPLOADS_SESSION_KEY, [])
        if not confirm_form.is_valid() or confirm_form.cleaned_data["upload"] not in uploads:
            messages.error(self.request, _("That upload has expired: choose the file again."))
            return redirect(self.request.path)
        name = confirm_form.cleaned_data["upload"]
        filename = confirm_form.cleaned_data["filename"]
        storage = MediaStorage(name=name, read_mode="rb")
        try:
            dataset = read_spreadsheet(storage.read(), filename)
        except (ImportFileError, OSError):
            messages.error(self.request, _("That upload has expired: choose the file again."))
            return redirect(self.request.path)
        outcome = self.run_import(dataset, commit=True)
        storage.remove()
        self.request.session[UPLOADS_SESSION_KEY] = [item for item in uploads if item != name]
        if not outcome.committed:
            # The data changed between the dry run and the confirmation.
            return self.render_to_response(
                self.get_context_data(
                    form=self.get_form_class()(), outcome=outcome, filename=filename
                )
            )
        messages.success(
            self.request,
            _(
                "Imported %(filename)s: %(created)d added, %(updated)d changed, "
                "%(unchanged)d unchanged."
            )
            % {
                "filename": filename,
                "created": outcome.created,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
            },
        )
        return redirect(self.index_url_name)

    def run_import(self, dataset, *, commit):
        return self.importer(
            organisation=self.request.organisation,
            user=self.request.user,
            dataset=dataset,
            commit=commit,
        )


class SpreadsheetExportView(PermissionCheckedMixin, View):
    """The council's rows as the import expects them, so an export imports back unchanged."""

    model = None
    resource_class = None
    any_permission_required = ["view", "change"]
    formats = {
        "csv": ("text/csv; charset=utf-8", "csv"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    }

    def get(self, request, *args, **kwargs):
        from import_export.formats.base_formats import CSV, XLSX

        export_format = request.GET.get("format", "csv")
        if export_format not in self.formats:
            export_format = "csv"
        resource = self.resource_class(organisation=request.organisation, user=request.user)
        dataset = resource.export()
        file_format = {"csv": CSV, "xlsx": XLSX}[export_format]()
        content_type, extension = self.formats[export_format]
        response = HttpResponse(file_format.export_data(dataset), content_type=content_type)
        filename = f"{request.organisation.code}-{self.model._meta.model_name}s.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class TryReferenceView(
    BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView
):
    """A box in which finance staff try a reference against a rule before payers meet it."""

    model = None
    index_url_name = None
    edit_url_name = None
    template_name = "funds/try_reference.html"
    header_icon = "tick"
    any_permission_required = ["view", "change"]
    form_class = TryReferenceForm

    def get_page_title(self):
        return _("Try a reference")

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": self.model._meta.verbose_name_plural.capitalize(),
            },
            {"url": reverse(self.edit_url_name, args=[self.object.pk]), "label": str(self.object)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_form_kwargs(self):
        # A GET form, so that a result can be linked to and the browser's back button works.
        return {"data": self.request.GET or None}

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        check = form.is_valid() and self.object.check_reference(form.cleaned_data["reference"])
        return self.render_to_response(
            self.get_context_data(form=form, object=self.object, check=check or None)
        )
