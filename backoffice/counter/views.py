"""The counter's admin screens: the till session page where payments are taken, closing and
signing off a till, receipts, and departmental cash returns.

Reads here and in ``selectors``; every write through ``services``. Each view is built by a
viewset in ``viewsets.py``, which keeps it to the user's council (another council's row is
not found) and gives it its model's permission policy.
"""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import policy_registry

from backoffice.money import format_pence
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import TAKEN_STATUSES, Payment, PaymentStatus
from backoffice.payments.services import LineInput, Payer
from backoffice.receipts import services as receipt_services
from plugins import online
from plugins.types import ProviderError

from . import selectors, services
from .forms import (
    CloseSessionForm,
    NoteForm,
    OpenSessionForm,
    ReceiptChoice,
    ReceiptEmailForm,
    ReturnChequeFormSet,
    ReturnLineFormSet,
    ReturnMoneyForm,
    SaveTemplateForm,
    StartReturnForm,
    TakePaymentForm,
)
from .models import (
    CashReturn,
    PaymentKind,
    ReturnStatus,
    SessionPayment,
    SessionStatus,
    TillSession,
)


def _person(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def _pounds(value) -> str:
    return "—" if value is None else format_pence(value)


def _history_table(changes, caption):
    return Table(
        [
            Column("changed_at", label=_("When")),
            Column(
                "from_status",
                label=_("From"),
                accessor=lambda change: change.get_from_status_display() or _("(new)"),
            ),
            Column("to_status", label=_("To"), accessor="get_to_status_display"),
            Column(
                "changed_by",
                label=_("Who"),
                accessor=lambda change: (
                    _person(change.changed_by) if change.changed_by else change.actor or "—"
                ),
            ),
            Column("note", label=_("Note")),
        ],
        changes,
        caption=caption,
    )


def _counts_table(counts, caption):
    return Table(
        [
            Column(
                "denomination", label=_("Note or coin"), accessor="get_denomination_pence_display"
            ),
            Column("quantity", label=_("How many")),
            Column(
                "amount", label=_("Amount"), accessor=lambda count: format_pence(count.amount_pence)
            ),
        ],
        counts,
        caption=caption,
    )


class _ObjectPageMixin(BaseObjectMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin):
    """A page about one row (a session, a return), among its viewset's pages."""

    index_url_name = None
    inspect_url_name = None

    @cached_property
    def object_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(self.model._meta.verbose_name_plural),
            },
            {"url": self.object_url, "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]


# Till sessions -------------------------------------------------------------------------


class TillSessionIndexView(IndexView):
    any_permission_required = ["view"]
    open_url_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("till__office", "opened_by")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if not self.user_has_permission("open"):
            return buttons
        mine = selectors.open_session_of(self.request.user, self.request.organisation)
        if mine is not None:
            buttons.append(
                HeaderButton(
                    _("Back to my open session"),
                    url=reverse(self.inspect_url_name, args=[mine.pk]),
                    icon_name="arrow-right",
                )
            )
        else:
            buttons.append(
                HeaderButton(
                    _("Open a till session"), url=reverse(self.open_url_name), icon_name="plus"
                )
            )
        return buttons


class OpenSessionView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Choose a till and open a session on it."""

    model = TillSession
    permission_required = "open"
    index_url_name = None
    inspect_url_name = None
    template_name = "counter/open_session.html"
    header_icon = "plus"
    page_title = _("Open a till session")
    form_class = OpenSessionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organisation": self.request.organisation}

    def get(self, request, *args, **kwargs):
        mine = selectors.open_session_of(request.user, request.organisation)
        if mine is not None:
            messages.info(request, _("You already have a session open: carry on with it."))
            return redirect(self.inspect_url_name, mine.pk)
        return super().get(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Till sessions")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            action_url=self.request.path,
            submit_button_label=_("Open session"),
            submit_button_active_label=_("Opening…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            session = services.till_session_open(
                till=form.cleaned_data["till"],
                opened_by=self.request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Session opened on %(till)s.") % {"till": session.till})
        return redirect(self.inspect_url_name, session.pk)


class TillSessionPageView(InspectView):
    """A session's page: the cashier takes payments here; everyone else reads it.

    GET shows it; POST takes a payment (``TakePaymentForm``) and comes back here.
    """

    any_permission_required = ["view"]
    template_name = "counter/session.html"
    inspect_url_name = None
    close_url_name = None
    sign_off_url_name = None
    draft_url_name = None
    receipt_url_name = None
    receipt_email_url_name = None
    phone_url_name = None
    payment_url_name = "payments_payment:inspect"

    def get_fields(self):
        # The template lays the session out itself: none of InspectView's field list.
        return []

    def get_page_title(self):
        return _("Till session")

    def get_page_subtitle(self):
        return f"{self.object.till.name}, {self.object.till.office}"

    @cached_property
    def is_cashier(self):
        return self.object.opened_by_id == self.request.user.pk

    @cached_property
    def may_take(self):
        return self.object.is_open and self.is_cashier and self.user_has_permission("open")

    @cached_property
    def may_sign_off(self):
        return (
            self.object.status == SessionStatus.CLOSED
            and not self.is_cashier
            and self.user_has_permission("signoff")
        )

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.may_take:
            buttons.append(
                HeaderButton(
                    _("Close session"),
                    url=reverse(self.close_url_name, args=[self.object.pk]),
                    icon_name="lock",
                )
            )
        if self.may_sign_off:
            buttons.append(
                HeaderButton(
                    _("Sign off"),
                    url=reverse(self.sign_off_url_name, args=[self.object.pk]),
                    icon_name="tick",
                )
            )
        return buttons

    @cached_property
    def phone_providers(self):
        return online.moto_integrations(self.request.organisation)

    def take_form(self, data=None):
        draft = getattr(self.object, "draft", None) if data is None else None
        return TakePaymentForm(
            data,
            organisation=self.request.organisation,
            phone_providers=self.phone_providers,
            initial=draft.fields if draft is not None else None,
        )

    def post(self, request, *args, **kwargs):
        if not self.may_take:
            raise PermissionDenied
        form = self.take_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(take_form=form))
        data = form.cleaned_data
        lines = [
            LineInput(
                data["fund_code"], data["amount"], account_reference=data["account_reference"]
            )
        ]
        payer = Payer(name=data["payer_name"], email=data["payer_email"], postcode=data["postcode"])
        try:
            if data["kind"] == PaymentKind.CARD_PHONE:
                record = services.till_session_start_phone_payment(
                    session=self.object,
                    taken_by=request.user,
                    provider=data["provider"],
                    lines=lines,
                    payer=payer,
                    idempotency_key=data["idempotency_key"],
                )
            else:
                record = services.till_session_take_payment(
                    session=self.object,
                    taken_by=request.user,
                    kind=data["kind"],
                    lines=lines,
                    payer=payer,
                    tendered_pence=data.get("tendered"),
                    cheque=services.Cheque(
                        number=data["cheque_number"],
                        sort_code=data["cheque_sort_code"],
                        drawer=data["cheque_drawer"],
                    )
                    if data["kind"] == PaymentKind.CHEQUE
                    else None,
                    terminal_reference=data["terminal_reference"],
                    idempotency_key=data["idempotency_key"],
                )
        except IdempotencyConflict:
            form.add_error(
                None,
                _(
                    "This form has already taken a payment, and has been changed since. "
                    "The payment taken is listed below; start the next one afresh."
                ),
            )
            return self.render_to_response(self.get_context_data(take_form=form))
        except ValidationError as error:
            form.add_service_error(error)
            return self.render_to_response(self.get_context_data(take_form=form))
        if record.kind == PaymentKind.CARD_PHONE:
            return phone_payment_handover(request, record, self.phone_url_name, self.object_url)
        return self.taken(record, data)

    @cached_property
    def object_url(self):
        return reverse(self.inspect_url_name, args=[self.object.pk])

    def taken(self, record, data):
        payment = record.payment
        text = _("%(receipt)s taken: %(amount)s, %(how)s.") % {
            "receipt": payment.receipt_number,
            "amount": format_pence(payment.total_pence),
            "how": record.get_kind_display().lower(),
        }
        if record.kind == PaymentKind.CASH:
            text += " " + _("Change to give: %(change)s.") % {
                "change": format_pence(record.change_pence)
            }
        if any(line.in_suspense for line in payment.lines.all()):
            text += " " + _("Its reference did not match: the money is in suspense.")
        messages.success(self.request, text)
        # A form sent again returns the payment already taken: its receipt went the first time.
        if data["receipt"] == ReceiptChoice.EMAIL and not payment.receipt_issues.exists():
            email_receipt_now(self.request, payment, data["payer_email"])
        if data["receipt"] == ReceiptChoice.PRINT:
            return redirect(f"{self.object_url}?receipt={record.pk}")
        return redirect(self.object_url)

    def payments_table(self, records):
        may_view_payments = self.request.user.has_perm("payments.view_payment")

        def receipt(record):
            payment = record.payment
            if not payment.receipt_number:
                return f"{payment.get_status_display()}"
            if may_view_payments:
                return format_html(
                    '<a href="{}">{}</a>',
                    reverse(self.payment_url_name, args=[payment.pk]),
                    payment.receipt_number,
                )
            return payment.receipt_number

        def details(record):
            if record.kind == PaymentKind.CASH:
                return _("%(tendered)s handed over, %(change)s change") % {
                    "tendered": format_pence(record.tendered_pence),
                    "change": format_pence(record.change_pence),
                }
            if record.kind == PaymentKind.CHEQUE:
                found = {True: _(" (in the till)"), False: _(" (not in the till)")}.get(
                    record.cheque_in_till, ""
                )
                return (
                    f"{record.cheque_number} · {record.cheque_sort_code} · "
                    f"{record.cheque_drawer}{found}"
                )
            if record.kind == PaymentKind.CARD_TERMINAL:
                return _("Terminal ref %(ref)s") % {"ref": record.terminal_reference}
            return record.payment.provider

        def what(record):
            return "; ".join(
                " ".join(part for part in (line.fund_code.code, line.account_reference) if part)
                + (" " + str(_("(suspense)")) if line.in_suspense else "")
                for line in record.payment.lines.all()
            )

        return Table(
            [
                Column(
                    "taken_at",
                    label=_("Taken"),
                    accessor=lambda r: timezone.localtime(r.taken_at).strftime("%H:%M"),
                ),
                Column("receipt", label=_("Receipt"), accessor=receipt),
                Column("what", label=_("Fund and reference"), accessor=what),
                Column("kind", label=_("How paid"), accessor="get_kind_display"),
                Column(
                    "amount", label=_("Amount"), accessor=lambda r: format_pence(r.amount_pence)
                ),
                Column("details", label=_("Details"), accessor=details),
                Column(
                    "status", label=_("Status"), accessor=lambda r: r.payment.get_status_display()
                ),
            ],
            records,
            caption=_("Payments taken in this session"),
        )

    def get_context_data(self, **kwargs):
        session = self.object
        records = selectors.session_payments(session)
        totals = selectors.takings_by_kind(records)
        receipt_record = None
        receipt_pk = self.request.GET.get("receipt", "")
        if receipt_pk.isdigit():
            receipt_record = next((r for r in records if r.pk == int(receipt_pk)), None)
        take_form = kwargs.pop("take_form", None)
        if take_form is None and self.may_take:
            take_form = self.take_form()
        counts = list(session.cash_counts.all())
        context = super().get_context_data(**kwargs)
        context.update(
            session=session,
            records=records,
            payments_table=self.payments_table(records) if records else None,
            phone_records=[
                r
                for r in records
                if r.kind == PaymentKind.CARD_PHONE and r.payment.status in online.SETTLEABLE
            ],
            totals=[
                (PaymentKind(kind).label, format_pence(amount)) for kind, amount in totals.items()
            ],
            total_taken=format_pence(sum(totals.values())),
            take_form=take_form,
            may_take=self.may_take,
            receipt_record=receipt_record,
            receipt_url_name=self.receipt_url_name,
            receipt_email_url_name=self.receipt_email_url_name,
            phone_url_name=self.phone_url_name,
            draft_url=reverse(self.draft_url_name, args=[session.pk]) if self.may_take else "",
            expected=_pounds(session.expected_pence),
            counted=_pounds(session.counted_pence),
            variance=_pounds(session.variance_pence),
            counts_table=_counts_table(counts, _("Cash counted")) if counts else None,
            history_table=_history_table(
                list(session.status_changes.select_related("changed_by")), _("History")
            ),
            slip=selectors.slip_of(session),
            cashier=_person(session.opened_by),
            signed_off_by=_person(session.signed_off_by) if session.signed_off_by_id else "",
        )
        return context


def email_receipt_now(request, payment, to_email):
    """Email the receipt straight after taking the payment; a failure is said, not raised:
    the payment is taken, and the receipt can be emailed again from the session page."""
    try:
        receipt_services.receipt_email(payment, to_email, user=request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    except Exception as error:
        # Whatever the mail server says, the payment is taken: say so, never fail the page.
        messages.warning(
            request,
            _("The receipt could not be emailed (%(error)s): email it again below.")
            % {"error": error},
        )
    else:
        messages.success(
            request,
            _("Receipt %(number)s emailed to %(email)s.")
            % {"number": payment.receipt_number, "email": to_email},
        )


def phone_payment_handover(request, record, phone_url_name, session_url):
    """Send the cashier to the provider's page to type the caller's card (MOTO)."""
    payment = record.payment
    if payment.status != PaymentStatus.CREATED:
        messages.info(
            request,
            _("That phone payment was already started; its outcome is shown below."),
        )
        return redirect(session_url)
    return_url = request.build_absolute_uri(reverse(phone_url_name, args=[record.pk]))
    try:
        next_url = online.payment_begin(payment=payment, return_url=return_url, moto=True)
    except (ProviderError, ValidationError) as error:
        # NoProvider is a ValidationError too. The payment stays created, listed on the page.
        problem = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(
            request,
            _(
                "The payment provider could not start the card payment: %(error)s Try again "
                "with 'Start the card payment' below, or take the payment another way."
            )
            % {"error": problem},
        )
        return redirect(session_url)
    return redirect(next_url)


class _SessionPaymentMixin:
    """A view of one payment of a session, with the session's permissions."""

    model = SessionPayment
    session_url_name = None

    @cached_property
    def permission_policy(self):
        return policy_registry.get_by_type(TillSession)

    def get_base_object_queryset(self):
        return SessionPayment.objects.select_related("payment", "session")

    @cached_property
    def session_url(self):
        return reverse(self.session_url_name, args=[self.object.session_id])


class PhonePaymentView(_SessionPaymentMixin, BaseObjectMixin, PermissionCheckedMixin, View):
    """Where the provider sends the cashier back after a card over the phone (GET), and the
    button to start one whose provider could not be reached (POST)."""

    permission_required = "open"
    phone_url_name = None

    def get(self, request, *args, **kwargs):
        record = self.object
        try:
            payment = online.payment_refresh(record.payment)
        except (ProviderError, online.NoProvider) as error:
            messages.warning(
                request,
                _("The provider could not say yet what happened (%(error)s); ask again below.")
                % {"error": error},
            )
            return redirect(self.session_url)
        if payment.status in TAKEN_STATUSES:
            messages.success(
                request,
                _("%(receipt)s taken: %(amount)s by card over the phone.")
                % {"receipt": payment.receipt_number, "amount": format_pence(payment.total_pence)},
            )
            return redirect(f"{self.session_url}?receipt={record.pk}")
        if payment.status in online.SETTLEABLE:
            messages.info(request, _("The card payment is not finished yet."))
        else:
            messages.error(
                request,
                _("The card payment did not go through (%(status)s): nothing was taken.")
                % {"status": payment.get_status_display().lower()},
            )
        return redirect(self.session_url)

    def post(self, request, *args, **kwargs):
        record = self.object
        if record.session.opened_by_id != request.user.pk or not record.session.is_open:
            raise PermissionDenied
        return phone_payment_handover(request, record, self.phone_url_name, self.session_url)


class DraftSaveView(BaseObjectMixin, PermissionCheckedMixin, View):
    """Keep what the cashier has typed (sent by the page as they type): 204, or 409 once the
    session is no longer open."""

    model = TillSession
    permission_required = "open"

    def post(self, request, *args, **kwargs):
        try:
            services.till_session_draft_save(
                session=self.object, saved_by=request.user, fields=request.POST.dict()
            )
        except PermissionDenied as error:
            # Asked by the page's script, which shows the answer: not the admin's redirect.
            return HttpResponse(str(error), status=403, content_type="text/plain")
        except ValidationError as error:
            return HttpResponse(" ".join(error.messages), status=409, content_type="text/plain")
        return HttpResponse(status=204)

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])


