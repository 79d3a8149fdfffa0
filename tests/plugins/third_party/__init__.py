"""Plugins that exist only for the tests, and a way to install them for one test.

``card_provider`` and ``ivr`` are ordinary plugin modules, written as a third
party would write them; ``installed_for_test`` registers them alongside the
built-ins for the length of a test. ``ims-example-provider/`` is a whole pip
package, installed for real by test_third_party_plugin.py.
"""

from contextlib import contextmanager

from plugins import manager

TEST_PLUGINS = {
    "test_card_provider": "tests.plugins.third_party.card_provider",
    "test_ivr": "tests.plugins.third_party.ivr",
}


@contextmanager
def installed_for_test(plugins: dict[str, str] | None = None):
    """Install ``{name: module path}`` (the test plugins by default) as built-ins are, then
    put things back."""
    plugins = TEST_PLUGINS if plugins is None else plugins
    added = {name: path for name, path in plugins.items() if name not in manager.BUILT_IN}
    manager.BUILT_IN.update(added)
    manager.reload()
    try:
        yield
    finally:
        for name in added:
            manager.BUILT_IN.pop(name, None)
        manager.reload()
