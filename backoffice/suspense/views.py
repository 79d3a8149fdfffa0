"""The suspense screens: an item's page, allocating it, running the rules, a rule's dry run,
and the ageing report. Reads here and in ``selectors``; every write through ``services``."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from django_tasks import TaskResultStatus
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.views.generic import EditView, InspectView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.ordering import ReorderView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import policy_registry

from backoffice.ledger.models import Journal
from backoffice.money import format_pence
from backoffice.payments.models import Payment
from backoffice.search.scoping import payment_is_visible

from . import services
from .forms import AllocationForm, AllocationPartFormSet, NoteForm
from .models import ItemStatus, SuspenseItem, SuspenseRule, describe_action, describe_condition
from .rules import Lookups, Outcome, decide, enabled_rules
from .selectors import (
    AGE_BUCKETS,
    age_in_days,
    ageing,
    item_amounts,
    one_edit_suggestions,
    payer_suggestions,
    rule_preview,
    visible_items,
)
from .tasks import allocate_open_items_task


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "—"


def user_may(user, model, action) -> bool:
    return policy_registry.get_by_type(model).user_has_permission(user, action)


class VisibleItemsMixin:
    """Items meant for funds outside the user's fund groups are hidden (404, as absent)."""

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if queryset.model is SuspenseItem:
            queryset = visible_items(self.request, queryset)
        return queryset

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if (
            isinstance(obj, SuspenseItem)
            and self._reads_items()
            and not visible_items(self.request).filter(pk=obj.pk).exists()
        ):
            raise Http404
        return obj

    def _reads_items(self) -> bool:
        # Someone with no right to items at all is refused by the permission check that
        # follows (the object is read first), rather than told by a 404 which items exist.
        user = self.request.user
        return any(
            user.has_perm(f"suspense.{action}_suspenseitem")
            for action in ("view", "change", "allocate")
        )


# An item's page -----------------------------------------------------------------------------


class SuspenseItemInspectView(InspectView):
    """An item as it arrived, what it still holds, where its money went, and its notes."""

    any_permission_required = ["view"]
    template_name = "suspense/item_inspect.html"
    allocate_url_name = None
    run_url_name = None
    note_url_name = None
    labels = {
        "status": _("Status"),
        "received_at": _("Received"),
        "age": _("Age"),
        "payer_name": _("Payer"),
        "reference": _("Reference given"),
        "narrative": _("Narrative"),
        "intended_fund_code": _("Fund the payer meant"),
        "reason": _("Why it is in suspense"),
        "paid_pence": _("Paid (VAT included)"),
        "amount_pence": _("Into suspense (net)"),
        "held_pence": _("Still in suspense"),
        "open_pence": _("Still to allocate"),
        "channel": _("Channel"),
        "source": _("Source"),
        "payment": _("Payment"),
        "last_run": _("The rules, last time"),
    }

    def get_page_title(self):
        return capfirst(SuspenseItem._meta.verbose_name)

    def get_fields(self):
        return list(self.labels)

    def get_field_label(self, field_name, field):
        return self.labels[field_name]

    @cached_property
    def amounts(self):
        return item_amounts(self.object)

    def get_status_display_value(self):
        return ItemStatus(self.amounts.status).label

    def get_age_display_value(self):
        days = age_in_days(self.object)
        return _("1 day") if days == 1 else _("%(days)s days") % {"days": days}

    def get_paid_pence_display_value(self):
        return format_pence(self.object.paid_pence)

    def get_amount_pence_display_value(self):
        return format_pence(self.object.amount_pence)

    def get_held_pence_display_value(self):
        return format_pence(self.amounts.held_pence)

    def get_open_pence_display_value(self):
        return format_pence(self.amounts.open_pence)

    def get_intended_fund_code_display_value(self):
        return str(self.object.intended_fund_code)

    def get_payment_display_value(self):
        payment = self.object.payment_line.payment
        if user_may(self.request.user, Payment, "view") and payment_is_visible(
            self.request, payment
        ):
            return format_html(
                '<a href="{}">{}</a>',
                reverse("payments_payment:inspect", args=[payment.pk]),
                payment,
            )
        return str(payment)

    def get_last_run_display_value(self):
        item = self.object
        if item.last_run_at is None:
            return _("The rules have not looked at this item yet.")
        said = item.last_run_outcome or _("They allocated it.")
        return f"{timezone.localtime(item.last_run_at):%d %b %Y %H:%M}: {said}"

    @cached_property
    def may_allocate(self):
        return self.amounts.open_pence > 0 and self.user_has_permission("allocate")

    @cached_property
    def may_change(self):
        return self.user_has_permission("change")

    @cached_property
    def header_buttons(self):
        if not self.may_allocate:
            return []
        return [
            HeaderButton(
                _("Allocate"),
                url=reverse(self.allocate_url_name, args=[quote(self.object.pk)]),
                icon_name="arrow-right-full",
            )
        ]

    def _journal_link(self, allocation):
        journal = allocation.journal
        if not user_may(self.request.user, Journal, "view"):
            return f"{journal.pk} ({journal.get_status_display().lower()})"
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("ledger_journal:inspect", args=[journal.pk]),
            journal.pk,
            journal.get_status_display().lower(),
        )

    def allocations_table(self, allocations):
        return Table(
            [
                Column("created_at", label=_("When")),
                Column("fund_code", label=_("Fund"), accessor="fund_code.code"),
                Column("reference", label=_("Reference")),
                Column(
                    "amount_pence",
                    label=_("Amount"),
                    accessor=lambda allocation: format_pence(allocation.amount_pence),
                ),
                Column(
                    "by",
                    label=_("By"),
                    accessor=lambda allocation: (
                        _("Rule '%(rule)s'") % {"rule": allocation.rule_name}
                        if allocation.by_rule
                        else _person(allocation.allocated_by)
                    ),
                ),
                Column("journal", label=_("Journal"), accessor=self._journal_link),
                Column("explanation", label=_("Why")),
            ],
            allocations,
            caption=_("Allocations"),
        )

    def notes_table(self, notes):
        return Table(
            [
                Column("written_at", label=_("When")),
                Column("written_by", label=_("By"), accessor=lambda note: _person(note.written_by)),
                Column("text", label=_("Note")),
            ],
            notes,
            caption=_("Notes"),
        )

    def get_context_data(self, **kwargs):
        item = self.object
        allocations = list(
            item.allocations.select_related("fund_code", "journal", "allocated_by").order_by(
                "created_at", "pk"
            )
        )
        notes = list(item.notes.select_related("written_by"))
        pk = quote(item.pk)
        return super().get_context_data(
            allocations_table=self.allocations_table(allocations) if allocations else None,
            notes_table=self.notes_table(notes) if notes else None,
            note_form=NoteForm() if self.may_change else None,
            note_url=reverse(self.note_url_name, args=[pk]),
            may_run=self.may_change and self.amounts.open_pence > 0,
            run_url=reverse(self.run_url_name, args=[pk]),
            **kwargs,
        )


