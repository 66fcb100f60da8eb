"""Configuration is read in the Flask tutorial's order: defaults, node.toml, environment, test config."""

import pytest

from shangliang.core.app import create_app
from shangliang.core.errors import ConfigError, UnknownPluginError


def test_precedence_defaults_toml_environment_test_config(node_dir, monkeypatch):
    assert create_app(node_dir).config["HEARTBEAT_SECONDS"] == 30  # default
    text = (node_dir / "node.toml").read_text(encoding="utf-8")
    (node_dir / "node.toml").write_text("heartbeat_seconds = 5\n" + text, encoding="utf-8")
    assert create_app(node_dir).config["HEARTBEAT_SECONDS"] == 5  # node.toml over defaults
    monkeypatch.setenv("SHANGLIANG_HEARTBEAT_SECONDS", "7")
    assert create_app(node_dir).config["HEARTBEAT_SECONDS"] == 7  # environment over node.toml
    assert create_app(node_dir, test_config={"HEARTBEAT_SECONDS": 9}).config["HEARTBEAT_SECONDS"] == 9


def test_environment_supplies_the_secret_key(node_dir, monkeypatch):
    (node_dir / "secret_key").unlink()
    with pytest.raises(ConfigError, match="no secret key"):
        create_app(node_dir)
    monkeypatch.setenv("SHANGLIANG_SECRET_KEY", "from-the-environment")
    assert create_app(node_dir).config["SECRET_KEY"] == "from-the-environment"


@pytest.mark.parametrize(
    "toml, error, setting",
    [
        ('colour = "red"\n', "unknown setting", "colour"),
        ('level = "city"\n', "contradicts id", "level"),
        ('parent = "6204"\n', "is not the parent", "parent"),
        ('locale = "fr"\n', "unsupported locale", "locale"),
        ('database_url = "postgresql://u:pw@127.0.0.1/x"\n', "password does not belong", "database_url"),
    ],
)
def test_bad_settings_name_the_setting(node_dir, toml, error, setting):
    key = toml.split("=")[0].strip()
    lines = (node_dir / "node.toml").read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith(f"{key} ="))
    (node_dir / "node.toml").write_text(toml + text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error) as info:
        create_app(node_dir)
    assert info.value.setting == setting


def test_bad_calendar_date_is_refused(node_dir):
    text = (node_dir / "node.toml").read_text(encoding="utf-8").replace("holidays = []", 'holidays = ["2026-13-01"]')
    (node_dir / "node.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="calendar.holidays"):
        create_app(node_dir)


def test_unknown_enabled_plugin_is_refused(node_dir):
    text = (node_dir / "node.toml").read_text(encoding="utf-8").replace("enabled = []", 'enabled = ["nope"]')
    (node_dir / "node.toml").write_text(text, encoding="utf-8")
    with pytest.raises(UnknownPluginError, match="unknown plugin 'nope'"):
        create_app(node_dir)


def test_missing_node_directory_is_named(tmp_path):
    from shangliang.core.errors import NodeDirectoryError

    with pytest.raises(NodeDirectoryError, match="node.toml not found"):
        create_app(tmp_path / "nowhere")
