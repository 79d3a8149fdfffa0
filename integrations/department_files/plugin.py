"""The built-in departmental plugin: a department's list of valid references in, daily files out.

For departments whose systems take files rather than calls: the department
uploads the references it knows (council tax accounts, penalty charge
notices) as a CSV file, and every day gets a file of what was paid to its
fund codes. docs/integrations/department_files.md is the guide.
"""

from backoffice.funds.models import FundCode
from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind, ReferenceVerdict

from . import selectors, writers
from .forms import DepartmentFilesSettingsForm

NAME = "department_files"


@hookimpl
def ims_plugin_info():
    """The departmental files plugin: settings are the funds, the check and the files."""
    return PluginInfo(
        name=NAME,
        title="Departmental files",
        kinds=(PluginKind.DEPARTMENTAL,),
        description="Checks references against a list the department uploads, and writes "
        "the department's daily payment files and a general ledger journal file.",
        settings_form=DepartmentFilesSettingsForm,
    )


def _fund(integration, fund_code) -> FundCode | None:
    if isinstance(fund_code, FundCode):
        return fund_code
    return (
        FundCode.objects.for_organisation(integration.organisation)
        .select_related("department", "reference_rule")
        .filter(code=fund_code)
        .first()
    )


@hookimpl
def ims_reference_validate(integration, fund_code, reference):
    """Is the reference on the department's uploaded list for this fund code?

    ``None`` (no opinion) when the integration does not look after the fund
    code or reference checking is turned off in its settings.
    """
    settings = integration.settings
    if not settings.get("validate_references"):
        return None
    code = getattr(fund_code, "code", fund_code)
    if code not in (settings.get("fund_codes") or []):
        return None
    fund = _fund(integration, fund_code)
    if fund is None:
        return None
    if selectors.reference_is_known(integration=integration, fund=fund, reference=reference):
        return ReferenceVerdict(valid=True)
    department = fund.department.name if fund.department_id else fund.name
    return ReferenceVerdict(
        valid=False,
        reason=f"Reference {reference} is not on the {department} department's list of "
        "valid references.",
    )


@hookimpl
def ims_payment_taken(integration, payment):
    """Nothing to do at once: a file-based department has no live system to tell.

    The payment reaches the department in the next day's payment file, so
    this records nothing.
    """


@hookimpl
def ims_refund_completed(integration, refund):
    """Nothing to do at once: the refund is in the next day's payment file as a negative row."""


@hookimpl
def ims_export_files(integration, day):
    """The day's files the integration's settings ask for (see ``writers.export_files``)."""
    return writers.export_files(integration, day)
