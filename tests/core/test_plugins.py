"""The plugin host: built-ins always on, installed plugins only where enabled, misspelled hooks caught at start."""

import inspect
import json
import re
from pathlib import Path

import pytest
import tomllib

from shangliang.core import hookspecs
from shangliang.core.app import create_app
from shangliang.core.errors import ConfigError
from shangliang.core.plugins import BUILTIN_PLUGINS, builtin_name, get_plugin_manager, hookimpl, installed_plugins

from ..conftest import invoke

LEVEL_PLUGINS = {"leader_follow_up": "province", "consultation_home": "township", "quarterly_forum": "county",
                 "work_station": "township", "plan_approval": "county", "topic_selection": "city",
                 "huzhou_1246": "city", "three_together": "city", "six_step": "province",
                 "baotou_321": "city", "five_ones": "county", "four_ones": "city",
                 "democratic_appraisal": "county"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def test_one_plugin_manager_per_app_with_the_builtins(node_dir):
    first, second = create_app(node_dir), create_app(node_dir)
    pm = get_plugin_manager(first)
    assert pm is not get_plugin_manager(second)
    names = {name for name, _ in pm.list_name_plugin()}
    assert {builtin_name(m) for m in BUILTIN_PLUGINS} == names  # nothing installed runs unless enabled


def test_level_plugins_are_installed_through_entry_points():
    found = installed_plugins()
    assert {name: ep.value.split(".")[2] for name, ep in found.items() if name in LEVEL_PLUGINS} == LEVEL_PLUGINS


def test_the_installed_plugins_are_found_again_once_a_distribution_is_installed_or_removed(tmp_path, monkeypatch):
    """installed_plugins keeps its answer while no folder of sys.path changes: a distribution installed into
    one (its *.dist-info folder) or removed from it is seen at the next call."""
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "made_up_practice" not in installed_plugins()
    info = tmp_path / "made_up_practice-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: made-up-practice\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[shangliang.plugins]\nmade_up_practice = json\n", encoding="utf-8")
    assert installed_plugins()["made_up_practice"].value == "json"
    assert installed_plugins() == installed_plugins()  # kept: the same answer again
    (info / "METADATA").unlink()
    (info / "entry_points.txt").unlink()
    info.rmdir()
    assert "made_up_practice" not in installed_plugins()


def test_an_enabled_plugin_is_registered(make_node):
    app = create_app(make_node(node_id="6203", name="金昌市政协", plugins=["consultation_home"]))
    assert get_plugin_manager(app).get_plugin("consultation_home") is not None


class Misspelled:
    @hookimpl
    def node_configurd(self, config):  # noqa: the typo is the point
        return None


def test_a_misspelled_hook_fails_at_start(node_dir):
    with pytest.raises(ConfigError, match=r"plugin 'Misspelled' implements hook 'node_configurd', which does not "
                                          r"exist \(did you mean node_configured\?\)"):
        create_app(node_dir, plugins=[Misspelled()])


class Refuses:
    @hookimpl
    def node_configured(self, config, plugin_config):
        return [f"level {config['NODE_LEVEL']} is not served by this plugin (setting: plugins.refuses)"]


def test_a_plugin_can_refuse_the_configuration(node_dir):
    with pytest.raises(ConfigError, match="level county is not served"):
        create_app(node_dir, plugins=[Refuses()])


def test_plugins_list_shows_level_plugins_enabled_state_and_hooks(runner, make_node):
    node_dir = make_node(node_id="620302001", name="宁远堡镇委员工作站",
                         extra_toml='\n[plugins.work_station]\ndeputies = ["M1"]\n')
    assert invoke(runner, node_dir, "plugins", "enable", "work_station").exit_code == 0
    result = invoke(runner, node_dir, "plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    for name, level in LEVEL_PLUGINS.items():
        assert rows[name]["level"] == level and rows[name]["kind"] == "installed"
        assert rows[name]["hooks"], f"{name} implements no hook"
        assert rows[name]["enabled"] == (name == "work_station")
    assert rows["notifications"]["hooks"] == ["deliver_notification"] and rows["notifications"]["kind"] == "builtin"
    # settings: an installed plugin's defaults with what this node sets over them; a feature's declared ones
    assert rows["work_station"]["settings"]["deputies"] == ["M1"]
    assert set(rows["six_step"]["settings"]) >= {"enforced", "min_description"}
    assert "topics.overdue_seconds" in rows["topics"]["settings"]
    text = invoke(runner, node_dir, "plugins", "list").output
    assert re.search(r"work_station\s+installed\s+township\s+yes\s+\S", text)
    assert "deputies" in text


def test_enable_and_disable_edit_node_toml_and_the_audit_log(runner, make_node):
    node_dir = make_node(node_id="6203", name="金昌市政协")
    result = invoke(runner, node_dir, "plugins", "enable", "quarterly_forum")
    assert result.exit_code == 0, result.output
    assert tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))["plugins"]["enabled"] == ["quarterly_forum"]
    assert get_plugin_manager(create_app(node_dir)).get_plugin("quarterly_forum") is not None
    assert invoke(runner, node_dir, "plugins", "disable", "quarterly_forum").exit_code == 0
    assert tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))["plugins"]["enabled"] == []
    actions = [row["action"] for row in json.loads(invoke(runner, node_dir, "audit", "list", "--json").output)]
    assert actions[:2] == ["plugin.disable", "plugin.enable"]
    assert invoke(runner, node_dir, "audit", "verify").exit_code == 0


def test_enabling_an_unknown_plugin_changes_nothing(runner, node_dir):
    before = (node_dir / "node.toml").read_bytes()
    result = invoke(runner, node_dir, "plugins", "enable", "no_such_plugin")
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error: unknown plugin 'no_such_plugin'; installed:")
    assert (node_dir / "node.toml").read_bytes() == before


def test_enabling_a_plugin_whose_settings_are_refused_changes_nothing(runner, make_node):
    node_dir = make_node(node_id="620302001", name="宁远堡镇委员工作站")
    before = (node_dir / "node.toml").read_bytes()
    # work_station needs one or two deputies; none are configured.
    result = invoke(runner, node_dir, "plugins", "enable", "work_station")
    assert result.exit_code == 2 and "deputies" in result.output
    assert (node_dir / "node.toml").read_bytes() == before


def _documented_hooks() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r"^### `(\w+)\(([^)]*)\)`", text, flags=re.M)}


def test_every_hook_is_documented_with_its_signature_and_an_example():
    text = DOCS.read_text(encoding="utf-8")
    documented = _documented_hooks()
    from shangliang.federation import hookspecs as federation_hookspecs

    specs = [*inspect.getmembers(hookspecs, inspect.isfunction), *inspect.getmembers(federation_hookspecs, inspect.isfunction)]
    for name, spec in specs:
        if not hasattr(spec, "shangliang_spec"):
            continue
        assert name in documented, f"hook {name} is not documented in docs/plugins.md"
        params = ", ".join(inspect.signature(spec).parameters)
        assert documented[name] == f"### `{name}({params})`", f"docs/plugins.md has the wrong signature for {name}"
        section = text.split(documented[name], 1)[1].split("\n### ", 1)[0]
        assert "@hookimpl" in section and f"def {name}(" in section, f"docs/plugins.md has no example for {name}"


def test_every_builtin_plugin_is_listed_in_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("## Built-in plugins", 1)[1].split("\n## ", 1)[0]
    for module in BUILTIN_PLUGINS:
        assert f"| `{builtin_name(module)}` | `{module}` |" in table, f"built-in plugin {module} is not in docs/plugins.md"
