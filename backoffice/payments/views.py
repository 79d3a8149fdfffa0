"""A payment's page, and refunding it: reads here, writes only through ``services``."""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.views.generic import InspectView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import policy_registry

from backoffice.ledger.models import Journal, JournalEntry, Posting
from backoffice.money import format_pence

from . import services
from .forms import RefundForm
from .idempotency import IdempotencyConflict
from .models import TAKEN_STATUSES, Payment, PaymentLine, Refund, RefundStatus


def _pounds(field_name):
    def accessor(instance):
        return format_pence(getattr(instance, field_name))

    return accessor


def _person(user_field, actor_field=None):
    def accessor(instance):
        user = getattr(instance, user_field)
        if user is not None:
            return user.get_full_name() or user.get_username()
        return (getattr(instance, actor_field) if actor_field else "") or "—"

    return accessor


def _debit(posting):
    return format_pence(posting.amount_pence) if posting.amount_pence > 0 else ""


def _credit(posting):
    return format_pence(-posting.amount_pence) if posting.amount_pence < 0 else ""


def ledger_entries(payment, *, lines, refunds, journals):
    """Every entry from the payment, its lines, refunds or journals, and any reversal of them."""
    types = ContentType.objects.get_for_models(Payment, PaymentLine, Refund, Journal)
    sourced = (
        Q(source_type=types[Payment], source_id=payment.pk)
        | Q(source_type=types[PaymentLine], source_id__in=[line.pk for line in lines])
        | Q(source_type=types[Refund], source_id__in=[refund.pk for refund in refunds])
        | Q(source_type=types[Journal], source_id__in=[journal.pk for journal in journals])
    )
    organisation_entries = JournalEntry.objects.filter(organisation_id=payment.organisation_id)
    return (
        organisation_entries.filter(
            sourced | Q(reverses__in=organisation_entries.filter(sourced).values("pk"))
        )
        .select_related("created_by")
        .prefetch_related(Prefetch("postings", queryset=Posting.objects.select_related("account")))
        .order_by("created_at", "pk")
    )


