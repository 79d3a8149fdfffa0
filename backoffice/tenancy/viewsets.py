"""Admin screens over one council's rows.

``TenantModelViewSet`` is Wagtail's ``ModelViewSet`` for a tenant-owned model:
listings show only the current council's rows, any view of another council's
row answers 404 (as though it did not exist), and new rows belong to the
current council. Every view the viewset builds goes through
``construct_view``, so the rule holds for the standard views (edit, delete,
history, usage, inspect, copy) and for any a subclass adds.
"""

from functools import cache

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from wagtail.admin.panels import ObjectList
from wagtail.admin.viewsets.model import ModelViewSet

from .forms import TenantAdminForm


class TenantViewMixin:
    def dispatch(self, request, *args, **kwargs):
        if request.organisation is None:
            raise PermissionDenied(_("You are not a member of staff of any council."))
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and obj.organisation_id != self._organisation_id():
            raise Http404
        return obj

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        # A history listing's queryset is of log entries, scoped by its object.
        if queryset.model is self.model:
            queryset = queryset.filter(organisation_id=self._organisation_id())
        return queryset

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance() or self.model()
        if instance.pk is None:
            instance.organisation_id = self._organisation_id()
        return instance

    def _organisation_id(self):
        organisation = self.request.organisation
        return organisation.pk if organisation is not None else None


@cache
def tenant_view_class(view_class):
    """The same view, closed to other councils' rows."""
    if issubclass(view_class, TenantViewMixin):
        return view_class
    return type(f"Tenant{view_class.__name__}", (TenantViewMixin, view_class), {})


class TenantModelViewSet(ModelViewSet):
    """Set ``panels``; the form is built on ``base_form_class`` (a ``TenantAdminForm``)."""

    base_form_class = TenantAdminForm

    def get_edit_handler(self):
        return ObjectList(self.panels, base_form_class=self.base_form_class).bind_to_model(
            self.model
        )

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(tenant_view_class(view_class), **kwargs)
