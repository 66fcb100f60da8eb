"""Every setting is declared with its default, settable in node.toml and the environment, and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from shangliang.core import config as node_config
from shangliang.core.app import create_app
from shangliang.core.errors import ConfigError

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _rows() -> list[list[str]]:
    """The reference's table rows as columns: node.toml, environment, default, meaning."""
    return [[cell.strip() for cell in line.strip("|").split(" | ")]
            for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.startswith("| `") or line.startswith("| —")]


def documented(toml: str, env: str | None) -> bool:
    """A row of the reference names the node.toml key in its first column and the environment variable in its second."""
    return any(f"`{toml}`" in row[0] and (env is None or f"`{env}`" in row[1]) for row in _rows())


def test_every_core_setting_is_in_the_reference():
    for key, name in node_config.TOML_KEYS.items():
        assert documented(key, f"SHANGLIANG_{name}"), f"{key} (SHANGLIANG_{name}) is not in docs/configuration.md"
    for key in node_config.CALENDAR_KEYS:
        assert any("[calendar]" in row[0] and f"`{key}`" in row[0] for row in _rows()), f"calendar.{key} is not documented"
    for env in ("SHANGLIANG_SECRET_KEY", "SHANGLIANG_KEY_PASSPHRASE", "SHANGLIANG_PLUGINS_ENABLED"):
        assert any(f"`{env}`" in row[1] for row in _rows()), f"{env} is not documented"


def test_every_declared_setting_is_in_the_reference_with_its_default():
    declared = node_config.declared_settings()
    assert {"TOPICS_ATTACHMENT_MAX_BYTES", "TOPICS_OVERDUE_SECONDS", "FEDERATION_TRANSFER_DAYS"} <= set(declared)
    for setting in declared.values():
        row = next((r for r in _rows() if r[0] == f"`[{setting.section}] {setting.name}`"), None)
        assert row is not None, f"{setting.toml} is not in docs/configuration.md"
        assert row[1] == f"`{setting.env}`" and row[2].startswith(f"`{setting.default}`"), f"{setting.toml}: {row}"


def test_the_reference_check_fails_for_a_setting_it_does_not_list():
    assert not documented("no_such_setting", "SHANGLIANG_NO_SUCH_SETTING")


def test_a_feature_setting_is_read_from_node_toml_then_the_environment(make_node, monkeypatch):
    node_dir = make_node(extra_toml="\n[topics]\noverdue_seconds = 120\n\n[federation]\ntransfer_days = 14\n")
    app = create_app(node_dir)
    assert app.config["TOPICS_OVERDUE_SECONDS"] == 120 and app.config["FEDERATION_TRANSFER_DAYS"] == 14
    assert app.config["TOPICS_ATTACHMENT_MAX_BYTES"] == 20 * 1024 * 1024  # the declared default
    app.extensions["shangliang.db"].engine.dispose()
    monkeypatch.setenv("SHANGLIANG_TOPICS_OVERDUE_SECONDS", "90")
    app = create_app(node_dir)
    assert app.config["TOPICS_OVERDUE_SECONDS"] == 90
    app.extensions["shangliang.db"].engine.dispose()


@pytest.mark.parametrize("toml, problem", [
    ("[topics]\noverdue = 5\n", "unknown setting; known: attachment_max_bytes, overdue_seconds (setting: topics.overdue"),
    ("[topics]\noverdue_seconds = 0\n", "(setting: topics.overdue_seconds"),
    ("[federation]\ntransfer_days = 31\n", "from 1 to 30"),
    ("[federation]\npump_seconds = \"fast\"\n", "must be a number of seconds"),
    ("[nonsense]\nx = 1\n", "unknown setting"),
])
def test_a_refused_feature_setting_names_itself(make_node, toml, problem):
    node_dir = make_node(extra_toml="\n" + toml)
    with pytest.raises(ConfigError) as refused:
        create_app(node_dir)
    assert problem in str(refused.value)