class PaymentInspectView(InspectView):
    """The payment's page: what was paid, where the money went, and everything since."""

    any_permission_required = ["view"]
    template_name = "payments/payment_inspect.html"
    refund_url_name = None
    move_line_url_name = None
    journal_url_name = None
    receipt_download_url_name = None
    receipt_email_url_name = None
    labels = {
        "receipt_number": _("Receipt number"),
        "status": _("Status"),
        "total_pence": _("Total"),
        "refunded_pence": _("Refunded"),
        "refundable_pence": _("Left to refund"),
        "channel": _("Channel"),
        "method": _("Method"),
        "provider": _("Payment provider"),
        "provider_reference": _("Provider reference"),
        "payer_name": _("Payer"),
        "payer_email": _("Payer's email"),
        "address": _("Payer's address"),
        "tax_point": _("Tax point"),
        "created_at": _("Created"),
        "completed_at": _("Completed"),
        "created_by": _("Taken by"),
    }

    def get_page_title(self):
        return capfirst(Payment._meta.verbose_name)

    def get_fields(self):
        return list(self.labels)

    def get_field_label(self, field_name, field):
        return self.labels[field_name]

    def get_total_pence_display_value(self):
        return format_pence(self.object.total_pence)

    def get_refunded_pence_display_value(self):
        return format_pence(self.object.refunded_pence)

    def get_refundable_pence_display_value(self):
        return format_pence(self.object.refundable_pence)

    def get_address_display_value(self):
        payment = self.object
        parts = [payment.address_line_1, payment.address_line_2, payment.town, payment.postcode]
        return ", ".join(part for part in parts if part)

    def get_created_by_display_value(self):
        return _person("created_by")(self.object)

    def user_may(self, policy_model, action):
        return policy_registry.get_by_type(policy_model).user_has_permission(
            self.request.user, action
        )

    @cached_property
    def may_refund(self):
        return self.object.refundable_pence > 0 and self.user_may(Payment, "refund")

    @cached_property
    def may_move_money(self):
        return self.object.status in TAKEN_STATUSES and self.user_may(Journal, "request")

    @cached_property
    def header_buttons(self):
        if not self.may_refund:
            return []
        return [
            HeaderButton(
                _("Refund"),
                url=reverse(self.refund_url_name, args=[quote(self.object.pk)]),
                icon_name="undo",
            )
        ]

    def _move_link(self, line):
        return format_html(
            '<a class="button button-small button-secondary" href="{}">{}</a>',
            reverse(self.move_line_url_name, args=[line.pk]),
            _("Move to another fund"),
        )

    def _journal_link(self, journal):
        if not self.user_may(Journal, "view"):
            return str(journal.pk)
        return format_html(
            '<a href="{}">{}</a>', reverse(self.journal_url_name, args=[journal.pk]), journal.pk
        )

    def lines_table(self, lines):
        columns = [
            Column("fund_code", label=_("Fund"), accessor="fund_code.code"),
            Column("account_reference", label=_("Reference")),
            Column(
                "suspense",
                label=_("Suspense"),
                accessor=lambda line: (
                    _("Meant for %(fund)s: %(reason)s")
                    % {"fund": line.intended_fund_code.code, "reason": line.suspense_reason}
                    if line.in_suspense
                    else ""
                ),
            ),
            Column("net_pence", label=_("Net"), accessor=_pounds("net_pence")),
            Column("vat_pence", label=_("VAT"), accessor=_pounds("vat_pence")),
            Column("gross_pence", label=_("Gross"), accessor=_pounds("gross_pence")),
            Column("refunded_pence", label=_("Refunded"), accessor=_pounds("refunded_pence")),
        ]
        if self.may_move_money:
            columns.append(Column("actions", label="", accessor=self._move_link))
        return Table(columns, lines, caption=_("Lines"))

    def refunds_table(self, refunds):
        return Table(
            [
                Column("requested_at", label=_("Asked for")),
                Column("amount_pence", label=_("Amount"), accessor=_pounds("amount_pence")),
                Column("status", label=_("Status"), accessor="get_status_display"),
                Column("reason", label=_("Reason")),
                Column("requested_by", label=_("By"), accessor=_person("requested_by")),
                Column("completed_at", label=_("Completed")),
                Column("failure_reason", label=_("Why it failed")),
            ],
            refunds,
            caption=_("Refunds"),
        )

    def journals_table(self, journals):
        return Table(
            [
                Column("journal", label=_("Journal"), accessor=self._journal_link),
                Column("requested_at", label=_("Asked for")),
                Column("from_fund_code", label=_("From"), accessor="from_fund_code.code"),
                Column("to_fund_code", label=_("To"), accessor="to_fund_code.code"),
                Column("amount_pence", label=_("Amount"), accessor=_pounds("amount_pence")),
                Column("status", label=_("Status"), accessor="get_status_display"),
                Column("reason", label=_("Reason")),
                Column("requested_by", label=_("Asked by"), accessor=_person("requested_by")),
                Column("decided_by", label=_("Decided by"), accessor=_person("decided_by")),
            ],
            journals,
            caption=_("Journals"),
        )

    def receipt_issues_table(self, issues):
        return Table(
            [
                Column("issued_at", label=_("When")),
                Column(
                    "is_copy",
                    label=_("Original or copy"),
                    accessor=lambda issue: _("Copy") if issue.is_copy else _("Original"),
                ),
                Column("how", label=_("How"), accessor="get_how_display"),
                Column("to_email", label=_("Sent to")),
                Column("issued_by", label=_("By"), accessor=_person("issued_by")),
                Column("template_name", label=_("Template")),
            ],
            issues,
            caption=_("Receipts issued"),
        )

    def receipt_context(self, payment):
        """The receipt section: its actions for a taken payment, and every issue so far."""
        if payment.status not in TAKEN_STATUSES:
            return {"has_receipt": False}
        issues = list(payment.receipt_issues.select_related("issued_by"))
        pk = quote(payment.pk)
        return {
            "has_receipt": True,
            "receipt_download_url": reverse(self.receipt_download_url_name, args=[pk]),
            "receipt_email_url": reverse(self.receipt_email_url_name, args=[pk]),
            "receipt_issues_table": self.receipt_issues_table(issues) if issues else None,
        }

    def history_table(self, changes):
        return Table(
            [
                Column("changed_at", label=_("When")),
                Column(
                    "from_status",
                    label=_("From"),
                    accessor=lambda change: change.get_from_status_display() or _("(new)"),
                ),
                Column("to_status", label=_("To"), accessor="get_to_status_display"),
                Column("changed_by", label=_("Who"), accessor=_person("changed_by", "actor")),
                Column("reason", label=_("Why")),
            ],
            changes,
            caption=_("Status history"),
        )

    def postings_table(self, entry):
        return Table(
            [
                Column("account", label=_("Account"), accessor="account"),
                Column("debit", label=_("Debit"), accessor=_debit),
                Column("credit", label=_("Credit"), accessor=_credit),
            ],
            list(entry.postings.all()),
            caption=entry.description,
        )

    def get_context_data(self, **kwargs):
        payment = self.object
        lines = list(payment.lines.select_related("fund_code", "intended_fund_code"))
        refunds = list(payment.refunds.select_related("requested_by"))
        journals = list(
            Journal.objects.filter(payment_line__payment=payment)
            .select_related("from_fund_code", "to_fund_code", "requested_by", "decided_by")
            .order_by("requested_at", "pk")
        )
        changes = list(payment.status_changes.select_related("changed_by"))
        entries = ledger_entries(payment, lines=lines, refunds=refunds, journals=journals)
        return super().get_context_data(
            lines_table=self.lines_table(lines),
            refunds_table=self.refunds_table(refunds) if refunds else None,
            journals_table=self.journals_table(journals) if journals else None,
            history_table=self.history_table(changes),
            **self.receipt_context(payment),
            entries=[(entry, self.postings_table(entry)) for entry in entries],
            **kwargs,
        )


