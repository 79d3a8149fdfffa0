"""The plugin system: hook specifications, the plugin manager and per-council integrations.

Plugins implement hooks with ``plugins.hookimpl``::

    from plugins import hookimpl

    @hookimpl
    def ims_plugin_info():
        ...
"""

import pluggy

hookimpl = pluggy.HookimplMarker("ims")
