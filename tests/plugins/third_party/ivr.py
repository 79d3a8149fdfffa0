"""A telephone payments (IVR) plugin, for the tests: the vendor calls in with an API key."""

from django import forms

from plugins import hookimpl
from plugins.forms import PluginSettingsForm
from plugins.types import PluginInfo, PluginKind


class IvrSettingsForm(PluginSettingsForm):
    line_name = forms.CharField(label="Telephone line", help_text="What callers dial, for staff.")


@hookimpl
def ims_plugin_info():
    """An IVR with no secrets of its own: it authenticates with the API key the council issues."""
    return PluginInfo(
        name="test_ivr",
        title="Test IVR",
        kinds=(PluginKind.TELEPHONE,),
        settings_form=IvrSettingsForm,
        uses_api_key=True,
    )
