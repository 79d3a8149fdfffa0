"""Fund codes and services in and out of spreadsheets (CSV and XLSX).

Columns name related rows by their codes (``default_vat_rate`` = ``S``), never
by database ids, so a file exported from one council imports into another.
"""

from django.core.exceptions import ObjectDoesNotExist
from import_export import fields, resources, widgets

from backoffice.money import parse_pounds, pence_to_pounds_text

from .models import Channel, Department, FundCode, ReferenceRule, Service, VatRate


class CouncilForeignKeyWidget(widgets.ForeignKeyWidget):
    """Finds the related row by its code among this council's rows only."""

    def __init__(self, model, field, *, organisation, label):
        super().__init__(model, field)
        self.organisation = organisation
        self.label = label

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model.objects.filter(organisation=self.organisation)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist as error:
            raise ValueError(f"There is no {self.label} '{value}' in this council.") from error


class YesNoWidget(widgets.BooleanWidget):
    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "yes", "Yes", "YES", "y", "Y"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "no", "No", "NO", "n", "N"]

    def clean(self, value, row=None, **kwargs):
        if value in self.NULL_VALUES:
            raise ValueError("Enter yes or no.")
        if value not in self.TRUE_VALUES and value not in self.FALSE_VALUES:
            raise ValueError(f"'{value}' is not yes or no.")
        return super().clean(value, row, **kwargs)

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class PoundsWidget(widgets.Widget):
    """Amounts as pounds and pence (``12.50``) in the file, pence in the database."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        if isinstance(value, float):  # a spreadsheet number cell
            value = f"{value:.2f}"
        pence = parse_pounds(str(value))
        if pence < 0:
            raise ValueError(f"'{value}' is less than nothing; amounts are 0.00 or more.")
        return pence

    def render(self, value, obj=None, **kwargs):
        return pence_to_pounds_text(value)


class ChannelsWidget(widgets.Widget):
    """Channels as a comma-separated list of their codes, e.g. ``online,telephone``."""

    def clean(self, value, row=None, **kwargs):
        names = [name.strip() for name in str(value or "").split(",") if name.strip()]
        unknown = [name for name in names if name not in Channel.values]
        if unknown:
            raise ValueError(
                f"Unknown channel {', '.join(unknown)}; use any of {', '.join(Channel.values)}."
            )
        return sorted(set(names), key=Channel.values.index)

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


class CouncilResource(resources.ModelResource):
    """A resource that reads and writes one council's rows, recording who changed what."""

    def __init__(self, *, organisation, user=None):
        self.organisation = organisation
        self.user = user
        super().__init__()

    def council_key(self, model, field, label):
        return CouncilForeignKeyWidget(model, field, organisation=self.organisation, label=label)

    def get_queryset(self):
        return self._meta.model.objects.filter(organisation=self.organisation)

    def init_instance(self, row=None):
        return self._meta.model(organisation=self.organisation)

    def before_import_row(self, row, **kwargs):
        # A blank spreadsheet cell arrives as None; the text columns mean "".
        for column, value in row.items():
            if value is None:
                row[column] = ""

    def after_import_row(self, row, row_result, **kwargs):
        from wagtail.log_actions import log

        if kwargs.get("dry_run") or row_result.instance is None:
            return
        action = {
            row_result.IMPORT_TYPE_NEW: "wagtail.create",
            row_result.IMPORT_TYPE_UPDATE: "wagtail.edit",
        }.get(row_result.import_type)
        if action:
            log(
                instance=row_result.instance,
                action=action,
                user=self.user,
                data={"source": "spreadsheet import"},
                content_changed=True,
            )


class FundCodeResource(CouncilResource):
    yes_no_fields = [
        "vat_overridable",
        "reference_must_exist",
        "overpayment_allowed",
        "collect_address",
        "is_active",
        "is_suspense",
    ]
    default_vat_rate = fields.Field(attribute="default_vat_rate", column_name="default_vat_rate")
    reference_rule = fields.Field(attribute="reference_rule", column_name="reference_rule")
    department = fields.Field(attribute="department", column_name="department")
    allowed_channels = fields.Field(
        attribute="allowed_channels", column_name="allowed_channels", widget=ChannelsWidget()
    )
    minimum_amount = fields.Field(
        attribute="minimum_amount_pence", column_name="minimum_amount", widget=PoundsWidget()
    )
    maximum_amount = fields.Field(
        attribute="maximum_amount_pence", column_name="maximum_amount", widget=PoundsWidget()
    )

    class Meta:
        model = FundCode
        import_id_fields = ["code"]
        fields = [
            "code",
            "name",
            "public_name",
            "description",
            "gl_account_code",
            "cost_centre",
            "department",
            "default_vat_rate",
            "vat_overridable",
            "reference_rule",
            "reference_must_exist",
            "overpayment_allowed",
            "collect_address",
            "allowed_channels",
            "minimum_amount",
            "maximum_amount",
            "payer_message",
            "is_active",
            "is_suspense",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        store_instance = True  # the audit log needs the saved row

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields["default_vat_rate"].widget = self.council_key(VatRate, "code", "VAT rate")
        self.fields["reference_rule"].widget = self.council_key(
            ReferenceRule, "name", "reference rule"
        )
        self.fields["department"].widget = self.council_key(Department, "code", "department")
        for name in self.yes_no_fields:
            self.fields[name].widget = YesNoWidget()

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("default_vat_rate", "reference_rule", "department")
        )


class ServiceResource(CouncilResource):
    fund_code = fields.Field(attribute="fund_code", column_name="fund_code")
    vat_rate = fields.Field(attribute="vat_rate", column_name="vat_rate")
    price = fields.Field(attribute="price_pence", column_name="price", widget=PoundsWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=YesNoWidget())

    class Meta:
        model = Service
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "name",
            "fund_code",
            "description",
            "pricing",
            "price",
            "vat_rate",
            "is_active",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        store_instance = True  # the audit log needs the saved row

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields["fund_code"].widget = self.council_key(FundCode, "code", "fund code")
        self.fields["vat_rate"].widget = self.council_key(VatRate, "code", "VAT rate")

    def get_queryset(self):
        return super().get_queryset().select_related("fund_code", "vat_rate")
