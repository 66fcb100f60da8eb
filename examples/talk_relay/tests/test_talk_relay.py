"""The example plugin's own test: its message check and settings check, and the host loading it as installed."""

import pytest

from shangliang.core.plugins import create_plugin_manager
from shangliang.federation.errors import InvalidBody
from shangliang.federation.kinds import registry

import shangliang_talk_relay
from shangliang_talk_relay import services

TALK = {"title": "双山村民情恳谈会", "held_on": "2026-12-01", "points": ["村道路灯不亮"]}


def test_a_talk_fits():
    services.validate(TALK)


@pytest.mark.parametrize("body, error", [
    ({**TALK, "held_on": "12/01"}, "held_on"),
    ({**TALK, "points": []}, "points"),
    ({**TALK, "extra": 1}, "unknown field"),
    ({k: v for k, v in TALK.items() if k != "title"}, "title"),
])
def test_a_talk_that_does_not_fit_is_refused_naming_the_field(body, error):
    with pytest.raises(InvalidBody, match=error):
        services.validate(body)


def test_an_unknown_role_is_refused_naming_the_setting():
    assert "plugins.talk_relay.notify_role" in services.check_settings({"notify_role": "nobody"})[0]
    assert services.check_settings(services.CONFIG_DEFAULTS) == []


def test_enabled_its_kind_is_registered():
    pm = create_plugin_manager(["talk_relay"])
    assert pm.get_plugin("talk_relay") is shangliang_talk_relay
    assert registry(pm)["x-talk_relay.talk"] is services.TALK
    assert "x-talk_relay.talk" not in registry(create_plugin_manager())
