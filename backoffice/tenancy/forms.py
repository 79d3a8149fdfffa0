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


class FundGroupChoiceField(forms.ModelMultipleChoiceField):
    """Every council's fund groups, each named with its council so that two "Parking" differ."""

    def label_from_instance(self, obj):
        return f"{obj.organisation}: {obj}"


class MembershipForm(WagtailAdminModelForm):
    """A system administrator's form for a membership: the fund groups must be its council's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("fund_groups")
        if field is not None:
            self.fields["fund_groups"] = FundGroupChoiceField(
                queryset=field.queryset.select_related("organisation").order_by(
                    "organisation__name", "name"
                ),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label=field.label,
                help_text=field.help_text,
            )

    def clean(self):
        cleaned_data = super().clean()
        organisation = cleaned_data.get("organisation")
        fund_groups = cleaned_data.get("fund_groups") or []
        others = [
            group
            for group in fund_groups
            if group.organisation_id != getattr(organisation, "pk", None)
        ]
        if organisation is not None and others:
            names = ", ".join(f"{group.organisation}: {group}" for group in others)
            self.add_error(
                "fund_groups",
                f"Choose only fund groups of {organisation}; "
                f"these belong to another council: {names}.",
            )
        return cleaned_data
