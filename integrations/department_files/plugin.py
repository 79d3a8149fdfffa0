"""The plugin's hook implementations (placeholder being built)."""

from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind


@hookimpl
def ims_plugin_info():
    return PluginInfo(
        name="department_files", title="Departmental files", kinds=(PluginKind.DEPARTMENTAL,)
    )
