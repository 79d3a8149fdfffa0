from django import forms
from wagtail.admin.forms import WagtailAdminModelForm


def _is_tenant_owned(model) -> bool:
    return any(field.name == "organisation" for field in model._meta.concrete_fields)


class TenantAdminForm(WagtailAdminModelForm):
    """Admin form for a council's own rows.

    Choices that point at other tenant-owned rows (a fund code's VAT rate,
    reference rule, department...) list only this council's; uniqueness that
    includes the council (two councils may both have fund code ``CTAX``) is
    checked here, so a clash is a form error and not a database error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_id = getattr(self.instance, "organisation_id", None)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and _is_tenant_owned(field.queryset.model):
                field.queryset = field.queryset.filter(organisation_id=organisation_id)

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.discard("organisation")
        return exclusions
