"""The plugin's hook implementations (placeholder being built)."""

from plugins import hookimpl
from plugins.types import PluginInfo, PluginKind


@hookimpl
def ims_plugin_info():
    return PluginInfo(
        name="sandbox", title="Sandbox card payments", kinds=(PluginKind.PAYMENT_PROVIDER,)
    )
