"""Receipt screens: issuing a payment's receipt, and previewing a template.

Reads here, writes only through ``services``. The payment views are routed by
the payments viewset (``backoffice/payments/viewsets.py``), so they share its
permission policy (viewing a payment is enough to re-issue its receipt) and
its tenancy (another council's payment is not found).
"""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from backoffice.payments.models import Payment

from . import rendering, services
from .forms import ReceiptEmailForm
from .models import ReceiptTemplate


class PaymentReceiptMixin(BaseObjectMixin, PermissionCheckedMixin):
    model = Payment
    permission_required = "view"
    inspect_url_name = None

    @cached_property
    def payment_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])


class ReceiptDownloadView(PaymentReceiptMixin, View):
    """POST: the payment's receipt as a PDF download, recorded as an issue (a copy after the
    first). A POST, not a link, because each download is recorded."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        """Issue the receipt and send it back as an attachment."""
        try:
            pdf = services.receipt_pdf(self.object, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.payment_url)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{services.receipt_filename(self.object)}"'
        )
        return response


class ReceiptEmailView(PaymentReceiptMixin, WagtailAdminTemplateMixin, FormView):
    """Email the payment's receipt to an address staff give (the payer's, to start with)."""

    index_url_name = None
    template_name = "receipts/email_receipt.html"
    header_icon = "mail"
    form_class = ReceiptEmailForm

    def get(self, request, *args, **kwargs):
        """Refuse at once for a payment with no receipt, rather than after the form."""
        try:
            services.check_has_receipt(self.object)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.payment_url)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return _("Email receipt")

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(self.model._meta.verbose_name_plural),
            },
            {"url": self.payment_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def get_initial(self):
        return {"to_email": self.object.payer_email}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            payment=self.object,
            is_copy=self.object.receipt_issues.exists(),
            action_url=self.request.path,
            submit_button_label=_("Send receipt"),
            submit_button_active_label=_("Sending…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            issue = services.receipt_email(
                self.object, form.cleaned_data["to_email"], user=self.request.user
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        kind = _("A copy of the receipt") if issue.is_copy else _("The receipt")
        messages.success(
            self.request,
            _("%(kind)s %(number)s was emailed to %(email)s.")
            % {"kind": kind, "number": self.object.receipt_number, "email": issue.to_email},
        )
        return redirect(self.payment_url)


class ReceiptTemplatePreviewView(BaseObjectMixin, PermissionCheckedMixin, View):
    """The template as a PDF receipt for a made-up payment: nothing is recorded or sent."""

    permission_required = "view"

    def get(self, request, *args, **kwargs):
        """Show the saved template, inline in the browser."""
        return _preview_response(rendering.TemplateLook.of(self.object), self.object.organisation)


class BuiltInReceiptPreviewView(PermissionCheckedMixin, View):
    """The built-in receipt (used while the council has no default template) for a made-up
    payment to the council."""

    # The permission policy is the model's: without a model there would be none, and the
    # page would be open to every member of staff.
    model = ReceiptTemplate
    permission_required = "view"

    def get(self, request, *args, **kwargs):
        """Show it inline in the browser."""
        return _preview_response(rendering.BUILT_IN, request.organisation)


def _preview_response(look, organisation) -> HttpResponse:
    content = rendering.sample_content(organisation)
    pdf = rendering.render_pdf(rendering.render_html(content, look), look)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="receipt-preview.pdf"'
    return response
