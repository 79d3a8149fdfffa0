"""The transaction search form: what can be searched, and the plain meaning of each filter.

``TransactionFilterSet.qs`` is the straightforward query of the filters (what
a search means); ``selectors.search_payments`` runs the same filters shaped
for tens of millions of rows. Both are scoped to the council and the user's
fund groups by the queryset they are given (``scoping.visible_payments``).
"""

import datetime
import re

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, TextChoices, Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from backoffice.funds.models import Channel, FundCode
from backoffice.money import PoundsFormField
from backoffice.payments.models import Method, PaymentLine, PaymentStatus

from . import scoping

# A partial match needs this many letters or digits in a row: fewer would match a large
# part of the history (and give the trigram index nothing to look up).
MIN_PARTIAL_LENGTH = 3
_WORD_RUN = re.compile(rf"[^\W_]{{{MIN_PARTIAL_LENGTH},}}")

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReferenceMatch(TextChoices):
    WHOLE = "whole", "The whole reference"
    PART = "part", "Part of the reference"


def partial_text(value: str, *, what: str) -> str:
    """``value`` stripped, or a ValidationError if too short to look up part of ``what``."""
    value = value.strip()
    if value and not _WORD_RUN.search(value):
        raise ValidationError(
            f"Type at least {MIN_PARTIAL_LENGTH} letters or digits in a row to find "
            f"part of {what}.",
            code="too_short",
        )
    return value


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day``, in the council's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def normalise_postcode(value: str) -> str:
    """Postcodes compare without spaces and in capitals: 'ba1 1gh' finds 'BA1 1GH'."""
    return re.sub(r"\s+", "", value).upper()


def compact_postcode():
    """The postcode as its filter compares it: without spaces (in capitals, by "icontains").

    The search's look-up (``selectors.candidates``) goes from postcodes to payments
    through an index over this very expression, so the two can never disagree.
    """
    return Replace("postcode", Value(" "), Value(""))


def lines_with_reference(lines, value: str, match: str):
    """``lines`` narrowed to account references that are ``value`` (whole) or contain it.

    Shared by the filter and the search's look-up of a whole reference.
    """
    reference = value.strip().upper()
    if match == ReferenceMatch.PART:
        return lines.filter(account_reference__icontains=reference)
    return lines.alias(upper_reference=Upper("account_reference")).filter(upper_reference=reference)


