"""Admin views that ask for, approve and reject journals: each hands the work to ``services``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permissions import policy_registry

from backoffice.money import format_pence
from backoffice.payments.models import TAKEN_STATUSES, PaymentLine

from . import services
from .forms import JournalDecisionForm, JournalRequestForm
from .models import Journal, JournalStatus


class JournalRequestView(
    BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView
):
    """Move a payment line's money to another fund: posted at once, or sent for approval."""

    model = PaymentLine
    index_url_name = None  # the payments listing
    inspect_url_name = None  # the payment's page
    template_name = "ledger/journal_request.html"
    header_icon = "arrow-right-full"
    permission_required = "request"
    form_class = JournalRequestForm

    @cached_property
    def permission_policy(self):
        # The object is a payment line, but the right asked for is to request a journal.
        return policy_registry.get_by_type(Journal)

    def get_base_object_queryset(self):
        return PaymentLine.objects.select_related("payment", "fund_code", "intended_fund_code")

    def get(self, request, *args, **kwargs):
        if self.object.payment.status not in TAKEN_STATUSES:
            return self._not_taken()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.object.payment.status not in TAKEN_STATUSES:
            return self._not_taken()
        return super().post(request, *args, **kwargs)

    def _not_taken(self):
        messages.error(
            self.request,
            _("%(payment)s was not taken: there is no money on its lines to move.")
            % {"payment": self.object.payment},
        )
        return redirect(self.payment_url)

    @cached_property
    def payment_url(self):
        return reverse(self.inspect_url_name, args=[self.object.payment_id])

    def get_page_title(self):
        return _("Move to another fund")

    def get_page_subtitle(self):
        return f"{self.object.payment}: {self.object}"

    def get_breadcrumbs_items(self):
        payment = self.object.payment
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(payment._meta.verbose_name_plural),
            },
            {"url": self.payment_url, "label": str(payment)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "payment_line": self.object}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            line=self.object,
            net=format_pence(self.object.net_pence),
            gross=format_pence(self.object.gross_pence),
            threshold=format_pence(self.request.organisation.journal_approval_threshold_pence),
            action_url=self.request.path,
            submit_button_label=_("Move the money"),
            submit_button_active_label=_("Moving…"),
            **kwargs,
        )

    def form_valid(self, form):
        line = self.object
        try:
            journal = services.journal_request(
                organisation=self.request.organisation,
                from_fund_code=line.fund_code,
                to_fund_code=form.cleaned_data["to_fund_code"],
                amount_pence=form.cleaned_data["amount_pence"],
                reason=form.cleaned_data["reason"],
                requested_by=self.request.user,
                payment_line=line,
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        details = {
            "journal": journal.pk,
            "amount": format_pence(journal.amount_pence),
            "from": journal.from_fund_code.code,
            "to": journal.to_fund_code.code,
        }
        if journal.status == JournalStatus.POSTED:
            messages.success(
                self.request,
                _("Journal %(journal)s posted: %(amount)s moved from %(from)s to %(to)s.")
                % details,
            )
        else:
            messages.warning(
                self.request,
                _(
                    "Journal %(journal)s is waiting for approval: %(amount)s from %(from)s "
                    "to %(to)s moves once someone else approves it."
                )
                % details,
            )
        return redirect(self.payment_url)


class JournalDecisionView(
    BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView
):
    """A second person approves a journal waiting for approval, or rejects it with a note."""

    model = Journal
    index_url_name = None
    inspect_url_name = None
    template_name = "ledger/journal_decision.html"
    header_icon = "tick"
    permission_required = "approve"
    form_class = JournalDecisionForm

    def get_base_object_queryset(self):
        return Journal.objects.select_related(
            "from_fund_code", "to_fund_code", "requested_by", "payment_line__payment"
        )

    def get(self, request, *args, **kwargs):
        if self.object.status != JournalStatus.PENDING_APPROVAL:
            return self._already_decided()
        return super().get(request, *args, **kwargs)

    def _already_decided(self):
        messages.info(
            self.request,
            _("%(journal)s has already been %(status)s.")
            % {"journal": self.object, "status": self.object.get_status_display().lower()},
        )
        return redirect(self.journal_url)

    @cached_property
    def journal_url(self):
        return reverse(self.inspect_url_name, args=[self.object.pk])

    def get_page_title(self):
        return _("Approve or reject")

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(Journal._meta.verbose_name_plural),
            },
            {"url": self.journal_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            journal=self.object,
            amount=format_pence(self.object.amount_pence),
            is_requester=self.object.requested_by_id == self.request.user.pk,
            action_url=self.request.path,
            **kwargs,
        )

    def form_valid(self, form):
        journal = self.object
        note = form.cleaned_data["decision_note"]
        try:
            if form.cleaned_data["decision"] == JournalDecisionForm.APPROVE:
                journal = services.journal_approve(
                    journal=journal, approved_by=self.request.user, note=note
                )
                messages.success(
                    self.request,
                    _("%(journal)s approved and posted: %(amount)s moved.")
                    % {"journal": journal, "amount": format_pence(journal.amount_pence)},
                )
            else:
                journal = services.journal_reject(
                    journal=journal, rejected_by=self.request.user, note=note
                )
                messages.success(
                    self.request,
                    _("%(journal)s rejected: nothing was posted.") % {"journal": journal},
                )
        except PermissionDenied as refusal:
            # The service's own words (e.g. no approving one's own journal), not Wagtail's
            # generic "no permission" page: the approver is allowed here, just not for this one.
            messages.error(self.request, str(refusal))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        return redirect(self.journal_url)
