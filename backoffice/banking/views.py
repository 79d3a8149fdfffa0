"""Paying-in slip screens: prepare one, read it (to take to the bank), mark it banked, cancel.

Reads here and in ``selectors``; writes through ``services``.
"""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import HeaderButton

from backoffice.counter import selectors as counter_selectors
from backoffice.money import format_pence

from . import selectors, services
from .forms import BankSlipForm, CancelSlipForm, PrepareSlipForm
from .models import PayingInSlip, SlipStatus

READ_PERMISSIONS = ["view", "prepare", "bank"]


class SlipIndexView(IndexView):
    any_permission_required = READ_PERMISSIONS
    prepare_url_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("prepared_by")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.user_has_permission("prepare"):
            buttons.append(
                HeaderButton(
                    _("Prepare a paying-in slip"),
                    url=reverse(self.prepare_url_name),
                    icon_name="plus",
                )
            )
        return buttons


class PrepareSlipView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Gather what is ready for banking on a new slip."""

    model = PayingInSlip
    permission_required = "prepare"
    index_url_name = None
    inspect_url_name = None
    template_name = "banking/prepare.html"
    header_icon = "plus"
    page_title = _("Prepare a paying-in slip")

    @cached_property
    def ready(self):
        return counter_selectors.ready_for_banking(self.request.organisation)

    def get_form_kwargs(self):
        sessions, cash_returns = self.ready
        return {**super().get_form_kwargs(), "sessions": sessions, "cash_returns": cash_returns}

    def get_form_class(self):
        return PrepareSlipForm

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Paying-in slips")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        sessions, cash_returns = self.ready
        return super().get_context_data(
            nothing_ready=not sessions and not cash_returns,
            action_url=self.request.path,
            submit_button_label=_("Prepare the slip"),
            submit_button_active_label=_("Preparing…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            slip = services.paying_in_slip_create(
                organisation=self.request.organisation,
                prepared_by=self.request.user,
                sessions=list(form.cleaned_data["sessions"]),
                cash_returns=list(form.cleaned_data["cash_returns"]),
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(slip)s prepared: %(total)s to bank.")
            % {"slip": slip, "total": format_pence(slip.total_pence)},
        )
        return redirect(self.inspect_url_name, slip.pk)


class SlipPageView(InspectView):
    """A slip's page: what is on it, by note and coin and cheque, for the bank."""

    any_permission_required = READ_PERMISSIONS
    template_name = "banking/slip.html"
    bank_url_name = None
    cancel_url_name = None

    def get_edit_url(self):
        return None

    def get_fields(self):
        # The template lays the slip out itself: none of InspectView's field list.
        return []

    def get_page_title(self):
        return _("Paying-in slip")

    @cached_property
    def header_buttons(self):
        if self.object.status != SlipStatus.PREPARED or not self.user_has_permission("bank"):
            return []
        return [
            HeaderButton(
                _("Mark banked"),
                url=reverse(self.bank_url_name, args=[self.object.pk]),
                icon_name="tick",
            ),
            HeaderButton(
                _("Cancel slip"),
                url=reverse(self.cancel_url_name, args=[self.object.pk]),
                icon_name="cross",
            ),
        ]

    def get_context_data(self, **kwargs):
        slip = self.object
        items = selectors.slip_items(slip)
        denominations = selectors.slip_denominations(slip)
        cheques = selectors.slip_cheques(slip)
        context = super().get_context_data(**kwargs)
        context.update(
            slip=slip,
            items_table=Table(
                [
                    Column("item", label=_("Session or return"), accessor=str),
                    Column(
                        "cash", label=_("Cash"), accessor=lambda item: format_pence(item.cash_pence)
                    ),
                    Column(
                        "cheques",
                        label=_("Cheques"),
                        accessor=lambda item: format_pence(item.cheques_pence),
                    ),
                    Column(
                        "total",
                        label=_("Total"),
                        accessor=lambda item: format_pence(item.total_pence),
                    ),
                ],
                [
                    item
                    for item in items
                    if item.is_released == (slip.status == SlipStatus.CANCELLED)
                ],
                caption=_("On this slip"),
            ),
            denominations_table=Table(
                [
                    Column("label", label=_("Note or coin"), accessor=lambda row: row[0]),
                    Column("count", label=_("How many"), accessor=lambda row: row[1]),
                    Column("amount", label=_("Amount"), accessor=lambda row: format_pence(row[2])),
                ],
                denominations,
                caption=_("Cash by note and coin"),
            )
            if denominations
            else None,
            cheques_table=Table(
                [
                    Column("number", label=_("Cheque number")),
                    Column("sort_code", label=_("Sort code")),
                    Column("drawer", label=_("Drawer")),
                    Column(
                        "amount",
                        label=_("Amount"),
                        accessor=lambda row: format_pence(row.amount_pence),
                    ),
                    Column("source", label=_("From")),
                ],
                cheques,
                caption=_("Cheques"),
            )
            if cheques
            else None,
            cash=format_pence(slip.cash_pence),
            cheques=format_pence(slip.cheques_pence),
            total=format_pence(slip.total_pence),
        )
        return context


class _SlipActionView(BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    model = PayingInSlip
    permission_required = "bank"
    index_url_name = None
    inspect_url_name = None
    template_name = "banking/slip_action.html"

    @cached_property
    def slip_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])

    def dispatch(self, request, *args, **kwargs):
        if self.object.status != SlipStatus.PREPARED:
            messages.info(
                request,
                _("%(slip)s is %(status)s.")
                % {"slip": self.object, "status": self.object.get_status_display().lower()},
            )
            return redirect(self.slip_url)
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": capfirst(_("paying-in slips"))},
            {"url": self.slip_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            slip=self.object,
            total=format_pence(self.object.total_pence),
            action_url=self.request.path,
            submit_button_label=self.get_page_title(),
            **kwargs,
        )


class BankSlipView(_SlipActionView):
    """Mark a slip banked by hand (until the bank reconciliation does it from the statement)."""

    header_icon = "tick"
    page_title = _("Mark banked")
    form_class = BankSlipForm

    def form_valid(self, form):
        try:
            slip = services.paying_in_slip_mark_banked(
                slip=self.object,
                banked_on=form.cleaned_data["banked_on"],
                marked_by=self.request.user,
                bank_reference=form.cleaned_data["bank_reference"],
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(slip)s banked: %(total)s moved from cash in transit to the bank.")
            % {"slip": slip, "total": format_pence(slip.total_pence)},
        )
        return redirect(self.slip_url)


class CancelSlipView(_SlipActionView):
    header_icon = "cross"
    page_title = _("Cancel slip")
    form_class = CancelSlipForm

    def form_valid(self, form):
        try:
            slip = services.paying_in_slip_cancel(
                slip=self.object, cancelled_by=self.request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(slip)s cancelled: its sessions and returns can go on another slip.")
            % {"slip": slip},
        )
        return redirect(self.slip_url)
