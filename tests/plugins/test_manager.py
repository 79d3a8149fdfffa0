"""The plugin manager: built-ins and installed packages, one broken package kept out,
and every call reaching only the plugin named."""

import logging
from importlib.metadata import EntryPoint

import pytest

from plugins import manager
from plugins.types import PluginInfo, ProviderStart
from tests.plugins.third_party import installed_for_test


@pytest.fixture
def test_plugins():
    with installed_for_test():
        yield


@pytest.fixture
def entry_points_found(monkeypatch):
    """``entry_points_found([...])``: what the installed distributions declare, for one test.

    Installing a broken package for real needs pip and a temporary directory
    (test_third_party_plugin.py does that for a working one); here the
    manager is handed real ``EntryPoint`` objects as importlib.metadata would.
    """

    def found(points):
        monkeypatch.setattr(
            manager,
            "entry_points",
            lambda group: [point for point in points if point.group == group],
        )
        return manager.reload()

    yield found
    monkeypatch.undo()
    manager.reload()


def test_every_built_in_loads_and_says_who_it_is():
    plugins = {plugin.name: plugin for plugin in manager.installed_plugins()}

    for name in manager.BUILT_IN:
        assert isinstance(plugins[name].info, PluginInfo)
        assert plugins[name].info.name == name
        assert plugins[name].source == "built-in"


def test_a_broken_entry_point_is_logged_and_skipped_and_the_rest_still_load(
    entry_points_found, caplog
):
    with caplog.at_level(logging.ERROR, logger="plugins.manager"):
        entry_points_found(
            [
                EntryPoint("broken", "tests.plugins.third_party.no_such_module", "ims.plugins"),
                EntryPoint("test_ivr", "tests.plugins.third_party.ivr", "ims.plugins"),
            ]
        )

    names = {plugin.name for plugin in manager.installed_plugins()}
    assert "broken" not in names
    assert "test_ivr" in names
    assert set(manager.BUILT_IN) <= names
    assert "Plugin broken could not be loaded." in caplog.text


def test_a_package_cannot_take_the_name_of_a_built_in(entry_points_found, caplog):
    with caplog.at_level(logging.WARNING, logger="plugins.manager"):
        entry_points_found(
            [EntryPoint("telephone", "tests.plugins.third_party.ivr", "ims.plugins")]
        )

    assert manager.plugin_info("telephone").title != "Test IVR"
    assert "Plugin telephone from ? ignored" in caplog.text


def test_a_plugin_that_does_not_say_who_it_is_is_not_offered(entry_points_found):
    # plugins.types is a module with no hook implementations at all.
    entry_points_found([EntryPoint("silent", "plugins.types", "ims.plugins")])

    assert "silent" not in {plugin.name for plugin in manager.installed_plugins()}
    with pytest.raises(manager.PluginNotInstalled):
        manager.plugin_info("silent")


def test_call_reaches_only_the_named_plugin(test_plugins):
    card = manager.call("test_card_provider", "ims_plugin_info")
    ivr = manager.call("test_ivr", "ims_plugin_info")

    assert (card.name, ivr.name) == ("test_card_provider", "test_ivr")


def test_a_hook_the_named_plugin_does_not_implement_answers_none(test_plugins):
    class Integration:
        config = {"merchant_id": "acct_1"}

    class Payment:
        pk = 7

    started = manager.call(
        "test_card_provider",
        "ims_provider_start",
        integration=Integration(),
        payment=Payment(),
        return_url="",
    )
    # Another plugin implements ims_provider_start, but the IVR does not: its answer is none.
    not_started = manager.call(
        "test_ivr",
        "ims_provider_start",
        integration=Integration(),
        payment=Payment(),
        return_url="",
    )

    assert started == ProviderStart(
        next_url="https://pay.provider.example/acct_1/7", provider_reference="test-7"
    )
    assert not_started is None


def test_calling_a_plugin_that_is_not_installed_says_so():
    with pytest.raises(manager.PluginNotInstalled, match="No plugin named 'nowhere'"):
        manager.call("nowhere", "ims_plugin_info")
