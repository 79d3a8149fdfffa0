"""The plugin's per-council settings, and the form a department uploads its references with."""

from django import forms
from django.core.validators import RegexValidator

from backoffice.funds.models import FundCode


class ExportKind:
    """The files the plugin can write each day (the values stored in its settings)."""

    PAYMENT_CSV = "payment_csv"
    PAYMENT_FIXED_WIDTH = "payment_fixed_width"
    GL_JOURNAL = "gl_journal"

    CHOICES = [
        (PAYMENT_CSV, "Payment file per fund (CSV)"),
        (PAYMENT_FIXED_WIDTH, "Payment file per fund (fixed width)"),
        (GL_JOURNAL, "General ledger journal file (CSV, every posting of the day)"),
    ]


class DepartmentFilesSettingsForm(forms.Form):
    """What a finance administrator sets for one department's use of the plugin.

    Built with ``organisation=`` so that it offers that council's fund codes
    only. The cleaned values are stored as the integration's settings: fund
    codes by their code, exports by the names in ``ExportKind``.
    """

    fund_codes = forms.MultipleChoiceField(
        label="Fund codes this department looks after",
        widget=forms.CheckboxSelectMultiple,
        help_text="Payments to these fund codes go in the department's files, and their "
        "references can be checked against the department's list.",
    )
    validate_references = forms.BooleanField(
        label="Check references against the uploaded list",
        required=False,
        help_text="A reference not on the list is refused online and sent to suspense when "
        "the money is already in hand. Upload the list before turning this on.",
    )
    exports = forms.MultipleChoiceField(
        label="Files to write each day",
        choices=ExportKind.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Write the general ledger file in one integration only: it covers every "
        "posting the council made that day.",
    )
    file_prefix = forms.CharField(
        label="File name prefix",
        max_length=30,
        required=False,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]*$", "Use letters, digits, hyphens and underscores only."
            )
        ],
        help_text="Put before every file name, e.g. PARKING_ gives PARKING_PARK_20250314.csv.",
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["fund_codes"].choices = [
            (fund.code, f"{fund.code}: {fund.name}")
            for fund in FundCode.objects.for_organisation(organisation).order_by("code")
        ]


class KnownReferencesUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file of valid references",
        help_text="UTF-8, with the header row fund_code,reference. It replaces the whole list.",
    )