class _ItemActionView(VisibleItemsMixin, BaseObjectMixin, PermissionCheckedMixin, View):
    """A POST about one item, answered with a message on the item's page."""

    model = SuspenseItem
    inspect_url_name = None
    http_method_names = ["post"]

    def get_base_object_queryset(self):
        return SuspenseItem.objects.select_related("organisation")

    @cached_property
    def item_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])


class SuspenseItemRunView(_ItemActionView):
    """Try the switched-on rules on one item now."""

    permission_required = "change"

    def post(self, request, *args, **kwargs):
        outcome = services.allocate_suspense(item=self.object)
        allocation = outcome.allocation
        if allocation is not None:
            messages.success(
                request,
                _("%(amount)s moved to %(fund)s %(reference)s. %(why)s")
                % {
                    "amount": format_pence(allocation.amount_pence),
                    "fund": allocation.fund_code.code,
                    "reference": allocation.reference,
                    "why": outcome.explanation,
                },
            )
        else:
            messages.info(request, _("Nothing moved. %(why)s") % {"why": outcome.explanation})
        return redirect(self.item_url)


class SuspenseNoteView(_ItemActionView):
    permission_required = "change"

    def post(self, request, *args, **kwargs):
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Write the note before adding it."))
            return redirect(self.item_url)
        services.suspense_note_add(
            item=self.object, text=form.cleaned_data["text"], written_by=request.user
        )
        messages.success(request, _("Note added."))
        return redirect(self.item_url)


