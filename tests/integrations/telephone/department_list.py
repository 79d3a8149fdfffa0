"""A departmental system for the tests: it knows a fixed list of parking references."""

from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind, ReferenceVerdict

KNOWN = {"PCN1", "PCN2"}


@hookimpl
def ims_plugin_info():
    """A departmental plugin with no settings."""
    return PluginInfo(
        name="department_list", title="Parking's list", kinds=(PluginKind.DEPARTMENTAL,)
    )


@hookimpl
def ims_reference_validate(integration, fund_code, reference):
    """Looks after PARK only; knows the references in ``KNOWN``."""
    if fund_code.code != "PARK":
        return None
    if reference in KNOWN:
        return ReferenceVerdict(valid=True)
    return ReferenceVerdict(valid=False, reason=f"Parking has no penalty charge {reference}.")