class PaymentRefundView(
    BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView
):
    """Give all or part of a payment back: the service checks, reserves and asks the provider."""

    model = Payment
    index_url_name = None
    inspect_url_name = None
    template_name = "payments/refund.html"
    header_icon = "undo"
    permission_required = "refund"
    form_class = RefundForm

    @cached_property
    def payment_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])

    def get(self, request, *args, **kwargs):
        # Only the first showing is refused: a resubmitted form must still reach the
        # service, which answers a repeat with the refund already made.
        if self.object.refundable_pence <= 0:
            messages.info(
                request,
                _("There is nothing left of %(payment)s to refund.") % {"payment": self.object},
            )
            return redirect(self.payment_url)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return _("Refund")

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

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "payment": self.object}

    def get_context_data(self, **kwargs):
        payment = self.object
        return super().get_context_data(
            payment=payment,
            total=format_pence(payment.total_pence),
            refunded=format_pence(payment.refunded_pence),
            refundable=format_pence(payment.refundable_pence),
            action_url=self.request.path,
            submit_button_label=_("Refund"),
            submit_button_active_label=_("Refunding…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            refund = services.refund_request(
                payment=self.object,
                amount_pence=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                requested_by=self.request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except IdempotencyConflict:
            # The form was sent back changed after it had already made its refund.
            form.add_error(
                None,
                _(
                    "This form has already been used to make a refund. "
                    "To refund more, start again from the payment's page."
                ),
            )
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        details = {"amount": format_pence(refund.amount_pence), "payment": refund.payment}
        if refund.status == RefundStatus.SUCCEEDED:
            messages.success(self.request, _("%(amount)s of %(payment)s refunded.") % details)
        elif refund.status == RefundStatus.REJECTED:
            messages.error(
                self.request,
                _("The refund of %(amount)s was not made: %(reason)s")
                % {**details, "reason": refund.failure_reason},
            )
        else:
            messages.warning(
                self.request,
                _(
                    "The refund of %(amount)s has been sent to the payment provider; "
                    "this page shows it as refunded once the provider confirms."
                )
                % details,
            )
        return redirect(self.payment_url)
