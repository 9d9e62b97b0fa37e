"""The app manifest asks for what the adapter uses, and ships with the package."""

from __future__ import annotations

from importlib.resources import files

import pytest


def test_manifest_declares_the_command_scopes_and_socket_mode() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load(files("adapters").joinpath("slack_manifest.yaml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/papers" and command["should_escape"] is False
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "im:history",
        "users:read",
    }
    # direct messages are commands; the Home tab is published when opened
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert events == ["message.im", "app_home_opened"]
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert home["home_tab_enabled"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert len(manifest["display_information"]["long_description"]) >= 175