class SuspenseRunAllView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Run the switched-on rules on every open item of the council, once asked to."""

    model = SuspenseItem
    index_url_name = None
    template_name = "suspense/run_all.html"
    header_icon = "cogs"
    permission_required = "change"
    page_title = _("Run the rules")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Suspense items")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        organisation = self.request.organisation
        return super().get_context_data(
            open_count=SuspenseItem.objects.for_organisation(organisation)
            .with_amounts()
            .in_status(ItemStatus.OPEN)
            .count(),
            rules=enabled_rules(organisation),
            action_url=self.request.path,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        result = allocate_open_items_task.enqueue(request.organisation.pk)
        if result.status == TaskResultStatus.SUCCESSFUL:
            report = result.return_value
            messages.success(
                request,
                _(
                    "The rules looked at %(tried)s open items and allocated %(allocated)s "
                    "(%(amount)s); %(left)s are left for a person."
                )
                % {
                    "tried": report["tried"],
                    "allocated": report["allocated"],
                    "amount": format_pence(report["allocated_pence"]),
                    "left": report["tried"] - report["allocated"],
                },
            )
        elif result.status == TaskResultStatus.FAILED:
            messages.error(request, _("The rules could not run: the error has been logged."))
        else:
            messages.info(
                request,
                _("The rules are running on every open item; this list shows what they moved."),
            )
        return redirect(self.index_url_name)


# Allocating an item ---------------------------------------------------------------------------


class SuspenseAllocateView(
    VisibleItemsMixin,
    BaseObjectMixin,
    PermissionCheckedMixin,
    WagtailAdminTemplateMixin,
    TemplateView,
):
    """A person allocates an item, with the suggestions in view: to one fund, or split."""

    model = SuspenseItem
    index_url_name = None
    inspect_url_name = None
    template_name = "suspense/allocate.html"
    header_icon = "arrow-right-full"
    permission_required = "allocate"
    rows = 4

    def get_base_object_queryset(self):
        return SuspenseItem.objects.select_related(
            "organisation", "intended_fund_code", "payment_line__payment"
        )

    @cached_property
    def item_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])

    @cached_property
    def amounts(self):
        return item_amounts(self.object)

    def get_page_title(self):
        return _("Allocate")

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Suspense items")},
            {"url": self.item_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def _nothing_open(self):
        messages.info(
            self.request,
            _("%(item)s has nothing left to allocate.") % {"item": self.object},
        )
        return redirect(self.item_url)

    def _initial_parts(self):
        parts = [{} for _row in range(self.rows)]
        fund = self.request.GET.get("fund")
        if fund and fund.isdigit():
            parts[0] = {
                "fund_code": int(fund),
                "reference": self.request.GET.get("reference", "")[:100],
                "amount": self.amounts.open_pence,
            }
        return parts

    def _forms(self, data=None):
        form_kwargs = {"organisation_id": self.object.organisation_id}
        if data is None:
            parts = AllocationPartFormSet(
                prefix="parts", initial=self._initial_parts(), form_kwargs=form_kwargs
            )
        else:
            parts = AllocationPartFormSet(data, prefix="parts", form_kwargs=form_kwargs)
        return parts, AllocationForm(data)

    def get(self, request, *args, **kwargs):
        if self.amounts.open_pence <= 0:
            return self._nothing_open()
        parts, form = self._forms()
        return self.render_to_response(self.get_context_data(parts=parts, form=form))

    def post(self, request, *args, **kwargs):
        parts, form = self._forms(request.POST)
        if parts.is_valid() and form.is_valid():
            chosen = [
                services.Part(
                    fund_code=part.cleaned_data["fund_code"],
                    reference=part.cleaned_data.get("reference") or "",
                    amount_pence=part.cleaned_data["amount"],
                )
                for part in parts
                if not part.is_blank
            ]
            try:
                allocations = services.suspense_allocate(
                    item=self.object,
                    parts=chosen,
                    note=form.cleaned_data["note"],
                    allocated_by=request.user,
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                self._said(allocations)
                return redirect(self.item_url)
        return self.render_to_response(self.get_context_data(parts=parts, form=form))

    def _said(self, allocations):
        what = ", ".join(
            f"{format_pence(allocation.amount_pence)} to {allocation.fund_code.code} "
            f"{allocation.reference}".strip()
            for allocation in allocations
        )
        if all(allocation.journal.status == "posted" for allocation in allocations):
            messages.success(self.request, _("Allocated: %(what)s.") % {"what": what})
        else:
            messages.warning(
                self.request,
                _(
                    "Allocated: %(what)s. The journals wait for someone else to approve them: "
                    "the item is above the council's limit of %(limit)s."
                )
                % {
                    "what": what,
                    "limit": format_pence(
                        self.object.organisation.journal_approval_threshold_pence
                    ),
                },
            )

    def get_context_data(self, **kwargs):
        item = self.object
        lookups = Lookups(item.organisation)
        decision = decide(
            SuspenseItem.objects.select_related("intended_fund_code").get(pk=item.pk),
            enabled_rules(item.organisation),
            lookups,
        )
        suggestions = [
            *one_edit_suggestions(item, lookups),
            *payer_suggestions(item),
        ]
        url = reverse(self.request.resolver_match.view_name, args=[quote(item.pk)])
        return super().get_context_data(
            item=item,
            amounts=self.amounts,
            open=format_pence(self.amounts.open_pence),
            threshold=format_pence(item.organisation.journal_approval_threshold_pence),
            above_limit=self.amounts.open_pence
            > item.organisation.journal_approval_threshold_pence,
            rules_said=decision.explanation(),
            suggestions=[
                (
                    suggestion,
                    f"{url}?"
                    + urlencode(
                        {"fund": suggestion.fund_code.pk, "reference": suggestion.reference}
                    ),
                )
                for suggestion in suggestions
            ],
            action_url=self.request.path,
            **kwargs,
        )


# The ageing report ---------------------------------------------------------------------------


class SuspenseAgeingView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """What is still in suspense, by the fund the payer meant and by how long it has waited."""

    model = SuspenseItem
    index_url_name = None
    template_name = "suspense/ageing.html"
    header_icon = "time"
    any_permission_required = ["view"]
    page_title = _("Suspense ageing")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Suspense items")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        rows, total = ageing(visible_items(self.request))
        index = reverse(self.index_url_name)
        buckets = [
            (bucket, f"{index}?status={ItemStatus.OPEN}&age={bucket.key}") for bucket in AGE_BUCKETS
        ]
        return super().get_context_data(
            buckets=buckets,
            rows=[
                (
                    row,
                    list(zip(row.counts, map(format_pence, row.amounts), strict=True)),
                    format_pence(row.amount),
                )
                for row in rows
            ],
            total=total,
            total_cells=[
                (count, format_pence(amount), url)
                for count, amount, (_bucket, url) in zip(
                    total.counts, total.amounts, buckets, strict=True
                )
            ],
            total_amount=format_pence(total.amount),
            today=timezone.localdate(),
            **kwargs,
        )


# Rules ----------------------------------------------------------------------------------------


def conditions_html(rule):
    conditions = list(rule.conditions.all())
    if not conditions:
        return _("None: the rule applies to every item.")
    groups: dict[int, list] = {}
    for condition in conditions:
        groups.setdefault(condition.group, []).append(describe_condition(condition))
    return format_html_join(
        "",
        "<p>{}</p>",
        (
            ((_("or ") if number else "") + str(_(" and ")).join(texts),)
            for number, texts in enumerate(groups.values())
        ),
    )


def actions_html(rule):
    actions = list(rule.actions.select_related("fund_code"))
    if not actions:
        return _("None: the reference is checked as given, for the fund the payer meant.")
    return format_html(
        "<ol>{}</ol>",
        format_html_join("", "<li>{}</li>", ((describe_action(action),) for action in actions)),
    )


class SuspenseRuleInspectView(InspectView):
    any_permission_required = ["view"]
    preview_url_name = None
    labels = {
        "name": _("Name"),
        "description": _("Description"),
        "is_enabled": _("Switched on"),
        "conditions": _("Applies when"),
        "actions": _("Does"),
    }

    def get_fields(self):
        return list(self.labels)

    def get_field_label(self, field_name, field):
        return self.labels[field_name]

    def get_is_enabled_display_value(self):
        rule = self.object
        if not rule.is_enabled:
            return _("No: it moves nothing.")
        return _("Yes, by %(person)s on %(when)s") % {
            "person": _person(rule.enabled_by),
            "when": f"{timezone.localtime(rule.enabled_at):%d %B %Y}",
        }

    def get_conditions_display_value(self):
        return conditions_html(self.object)

    def get_actions_display_value(self):
        return actions_html(self.object)

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                _("Dry run"),
                url=reverse(self.preview_url_name, args=[quote(self.object.pk)]),
                icon_name="view",
            )
        ]


class SuspenseRuleEditView(EditView):
    """Editing a switched-on rule switches it off: run it dry again, then switch it back on."""

    preview_url_name = None

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Dry run"),
                url=reverse(self.preview_url_name, args=[quote(self.object.pk)]),
                icon_name="view",
            ),
        ]

    def save_instance(self):
        form = self.form
        changed = form.has_changed() or any(
            formset.has_changed() for formset in form.formsets.values()
        )
        switching_off = self.object.is_enabled and changed
        instance = super().save_instance()
        if switching_off:
            services.suspense_rule_switch_off(rule=instance, user=self.request.user)
            instance.refresh_from_db()
            messages.warning(
                self.request,
                _(
                    "'%(rule)s' was switched off because it changed: run it dry to check what "
                    "it does now, then switch it on again."
                )
                % {"rule": instance},
            )
        return instance


class SuspenseRuleReorderView(ReorderView):
    """Drag-and-drop order of the council's own rules only."""

    def get_queryset(self):
        return super().get_queryset().filter(organisation=self.request.organisation)

    def post(self, request, *args, **kwargs):
        get_object_or_404(self.get_queryset(), pk=kwargs.get("pk"))
        return super().post(request, *args, **kwargs)


