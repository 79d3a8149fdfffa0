"""The auditor's search of the audit log: who, what action, when, which object, from where."""

import django_filters
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.text import capfirst

from backoffice.tenancy.models import Organisation

from .models import AuditAction, AuditEvent

# The models whose pages staff use: this system's own, and staff accounts and groups.
AUDITED_APP_MODULES = ("backoffice.", "plugins.", "integrations.", "django.contrib.auth.")

DATE_TIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def object_type_choices():
    """Every model an audit event can be about, by name: ("payments.payment", "Payment")."""
    models = [
        model
        for model in apps.get_models()
        if model.__module__.startswith(AUDITED_APP_MODULES) and model is not AuditEvent
    ]
    choices = {model._meta.label_lower: capfirst(model._meta.verbose_name) for model in models}
    return sorted(choices.items(), key=lambda choice: (choice[1].lower(), choice[0]))


def _staff_in_scope(request):
    """The council's staff, or everyone for a system administrator: who may be picked."""
    users = get_user_model()._default_manager.order_by("username")
    if request is None:
        return users.none()
    if request.user.is_superuser:
        return users
    return users.filter(
        memberships__organisation=request.organisation, memberships__is_active=True
    ).distinct()


class IPAddressFilter(django_filters.Filter):
    """An exact IP address, checked as one: a typo gets a message, not a database error."""

    field_class = forms.GenericIPAddressField


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text",
        label="Text",
        help_text="Part of the page address, what it was about, or the username.",
    )
    user = django_filters.ModelChoiceFilter(
        queryset=_staff_in_scope, label="Member of staff", empty_label="Anyone"
    )
    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices, label="Action", empty_label="Any action"
    )
    start = django_filters.DateTimeFilter(
        field_name="at", lookup_expr="gte", label="From", widget=DATE_TIME_INPUT
    )
    end = django_filters.DateTimeFilter(
        field_name="at", lookup_expr="lte", label="Until", widget=DATE_TIME_INPUT
    )
    object_type = django_filters.ChoiceFilter(
        choices=object_type_choices, label="Object type", empty_label="Any type"
    )
    object_id = django_filters.CharFilter(
        label="Object id", help_text="With the type: e.g. Payment and 123."
    )
    ip_address = IPAddressFilter(label="IP address")
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.order_by("name"), label="Council", empty_label="Any council"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # Only a system administrator sees more than one council's events.
        if request is None or not request.user.is_superuser:
            del self.filters["organisation"]

    def filter_text(self, queryset, name, value):
        """Events whose path, description or username contains the words, ignoring case."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(path__icontains=value)
            | Q(description__icontains=value)
            | Q(username__icontains=value)
        )
