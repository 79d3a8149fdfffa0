"""The plugin manager: built-in integrations plus every package in the ``ims.plugins`` group.

A plugin's name is its entry-point name (built-ins: the names below). One
manager per process, built on first use.
"""

import functools
import importlib
import logging
from dataclasses import dataclass, replace
from importlib.metadata import entry_points

import pluggy

from . import hookspecs
from .types import PluginInfo

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ims.plugins"

BUILT_IN = {
    "govuk_pay": "integrations.govuk_pay.plugin",
    "sandbox": "integrations.sandbox.plugin",
    "telephone": "integrations.telephone.plugin",
    "department_files": "integrations.department_files.plugin",
}


# Which distribution shipped each entry-point plugin, for the admin's list.
_sources: dict[str, str] = {}


class PluginNotInstalled(LookupError):
    pass


@dataclass(frozen=True)
class InstalledPlugin:
    info: PluginInfo
    source: str  # "built-in" or the distribution that ships it

    @property
    def name(self) -> str:
        return self.info.name


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("ims")
    manager.add_hookspecs(hookspecs)
    for name, module_path in BUILT_IN.items():
        manager.register(importlib.import_module(module_path), name=name)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if manager.get_plugin(entry_point.name) is not None:
            logger.warning(
                "Plugin %s from %s ignored: a plugin of that name is already installed.",
                entry_point.name,
                entry_point.dist.name if entry_point.dist else "?",
            )
            continue
        try:
            plugin = entry_point.load()
        except Exception:
            # One broken package must not take the whole system down.
            logger.exception("Plugin %s could not be loaded.", entry_point.name)
            continue
        manager.register(plugin, name=entry_point.name)
        _sources[entry_point.name] = (
            f"{entry_point.dist.name} {entry_point.dist.version}" if entry_point.dist else "?"
        )
    return manager


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    _sources.clear()
    manager = _new_manager()
    manager.check_pending()
    return manager


def reload() -> pluggy.PluginManager:
    """Forget the manager and find plugins again (after a package is installed, in tests)."""
    plugin_manager.cache_clear()
    _installed.cache_clear()
    return plugin_manager()


def call(plugin_name: str, hook_name: str, **kwargs):
    """Call one hook on one plugin only; its answer (or ``None`` if it does not implement it)."""
    manager = plugin_manager()
    plugin = manager.get_plugin(plugin_name)
    if plugin is None:
        raise PluginNotInstalled(f"No plugin named '{plugin_name}' is installed.")
    others = [other for name, other in manager.list_name_plugin() if name != plugin_name]
    caller = manager.subset_hook_caller(hook_name, remove_plugins=others)
    result = caller(**kwargs)
    # firstresult hooks give the answer (which may itself be a list); others a list of one.
    if caller.spec is not None and caller.spec.opts.get("firstresult"):
        return result
    return result[0] if result else None


@functools.cache
def _installed() -> dict[str, InstalledPlugin]:
    manager = plugin_manager()
    found = {}
    for name, _plugin in manager.list_name_plugin():
        info = call(name, "ims_plugin_info")
        if not isinstance(info, PluginInfo):
            logger.error("Plugin %s does not answer ims_plugin_info; it is not offered.", name)
            continue
        if info.name != name:
            info = replace(info, name=name)
        found[name] = InstalledPlugin(info=info, source=_sources.get(name, "built-in"))
    return found


def installed_plugins() -> list[InstalledPlugin]:
    return sorted(_installed().values(), key=lambda plugin: plugin.info.title.lower())


def plugin_info(name: str) -> PluginInfo:
    try:
        return _installed()[name].info
    except KeyError:
        raise PluginNotInstalled(f"No plugin named '{name}' is installed.") from None