class SuspenseRulePreviewView(
    BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """The dry run: which open items the rule would move, where and why, and which it would not.

    Nothing is written. The rule is tried in its place among the switched-on
    rules, as it would run once switched on.
    """

    model = SuspenseRule
    index_url_name = None
    edit_url_name = None
    switch_url_name = None
    item_url_name = "suspense_item:inspect"
    template_name = "suspense/rule_preview.html"
    header_icon = "view"
    any_permission_required = ["view"]
    limit = 500

    def get_base_object_queryset(self):
        return SuspenseRule.objects.prefetch_related("conditions", "actions").select_related(
            "organisation", "enabled_by"
        )

    def get_page_title(self):
        return _("Dry run")

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Suspense rules")},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def _item_link(self, row):
        return format_html(
            '<a href="{}">{}</a>', reverse(self.item_url_name, args=[row.item.pk]), row.item.pk
        )

    def _table(self, rows, caption, *, to=True, earlier=False):
        columns = [
            Column("item", label=_("Item"), accessor=self._item_link),
            Column("reference", label=_("Reference given"), accessor="item.reference"),
            Column("payer", label=_("Payer"), accessor="item.payer_name"),
            Column(
                "open",
                label=_("To allocate"),
                accessor=lambda row: format_pence(row.item.open_pence),
            ),
        ]
        if to:
            columns.append(
                Column(
                    "to",
                    label=_("Would move to"),
                    accessor=lambda row: row.verdict.found.describe(),
                )
            )
        columns.append(
            Column(
                "why",
                label=_("Why"),
                accessor=lambda row: (
                    row.decided_by.explanation() if earlier else row.verdict.explanation()
                ),
            )
        )
        return Table(columns, rows, caption=caption)

    def get_context_data(self, **kwargs):
        rule = self.object
        preview = rule_preview(rule, limit=self.limit)
        may_switch = self.user_has_permission("change")
        return super().get_context_data(
            rule=rule,
            conditions=conditions_html(rule),
            actions=actions_html(rule),
            preview=preview,
            moves_table=self._table(preview.moves, _("Would move")) if preview.moves else None,
            moves_total=format_pence(sum(row.item.open_pence for row in preview.moves)),
            ambiguous_table=(
                self._table(preview.ambiguous, _("Would find several"), to=False)
                if preview.ambiguous
                else None
            ),
            no_match_table=(
                self._table(preview.no_match, _("Would find nothing"), to=False)
                if preview.no_match
                else None
            ),
            earlier_table=(
                self._table(preview.earlier, _("Decided first by an earlier rule"), earlier=True)
                if preview.earlier
                else None
            ),
            may_switch=may_switch,
            switch_url=reverse(self.switch_url_name, args=[quote(rule.pk)]),
            edit_url=reverse(self.edit_url_name, args=[quote(rule.pk)]) if may_switch else None,
            outcome=Outcome,
            **kwargs,
        )


class SuspenseRuleSwitchView(BaseObjectMixin, PermissionCheckedMixin, View):
    """Switch a rule on (from its dry run) or off."""

    model = SuspenseRule
    preview_url_name = None
    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        rule = self.object
        if request.POST.get("switch") == "on":
            rule = services.suspense_rule_switch_on(rule=rule, user=request.user)
            messages.success(
                request,
                _(
                    "'%(rule)s' is switched on: from now it moves the money it is sure of, "
                    "in your name."
                )
                % {"rule": rule},
            )
        else:
            rule = services.suspense_rule_switch_off(rule=rule, user=request.user)
            messages.success(
                request, _("'%(rule)s' is switched off: it moves nothing more.") % {"rule": rule}
            )
        return redirect(reverse(self.preview_url_name, args=[quote(rule.pk)]))