class CloseSessionView(_ObjectPageMixin, FormView):
    """Count the till: cash by denomination, the cheques found, and why if it differs."""

    model = TillSession
    permission_required = "open"
    template_name = "counter/close_session.html"
    header_icon = "lock"
    page_title = _("Close session")
    form_class = CloseSessionForm

    def dispatch(self, request, *args, **kwargs):
        if self.object.status != SessionStatus.OPEN:
            messages.info(request, _("This session is already closed."))
            return redirect(self.object_url)
        if self.object.opened_by_id != request.user.pk:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def cheque_records(self):
        return list(
            self.object.payments.filter(kind=PaymentKind.CHEQUE)
            .select_related("payment")
            .filter(payment__status__in=TAKEN_STATUSES)
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "cheque_records": self.cheque_records}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            session=self.object,
            action_url=self.request.path,
            pending_phone=[
                record
                for record in self.object.payments.select_related("payment")
                if record.kind == PaymentKind.CARD_PHONE
                and record.payment.status in online.SETTLEABLE
            ],
            **kwargs,
        )

    def form_valid(self, form):
        try:
            session = services.till_session_close(
                session=self.object,
                closed_by=self.request.user,
                cash_counts=form.cash_counts(),
                cheques_in_till=form.cheque_ids() if "cheques_in_till" in form.fields else [],
                variance_reason=form.cleaned_data["variance_reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        if session.variance_pence:
            messages.warning(
                self.request,
                _("Session closed with a variance of %(variance)s; it now needs signing off.")
                % {"variance": format_pence(session.variance_pence)},
            )
        else:
            messages.success(
                self.request,
                _(
                    "Session closed: the count matches the %(total)s taken. "
                    "It now needs signing off."
                )
                % {"total": format_pence(session.expected_pence)},
            )
        return redirect(self.object_url)


class SignOffView(_ObjectPageMixin, FormView):
    """A supervisor checks a closed session and signs it off for banking."""

    model = TillSession
    permission_required = "signoff"
    template_name = "counter/sign_off.html"
    header_icon = "tick"
    page_title = _("Sign off")
    form_class = NoteForm

    def get(self, request, *args, **kwargs):
        if self.object.status != SessionStatus.CLOSED:
            messages.info(request, _("Only a closed session can be signed off."))
            return redirect(self.object_url)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        session = self.object
        return super().get_context_data(
            session=session,
            is_cashier=session.opened_by_id == self.request.user.pk,
            expected=_pounds(session.expected_pence),
            counted=_pounds(session.counted_pence),
            variance=_pounds(session.variance_pence),
            cashier=_person(session.opened_by),
            action_url=self.request.path,
            **kwargs,
        )

    def form_valid(self, form):
        try:
            services.till_session_sign_off(
                session=self.object,
                signed_off_by=self.request.user,
                note=form.cleaned_data["note"],
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("%(session)s signed off: ready for banking.") % {"session": self.object}
        )
        return redirect(self.object_url)


class CounterReceiptView(_SessionPaymentMixin, BaseObjectMixin, PermissionCheckedMixin, View):
    """POST: the payment's receipt as a PDF shown in the browser, to print; recorded as an
    issue (the first the original, later ones copies)."""

    any_permission_required = ["open", "signoff"]
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        payment = self.object.payment
        try:
            pdf = receipt_services.receipt_pdf(payment, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.session_url)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="{receipt_services.receipt_filename(payment)}"'
        )
        return response


class CounterReceiptEmailView(_SessionPaymentMixin, _ObjectPageMixin, FormView):
    """Email a session payment's receipt to the address given (the payer's, to start with)."""

    any_permission_required = ["open", "signoff"]
    template_name = "counter/receipt_email.html"
    header_icon = "mail"
    page_title = _("Email receipt")
    form_class = ReceiptEmailForm

    @cached_property
    def object_url(self):
        return self.session_url

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Till sessions")},
            {"url": self.session_url, "label": str(self.object.session)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object.payment)},
        ]

    def get_initial(self):
        return {"to_email": self.object.payment.payer_email}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            payment=self.object.payment,
            action_url=self.request.path,
            submit_button_label=_("Send receipt"),
            submit_button_active_label=_("Sending…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            receipt_services.receipt_email(
                self.object.payment, form.cleaned_data["to_email"], user=self.request.user
            )
        except ValidationError as error:
            form.add_error("to_email", error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Receipt %(number)s emailed to %(email)s.")
            % {
                "number": self.object.payment.receipt_number,
                "email": form.cleaned_data["to_email"],
            },
        )
        return redirect(self.session_url)


