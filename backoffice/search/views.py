"""Transactions > Search: the form, one page of results, and the CSV export of a search.

Thin: the form is ``filters.TransactionFilterSet``, who sees what is
``scoping``, and the query is ``selectors.search_payments``.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from backoffice.listing import InvalidCursor, csv_download, filter_errors, page_url
from backoffice.money import format_pence, pence_to_pounds_text

from . import scoping, selectors
from .filters import TransactionFilterSet

PERMISSION = "payments.view_payment"
TIMED_OUT = (
    "This search took too long and was stopped. Narrow it: add a date range, a fund code "
    "or a longer part of the name or reference."
)


class SearchAccessMixin:
    """Staff of a council who may read payments; the filters, scoped to what they may see."""

    def dispatch(self, request, *args, **kwargs):
        if request.organisation is None or not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def filterset(self):
        data = self.request.GET.copy()
        data.pop("cursor", None)
        return TransactionFilterSet(
            data or None,
            queryset=scoping.visible_payments(self.request),
            request=self.request,
        )

    def search(self, filterset, **kwargs):
        """A page of the search (``selectors.search_payments``), for valid filters."""
        queryset = filterset.qs if filterset.is_bound else filterset.queryset
        criteria = filterset.criteria() if filterset.is_bound else {}
        return selectors.search_payments(
            queryset=queryset,
            organisation_id=self.request.organisation.pk,
            criteria=criteria,
            **kwargs,
        )


def lines_summary(payment) -> str:
    """ "CTAX 301234566; PARK PP123456": each line's fund code and reference.

    From the lines the search attached (``selectors.attach_lines``).
    """
    return "; ".join(
        f"{fund_code} {reference}".strip() for fund_code, reference in payment.search_lines
    )


def taken_by(payment) -> str:
    user = payment.created_by
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class TransactionSearchView(SearchAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """The search form and one page of matching payments, newest first."""

    template_name = "search/transaction_search.html"
    page_title = "Search transactions"
    header_icon = "search"

    def get_page_subtitle(self):
        return str(self.request.organisation)

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        status = 400 if context["cursor_error"] else 200
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.filterset()
        cursor = self.request.GET.get("cursor", "")
        page, problem, cursor_error = None, "", ""
        if filterset.is_bound and not filterset.is_valid():
            problem = "Correct the search below."
        else:
            try:
                page = self.search(filterset, cursor=cursor)
            except InvalidCursor:
                cursor_error = (
                    "That page link is not valid (it was changed or cut short). "
                    "Start the search again from its first page."
                )
            except selectors.SearchTimedOut:
                problem = TIMED_OUT
        rows = [
            {
                "payment": payment,
                "url": reverse("payments_payment:inspect", args=[payment.pk]),
                "lines": lines_summary(payment),
                "total": format_pence(payment.total_pence),
                "taken_by": taken_by(payment),
            }
            for payment in (page.payments if page else [])
        ]
        context.update(
            filter_form=filterset.form,
            searched=filterset.is_bound,
            rows=rows,
            page_size=selectors.PAGE_SIZE,
            has_more=bool(page and page.next_cursor),
            is_first_page=not cursor,
            problem=problem,
            cursor_error=cursor_error,
            first_page_url=page_url(self.request, "transaction_search"),
            next_page_url=(
                page_url(self.request, "transaction_search", cursor=page.next_cursor)
                if page and page.next_cursor
                else ""
            ),
            export_url=page_url(self.request, "transaction_search_export"),
        )
        return context


class TransactionExportView(SearchAccessMixin, View):
    """Every payment the search matches, newest first, as a CSV file streamed in batches."""

    HEADER = [
        "Receipt number",
        "Created",
        "Status",
        "Channel",
        "Method",
        "Total",
        "Refunded",
        "Fund codes and references",
        "Payer",
        "Email",
        "Postcode",
        "Provider",
        "Provider reference",
        "Taken by",
        "Payment id",
    ]

    def get(self, request):
        """The CSV file, or the filters' errors as plain text if they are not valid."""
        filterset = self.filterset()
        if filterset.is_bound and not filterset.is_valid():
            return HttpResponseBadRequest(
                f"The search was not exported: {filter_errors(filterset)}",
                content_type="text/plain",
            )
        queryset = filterset.qs if filterset.is_bound else filterset.queryset
        criteria = filterset.criteria() if filterset.is_bound else {}
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_download(
            self._rows(queryset, criteria),
            filename=f"transactions-{request.organisation.code}-{stamp}.csv",
        )

    def _rows(self, queryset, criteria):
        yield self.HEADER
        payments = selectors.iterate_payments(
            queryset=queryset, organisation_id=self.request.organisation.pk, criteria=criteria
        )
        try:
            for payment in payments:
                yield self._row(payment)
        except selectors.SearchTimedOut:
            # The file has started downloading, so the only place left to say so is in it.
            yield [f"The export stopped here: {TIMED_OUT}"]

    def _row(self, payment) -> list:
        return [
            payment.receipt_number or "",
            timezone.localtime(payment.created_at).isoformat(),
            payment.get_status_display(),
            payment.get_channel_display(),
            payment.get_method_display(),
            pence_to_pounds_text(payment.total_pence),
            pence_to_pounds_text(payment.refunded_pence),
            lines_summary(payment),
            payment.payer_name,
            payment.payer_email,
            payment.postcode,
            payment.provider,
            payment.provider_reference,
            taken_by(payment),
            payment.pk,
        ]


transaction_search = TransactionSearchView.as_view()
transaction_search_export = TransactionExportView.as_view()