class PartialTextFilter(django_filters.CharFilter):
    """Case-insensitive "contains"; the form refuses values below the minimum length."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, lookup_expr="icontains", **kwargs)


def _council_fund_codes(request):
    if request is None:
        return FundCode.objects.none()
    fund_codes = FundCode.objects.filter(organisation=request.organisation).order_by("code")
    visible = scoping.visible_fund_code_ids(request)
    return fund_codes if visible is None else fund_codes.filter(pk__in=visible)


def _council_staff(request):
    users = get_user_model()._default_manager.order_by("last_name", "first_name", "username")
    if request is None:
        return users.none()
    return users.filter(memberships__organisation=request.organisation).distinct()


class PoundsFilter(django_filters.Filter):
    """An amount typed in pounds and pence, compared in pence."""

    field_class = PoundsFormField


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class StaffChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = StaffChoiceField


class TransactionSearchForm(forms.Form):
    """Checks what the filters cannot alone: partial matches long enough, dates in order."""

    PARTIAL_FIELDS = {
        "payer_name": "a name",
        "payer_email": "an email address",
        "postcode": "a postcode",
        "provider_reference": "a provider reference",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference_match"].required = False
        self.fields["reference_match"].initial = ReferenceMatch.WHOLE

    def clean(self):
        cleaned = super().clean()
        for name, what in self.PARTIAL_FIELDS.items():
            if cleaned.get(name):
                try:
                    cleaned[name] = partial_text(cleaned[name], what=what)
                except ValidationError as error:
                    self.add_error(name, error)
        cleaned["reference_match"] = cleaned.get("reference_match") or ReferenceMatch.WHOLE
        reference = (cleaned.get("reference") or "").strip()
        if reference and cleaned["reference_match"] == ReferenceMatch.PART:
            try:
                partial_text(reference, what="a reference")
            except ValidationError as error:
                self.add_error("reference", error)
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end of the date range is before its start.")
        return cleaned


class TransactionFilterSet(django_filters.FilterSet):
    receipt_number = django_filters.CharFilter(
        method="filter_receipt_number",
        label="Receipt number",
        help_text="The whole receipt number, e.g. BAR-00001234.",
    )
    reference = django_filters.CharFilter(
        method="filter_reference", label="Account reference", help_text="On any line."
    )
    reference_match = django_filters.ChoiceFilter(
        method="filter_nothing",
        label="Match",
        choices=ReferenceMatch.choices,
        empty_label=None,
        widget=forms.RadioSelect,
    )
    payer_name = PartialTextFilter(
        field_name="payer_name", label="Payer's name", help_text="Part of it will do."
    )
    payer_email = PartialTextFilter(
        field_name="payer_email",
        label="Payer's email",
        help_text="Part of it will do.",
    )
    postcode = django_filters.CharFilter(
        method="filter_postcode", label="Postcode", help_text="Part of it will do."
    )
    provider_reference = PartialTextFilter(
        field_name="provider_reference",
        label="Provider reference",
        help_text="The payment provider's reference; part of it will do.",
    )
    amount = PoundsFilter(
        field_name="total_pence",
        label="Amount",
        help_text="The payment's total, e.g. 45.50.",
    )
    created_from = django_filters.DateFilter(
        method="filter_created_from", label="From", widget=DATE_INPUT
    )
    created_to = django_filters.DateFilter(
        method="filter_created_to", label="Until", widget=DATE_INPUT
    )
    fund_code = django_filters.ModelChoiceFilter(
        method="filter_fund_code",
        queryset=_council_fund_codes,
        label="Fund code",
        empty_label="Any fund",
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label="Channel", empty_label="Any channel"
    )
    method = django_filters.ChoiceFilter(
        choices=Method.choices, label="Method of payment", empty_label="Any method"
    )
    status = django_filters.ChoiceFilter(
        choices=PaymentStatus.choices, label="Status", empty_label="Any status"
    )
    taken_by = StaffChoiceFilter(
        field_name="created_by",
        queryset=_council_staff,
        label="Taken by",
        empty_label="Anyone",
        help_text="The member of staff who took it (online payments have none).",
    )

    class Meta:
        form = TransactionSearchForm

    def filter_nothing(self, queryset, name, value):
        """Read by ``filter_reference``; filters nothing by itself."""
        return queryset

    # Days become ranges of instants (midnight to midnight, local time) rather than
    # ``created_at__date``, which casts every row and so cannot use the created_at index.
    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + datetime.timedelta(days=1)))

    def filter_receipt_number(self, queryset, name, value):
        # Receipt numbers are stored in capitals (the council's prefix is capitals).
        return queryset.filter(receipt_number=value.strip().upper())

    def filter_reference(self, queryset, name, value):
        lines = lines_with_reference(
            PaymentLine.objects.filter(payment=OuterRef("pk")),
            value,
            self.form.cleaned_data.get("reference_match"),
        )
        return queryset.filter(Exists(lines))

    def filter_postcode(self, queryset, name, value):
        return queryset.alias(compact_postcode=compact_postcode()).filter(
            compact_postcode__icontains=normalise_postcode(value)
        )

    def filter_fund_code(self, queryset, name, value):
        return queryset.filter(scoping.has_line_on([value.pk]))

    def criteria(self) -> dict:
        """The filters given, cleaned: what the selector shapes the query from."""
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "") and name != "reference_match"
        } | (
            {"reference_match": self.form.cleaned_data["reference_match"]}
            if self.form.cleaned_data.get("reference")
            else {}
        )