# Departmental cash returns -------------------------------------------------------------


class CashReturnIndexView(IndexView):
    any_permission_required = ["view", "prepare", "authorise"]
    start_url_name = None

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("department", "created_by")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.user_has_permission("prepare"):
            buttons.append(
                HeaderButton(
                    _("Start a cash return"), url=reverse(self.start_url_name), icon_name="plus"
                )
            )
        return buttons


class StartReturnView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    model = CashReturn
    permission_required = "prepare"
    index_url_name = None
    edit_url_name = None
    template_name = "counter/return_start.html"
    header_icon = "plus"
    page_title = _("Start a cash return")

    def get_form(self, form_class=None):
        return StartReturnForm(**self.get_form_kwargs(), request=self.request)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Cash returns")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            action_url=self.request.path,
            submit_button_label=_("Start the return"),
            submit_button_active_label=_("Starting…"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            cash_return = services.cash_return_create(
                organisation=self.request.organisation,
                department=form.cleaned_data["department"],
                template=form.cleaned_data["template"],
                period=form.cleaned_data["period"],
                created_by=self.request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("%(return)s started.") % {"return": cash_return})
        return redirect(self.edit_url_name, cash_return.pk)


class ReturnEditView(_ObjectPageMixin, View):
    """Fill in a return: its lines, its cash by denomination and its cheques; save, or save
    and submit. Only while the department is working on it."""

    model = CashReturn
    permission_required = "prepare"
    template_name = "counter/return_edit.html"
    header_icon = "edit"
    page_title = _("Fill in")

    def get_base_object_queryset(self):
        return CashReturn.objects.select_related("department")

    @cached_property
    def fund_codes(self):
        return selectors.return_fund_codes(self.request)

    def dispatch(self, request, *args, **kwargs):
        if not self.object.is_editable:
            messages.info(
                request,
                _("%(return)s is %(status)s: it can no longer be changed.")
                % {"return": self.object, "status": self.object.get_status_display().lower()},
            )
            return redirect(self.object_url)
        return super().dispatch(request, *args, **kwargs)

    def forms(self, data=None):
        cash_return = self.object
        # Bound, the forms are what was sent: saved rows as initial values too would make an
        # unchanged row look like an empty extra one, and drop it.
        saved = data is None
        lines = ReturnLineFormSet(
            data,
            prefix="lines",
            form_kwargs={"fund_codes": self.fund_codes},
            initial=[
                {
                    "fund_code": line.fund_code_id,
                    "account_reference": line.account_reference,
                    "narrative": line.narrative,
                    "amount": line.amount_pence,
                }
                for line in cash_return.lines.all()
            ]
            if saved
            else None,
        )
        cheques = ReturnChequeFormSet(
            data,
            prefix="cheques",
            initial=[
                {
                    "cheque_number": cheque.cheque_number,
                    "sort_code": cheque.sort_code,
                    "drawer": cheque.drawer,
                    "amount": cheque.amount_pence,
                }
                for cheque in cash_return.cheques.all()
            ]
            if saved
            else None,
        )
        money = ReturnMoneyForm(
            data,
            prefix="money",
            initial={"period": cash_return.period},
            cash_counts={
                count.denomination_pence: count.quantity for count in cash_return.cash_counts.all()
            }
            if saved
            else None,
        )
        return lines, cheques, money

    def get(self, request, *args, **kwargs):
        return self.render(*self.forms())

    def render(self, lines, cheques, money, save_template=None, errors=()):
        return self.render_to_response(
            self.get_context_data(
                cash_return=self.object,
                lines=lines,
                cheques=cheques,
                money=money,
                save_template=save_template or SaveTemplateForm(prefix="template"),
                errors=errors,
                action_url=self.request.path,
            )
        )

    def post(self, request, *args, **kwargs):
        lines, cheques, money = self.forms(request.POST)
        if not (lines.is_valid() and cheques.is_valid() and money.is_valid()):
            return self.render(lines, cheques, money)
        line_inputs = [
            services.ReturnLineInput(
                fund_code=form.cleaned_data["fund_code"],
                amount_pence=form.cleaned_data.get("amount") or 0,
                account_reference=form.cleaned_data.get("account_reference", ""),
                narrative=form.cleaned_data.get("narrative", ""),
            )
            for form in lines.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        cheque_inputs = [
            services.Cheque(
                number=form.cleaned_data["cheque_number"],
                sort_code=form.cleaned_data["sort_code"],
                drawer=form.cleaned_data["drawer"],
                amount_pence=form.cleaned_data["amount"],
            )
            for form in cheques.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        action = request.POST.get("action", "save")
        try:
            cash_return = services.cash_return_save(
                cash_return=self.object,
                saved_by=request.user,
                lines=line_inputs,
                cash_counts=money.cash_counts(),
                cheques=cheque_inputs,
                period=money.cleaned_data["period"],
                note=money.cleaned_data["note"],
            )
        except ValidationError as error:
            # Nothing was saved: the page keeps everything as typed, with the problem.
            return self.render(lines, cheques, money, errors=error.messages)
        self.object = cash_return
        saved = _("%(return)s saved: %(total)s.") % {
            "return": cash_return,
            "total": format_pence(cash_return.total_pence),
        }
        if action == "template":
            template_form = SaveTemplateForm(request.POST, prefix="template")
            try:
                if not template_form.is_valid():
                    raise ValidationError(template_form.errors["name"])
                template = services.return_template_save(
                    cash_return=cash_return,
                    name=template_form.cleaned_data["name"],
                    saved_by=request.user,
                )
            except ValidationError as error:
                messages.success(request, saved)
                return self.render(
                    *self.forms(), save_template=template_form, errors=error.messages
                )
            messages.success(
                request,
                _("Saved, and its lines kept as the template '%(name)s'.")
                % {"name": template.name},
            )
            return redirect(request.path)
        if action == "submit":
            try:
                services.cash_return_submit(cash_return=cash_return, submitted_by=request.user)
            except ValidationError as error:
                # What was typed is saved; the page shows it with why it cannot go yet.
                messages.success(request, saved)
                return self.render(*self.forms(), errors=error.messages)
            messages.success(
                request,
                _("%(return)s submitted to finance: %(total)s.")
                % {"return": cash_return, "total": format_pence(cash_return.total_pence)},
            )
            return redirect(self.object_url)
        messages.success(request, saved)
        return redirect(request.path)


class CashReturnPageView(InspectView):
    """A return's page: lines, money, history, and the actions open to the user."""

    any_permission_required = ["view", "prepare", "authorise"]
    template_name = "counter/return.html"
    edit_url_name = None
    decide_url_name = None
    payment_url_name = "payments_payment:inspect"

    def get_edit_url(self):
        return None

    def get_fields(self):
        return []

    def get_page_title(self):
        return _("Cash return")

    @cached_property
    def header_buttons(self):
        cash_return, buttons = self.object, []
        if cash_return.is_editable and self.user_has_permission("prepare"):
            buttons.append(
                HeaderButton(
                    _("Fill in"),
                    url=reverse(self.edit_url_name, args=[cash_return.pk]),
                    icon_name="edit",
                )
            )
        for action, label, icon in self.actions():
            buttons.append(
                HeaderButton(
                    label,
                    url=reverse(self.decide_url_name, args=[cash_return.pk, action]),
                    icon_name=icon,
                )
            )
        return buttons

    def actions(self):
        return return_actions(self.object, self)

    def lines_table(self, lines):
        return Table(
            [
                Column("fund_code", label=_("Fund"), accessor="fund_code"),
                Column("account_reference", label=_("Reference")),
                Column("narrative", label=_("Description")),
                Column(
                    "amount",
                    label=_("Amount"),
                    accessor=lambda line: format_pence(line.amount_pence),
                ),
            ],
            lines,
            caption=_("Lines"),
        )

    def cheques_table(self, cheques):
        return Table(
            [
                Column("cheque_number", label=_("Cheque number")),
                Column("sort_code", label=_("Sort code")),
                Column("drawer", label=_("Drawer")),
                Column(
                    "amount",
                    label=_("Amount"),
                    accessor=lambda cheque: format_pence(cheque.amount_pence),
                ),
            ],
            cheques,
            caption=_("Cheques"),
        )

    def get_context_data(self, **kwargs):
        cash_return = self.object
        lines = list(cash_return.lines.select_related("fund_code"))
        cheques = list(cash_return.cheques.all())
        counts = list(cash_return.cash_counts.all())
        context = super().get_context_data(**kwargs)
        context.update(
            cash_return=cash_return,
            lines_table=self.lines_table(lines) if lines else None,
            lines_total=format_pence(sum(line.amount_pence for line in lines)),
            cheques_table=self.cheques_table(cheques) if cheques else None,
            counts_table=_counts_table(counts, _("Cash")) if counts else None,
            cash=format_pence(cash_return.cash_pence),
            cheques=format_pence(cash_return.cheques_pence),
            total=format_pence(cash_return.total_pence),
            history_table=_history_table(
                list(cash_return.status_changes.select_related("changed_by")), _("History")
            ),
            payment_url=reverse(self.payment_url_name, args=[cash_return.payment_id])
            if cash_return.payment_id and self.request.user.has_perm("payments.view_payment")
            else "",
            slip=selectors.slip_of(cash_return),
        )
        return context


# Which right each move needs: the department's until it submits, finance's after.
def _right_for(action: str, cash_return) -> str:
    if action == "void" and cash_return.is_editable:
        return "prepare"
    return "authorise"


# The moves open from each status.
_OPEN_MOVES = {
    ReturnStatus.NEW: ("void",),
    ReturnStatus.IN_PROGRESS: ("void",),
    ReturnStatus.SUBMITTED: ("authorise", "send_back", "void"),
}
_MOVE_BUTTONS = {
    "authorise": (_("Authorise"), "tick"),
    "send_back": (_("Send back"), "undo"),
    "void": (_("Void"), "cross"),
}


def return_actions(cash_return, view):
    """The state moves the user may make on the return now: (action, label, icon)."""
    return [
        (action, *_MOVE_BUTTONS[action])
        for action in _OPEN_MOVES.get(cash_return.status, ())
        if view.user_has_permission(_right_for(action, cash_return))
    ]


_DECISIONS = {
    "authorise": {
        "title": _("Authorise"),
        "button": _("Authorise and post"),
        "note_required": False,
        "help": _("Optional. Kept in the return's history."),
    },
    "send_back": {
        "title": _("Send back"),
        "button": _("Send back to the department"),
        "note_required": True,
        "help": _("Say what the department should put right."),
    },
    "void": {
        "title": _("Void"),
        "button": _("Void the return"),
        "note_required": True,
        "help": _("Say why: a voided return posts nothing and cannot be used again."),
    },
}


class ReturnDecisionView(_ObjectPageMixin, FormView):
    """Authorise, send back or void a return, with a note."""

    model = CashReturn
    any_permission_required = ["prepare", "authorise"]
    template_name = "counter/return_decide.html"
    header_icon = "tick"
    form_class = NoteForm

    @property
    def action(self):
        return self.kwargs["action"]

    def dispatch(self, request, *args, **kwargs):
        if self.action not in _DECISIONS:
            raise Http404
        if not self.user_has_permission(_right_for(self.action, self.object)):
            raise PermissionDenied
        if self.action not in _OPEN_MOVES.get(self.object.status, ()):
            messages.error(
                request,
                _("%(return)s is %(status)s: you cannot do that to it now.")
                % {"return": self.object, "status": self.object.get_status_display().lower()},
            )
            return redirect(self.object_url)
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _DECISIONS[self.action]["title"]

    def get_form_kwargs(self):
        decision = _DECISIONS[self.action]
        return {
            **super().get_form_kwargs(),
            "note_required": decision["note_required"],
            "note_help": decision["help"],
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            cash_return=self.object,
            action=self.action,
            is_submitter=self.object.submitted_by_id == self.request.user.pk,
            total=format_pence(self.object.total_pence),
            action_url=self.request.path,
            submit_button_label=_DECISIONS[self.action]["button"],
            **kwargs,
        )

    def form_valid(self, form):
        note = form.cleaned_data["note"]
        cash_return, user = self.object, self.request.user
        try:
            if self.action == "authorise":
                cash_return = services.cash_return_authorise(
                    cash_return=cash_return, authorised_by=user, note=note
                )
                text = _("%(return)s authorised and posted as %(receipt)s.") % {
                    "return": cash_return,
                    "receipt": Payment.objects.get(pk=cash_return.payment_id).receipt_number,
                }
            elif self.action == "send_back":
                services.cash_return_send_back(
                    cash_return=cash_return, sent_back_by=user, note=note
                )
                text = _("%(return)s sent back to the department.") % {"return": cash_return}
            else:
                services.cash_return_void(cash_return=cash_return, voided_by=user, note=note)
                text = _("%(return)s voided: nothing was posted.") % {"return": cash_return}
        except PermissionDenied as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, text)
        return redirect(self.object_url)
