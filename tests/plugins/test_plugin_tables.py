"""Plugins that own tables, the core versions a plugin supports, and the named errors of a plugin that is unknown,
incompatible, misconfigured, misspelled or failing (issue 14, item 4 and "Bad input").

The plugins are the test-only package ``tests/plugins/notes_plugin`` (a table, two migrations, a command that
writes the table, hooks that fail when told to) and its modules ``misspelled`` and ``too_new``, installed for
the test only: a distribution's ``entry_points.txt`` on a folder put on ``sys.path`` and, for the node
processes, on ``PYTHONPATH``. Every node is made by the suite's factory, on SQLite or on PostgreSQL
(``SHANGLIANG_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import tomlkit

from shangliang.core import migrate
from shangliang.core.app import create_app
from shangliang.core.db import make_engine
from shangliang.core.errors import ConfigError, DatabaseNotCurrent, IncompatiblePluginError, PluginFailed
from shangliang.core.plugins import create_plugin_manager

from ..nodes import Node, free_port

TOWNSHIP = "620302001"
PASSWORD = "correct-horse"
ENTRY_POINTS = """[shangliang.plugins]
notes = shangliang.tests.plugins.notes_plugin
misspelled = shangliang.tests.plugins.notes_plugin.misspelled
too_new = shangliang.tests.plugins.notes_plugin.too_new
"""


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Path:
    """The test plugins installed for this test: visible to ``entry_points()`` here and in node processes."""
    site = tmp_path / "site"
    dist = site / "shangliang_test_notes-0.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shangliang-test-notes\nVersion: 0.0.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    return site


def _node(make_node, installed, **kwargs) -> Node:
    node = Node(make_node(node_id=TOWNSHIP, name="宁远堡镇政协联络组", **kwargs))
    node.env["PYTHONPATH"] = str(installed)
    return node


def _toml(node: Node) -> str:
    return (node.dir / "node.toml").read_text(encoding="utf-8")


def _enabled(node: Node) -> list[str]:
    return tomllib.loads(_toml(node))["plugins"]["enabled"]


def _url(node: Node) -> str:
    return tomllib.loads(_toml(node))["database_url"]


def _tables(node: Node) -> set[str]:
    engine = make_engine(_url(node))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _sql(node: Node, statement: str) -> list:
    engine = make_engine(_url(node))
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(statement))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _set_toml(node: Node, enabled: list[str] | None = None, **notes_settings) -> None:
    """Edit node.toml by hand, as an administrator would (no checks, no migrations)."""
    path = node.dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    if enabled is not None:
        document["plugins"]["enabled"] = enabled
    if notes_settings:
        document["plugins"]["notes"] = notes_settings
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def _audit_actions(node: Node) -> list[str]:
    return [line.split()[2] for line in node.run("audit", "list", "--limit", "50").splitlines()[2:] if line.strip()]


# -- tables and migrations -----------------------------------------------------------------------------------


def test_enable_migrates_disable_keeps_the_rows_purge_drops_them_after_confirmation(make_node, installed):
    node = _node(make_node, installed)
    assert "notes_plugin_notes" not in _tables(node)

    assert "plugin notes enabled" in node.run("plugins", "enable", "notes")
    assert {"notes_plugin_notes", "alembic_version_notes"} <= _tables(node)
    assert _sql(node, "SELECT version_num FROM alembic_version_notes") == [("notes_0002",)]
    assert _sql(node, "SELECT version_num FROM alembic_version") == [(migrate.head_revision(),)]  # the core's own
    node.run("notes", "add", "村口路灯坏了")
    assert node.run("notes", "list").split() == ["村口路灯坏了"]
    assert "plugin.enable" in _audit_actions(node)
    migrate.require_current(_url(node), plugins=["notes"])

    # Disabled: the table, its rows and its revision stay; the core's checks do not mind them.
    node.run("plugins", "disable", "notes")
    assert _enabled(node) == []
    assert _sql(node, "SELECT body FROM notes_plugin_notes") == [("村口路灯坏了",)]
    assert "database already at" in node.run("db", "upgrade")
    migrate.require_current(_url(node), plugins=[])

    # Enabled again: found current, the rows are there.
    node.run("plugins", "enable", "notes")
    assert node.run("notes", "list").split() == ["村口路灯坏了"]

    # --purge asks first; without a yes nothing changes.
    for answer in (None, "n\n"):
        refused = node.invoke("plugins", "disable", "notes", "--purge", input=answer)
        assert refused.returncode == 2 and "nothing purged" in refused.stderr
        assert _enabled(node) == ["notes"] and "notes_plugin_notes" in _tables(node)

    purged = node.run("plugins", "disable", "notes", "--purge", input="y\n")
    assert "disabled, its tables dropped" in purged
    assert _enabled(node) == []
    assert not {"notes_plugin_notes", "alembic_version_notes"} & _tables(node)
    assert "plugin.purge" in _audit_actions(node)
    assert "audit log intact" in node.run("audit", "verify")

    # Purging a disabled plugin's leftovers: --yes instead of the prompt.
    node.run("plugins", "enable", "notes")
    node.run("plugins", "disable", "notes")
    assert "notes_plugin_notes" in _tables(node)
    node.run("plugins", "disable", "notes", "--purge", "--yes")
    assert "notes_plugin_notes" not in _tables(node)


def test_a_failing_migration_leaves_node_toml_and_the_database_as_they_were(make_node, installed):
    node = _node(make_node, installed)
    # A table of that name is already there (someone made it by hand): the plugin's first revision fails.
    _sql(node, "CREATE TABLE notes_plugin_notes (id INTEGER PRIMARY KEY, kept TEXT)")
    _sql(node, "INSERT INTO notes_plugin_notes (id, kept) VALUES (1, 'mine')")
    before = _toml(node)
    audit_rows = _audit_actions(node)

    refused = node.invoke("plugins", "enable", "notes")
    assert refused.returncode == 2
    assert "plugin 'notes': migration failed" in refused.stderr and "nothing of it was applied" in refused.stderr
    assert _toml(node) == before
    assert "alembic_version_notes" not in _tables(node)
    assert _sql(node, "SELECT id, kept FROM notes_plugin_notes") == [(1, "mine")]
    assert _audit_actions(node) == audit_rows


def test_start_up_refuses_an_enabled_plugin_whose_migrations_are_not_applied_until_db_upgrade(make_node, installed):
    node = _node(make_node, installed)
    _set_toml(node, enabled=["notes"])  # by hand: nothing migrated

    with pytest.raises(DatabaseNotCurrent, match=r"plugin 'notes'.s tables are at revision none, not notes_0002: "
                                                 r"run shangliang db upgrade"):
        migrate.require_current(_url(node), plugins=["notes"])
    refused = node.invoke("worker")
    assert refused.returncode == 2 and "plugin 'notes'" in refused.stderr and "db upgrade" in refused.stderr
    current = node.run("db", "current")
    assert "plugin notes: none (head notes_0002)" in current and "run: shangliang db upgrade" in current

    upgraded = node.run("db", "upgrade")
    assert "plugin notes: upgraded from empty to notes_0002" in upgraded
    migrate.require_current(_url(node), plugins=["notes"])
    assert "plugin notes: already at notes_0002" in node.run("db", "upgrade")
    current = node.run("db", "current")
    assert "plugin notes: notes_0002 (head notes_0002)" in current and "run:" not in current


def test_enabling_a_plugin_with_tables_on_a_database_behind_the_core_is_refused(make_node, installed):
    node = _node(make_node, installed)
    _sql(node, "UPDATE alembic_version SET version_num = '0015'")
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "notes")
    assert refused.returncode == 2 and "is at revision 0015" in refused.stderr and "db upgrade" in refused.stderr
    assert _toml(node) == before and "notes_plugin_notes" not in _tables(node)


def test_init_with_a_plugin_that_has_tables_migrates_them(make_node, installed):
    node = _node(make_node, installed, plugins=("notes",))
    assert _sql(node, "SELECT version_num FROM alembic_version_notes") == [("notes_0002",)]


# -- bad input: each a named error, node.toml untouched -------------------------------------------------------


def test_an_unknown_plugin_is_refused_by_name(make_node, installed):
    node = _node(make_node, installed)
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "nosuch")
    assert refused.returncode == 2
    assert "unknown plugin 'nosuch'; installed:" in refused.stderr and "notes" in refused.stderr
    assert _toml(node) == before


def test_a_plugin_made_for_another_core_is_refused_at_enable_and_at_start_up(make_node, installed):
    node = _node(make_node, installed)
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "too_new")
    assert refused.returncode == 2
    assert "plugin 'too_new' supports shangliang >=99; this node runs shangliang" in refused.stderr
    assert _toml(node) == before

    listed = {p["name"]: p for p in node.run_json("plugins", "list")}
    assert (listed["too_new"]["requires_core"], listed["too_new"]["compatible"]) == (">=99", False)
    assert (listed["notes"]["requires_core"], listed["notes"]["compatible"], listed["notes"]["migrations"]) == \
        (">=0.1,<1", True, True)
    assert "(not this core)" in node.run("plugins", "list")

    _set_toml(node, enabled=["too_new"])  # enabled by hand, or before the core was upgraded
    with pytest.raises(IncompatiblePluginError, match="supports shangliang >=99"):
        create_app(node.dir)
    started = node.invoke("db", "upgrade")
    assert started.returncode == 2 and "plugin 'too_new' supports shangliang >=99" in started.stderr


def test_every_shipped_practice_states_the_core_versions_it_supports(make_node, installed):
    node = _node(make_node, installed)
    shipped = [p for p in node.run_json("plugins", "list") if p["module"].startswith("shangliang.plugins.")]
    assert shipped and all(p["requires_core"] and p["compatible"] for p in shipped), \
        [p["name"] for p in shipped if not (p["requires_core"] and p["compatible"])]


def test_settings_that_fail_validation_are_refused(make_node, installed):
    node = _node(make_node, installed, extra_toml='\n[plugins.notes]\nbogus = 1\n')
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "notes")
    assert refused.returncode == 2 and "unknown setting(s) bogus for plugin 'notes'" in refused.stderr
    assert _toml(node) == before and "notes_plugin_notes" not in _tables(node)


def test_a_misspelled_hook_names_the_plugin_and_the_hook(make_node, installed):
    node = _node(make_node, installed)
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "misspelled")
    assert refused.returncode == 2
    assert ("plugin 'misspelled' implements hook 'topic_transiton_guard', which does not exist "
            "(did you mean topic_transition_guard?)") in refused.stderr
    assert _toml(node) == before
    _set_toml(node, enabled=["misspelled"])
    with pytest.raises(ConfigError, match="plugin 'misspelled' implements hook 'topic_transiton_guard'"):
        create_app(node.dir)


def test_a_plugin_raising_in_node_configured_is_named_and_nothing_is_changed(make_node, installed):
    node = _node(make_node, installed, extra_toml='\n[plugins.notes]\nfail_in = "node_configured"\n')
    before = _toml(node)
    refused = node.invoke("plugins", "enable", "notes")
    assert refused.returncode == 2
    assert ("plugin 'notes' failed in hook node_configured: RuntimeError: the notes plugin cannot read its settings"
            in refused.stderr)
    assert _toml(node) == before and "notes_plugin_notes" not in _tables(node)


# -- a plugin that fails inside a hook ----------------------------------------------------------------------


def _basic(user: str = "wang") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


ROAD = {"title": "两镇之间道路维修", "description": "连接两镇的道路破损严重", "category": "交通",
        "areas": ["620302001"], "raised_by_kind": "public", "raised_by_name": "村民代表"}


def test_a_plugin_raising_in_a_guard_refuses_the_action_by_name_stores_nothing_and_the_node_serves_on(
        make_node, installed):
    node = _node(make_node, installed, url=f"http://127.0.0.1:{free_port()}")
    node.run("users", "add", "wang", "--role", "office", "--name", "王主任", "--password-stdin", input=PASSWORD + "\n")
    node.run("plugins", "enable", "notes")
    _set_toml(node, fail_in="topic_transition_guard")
    node.start(with_worker=False)
    try:
        created = requests.post(node.url + "/api/v1/topics", json=ROAD, headers=_basic(), timeout=30)
        assert created.status_code == 201, created.text
        uid = created.json()["topic"]["uid"]
        audit_rows = _audit_actions(node)

        failed = requests.post(f"{node.url}/api/v1/topics/{uid}/actions", headers=_basic(), timeout=30,
                               json={"action": "advance", "to_stage": "determined"})
        assert failed.status_code == 500, failed.text
        error = failed.json()["error"]
        assert error["code"] == "plugin_failed"
        assert error["message"] == "plugin 'notes' failed in hook topic_transition_guard: KeyError: 'stage_notes'"

        shown = node.get(f"/api/v1/topics/{uid}", headers=_basic())  # the next request is served
        assert shown.status_code == 200
        assert shown.json()["stage"] == "collected" and [e["action"] for e in shown.json()["events"]] == ["raised"]
        assert _audit_actions(node) == audit_rows
        assert node.get("/healthz").status_code == 200
    finally:
        node.stop()


def test_a_refusal_on_purpose_passes_through_and_a_page_shows_a_failure_readably(make_node, installed):
    node = _node(make_node, installed)
    node.run("users", "add", "wang", "--role", "office", "--name", "王主任", "--password-stdin", input=PASSWORD + "\n")
    node.run("plugins", "enable", "notes")
    _set_toml(node, fail_in="refuse")
    app = create_app(node.dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        uid = client.post("/api/v1/topics", json=ROAD, headers=_basic()).get_json()["topic"]["uid"]
        refused = client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": "determined"},
                              headers=_basic())
        assert refused.status_code == 400
        error = refused.get_json()["error"]
        assert (error["code"], error["message"]) == ("invalid_input", "the notes plugin refuses this change on purpose")
    finally:
        app.extensions["shangliang.db"].engine.dispose()

    _set_toml(node, fail_in="topic_transition_guard")
    app = create_app(node.dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        assert client.post("/login", data={"username": "wang", "password": PASSWORD}).status_code == 302
        page = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "determined"})
        assert page.status_code == 500
        html = page.get_data(as_text=True)
        assert "notes" in html and "topic_transition_guard" in html and "KeyError" in html
        assert client.get(f"/api/v1/topics/{uid}", headers=_basic()).get_json()["stage"] == "collected"
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_only_enabled_installed_plugins_are_guarded_and_a_refusal_is_not_wrapped(installed):
    pm = create_plugin_manager(["notes"])
    impls = {impl.plugin_name: impl for impl in pm.hook.node_configured.get_hookimpls()}
    with pytest.raises(PluginFailed) as failed:
        impls["notes"].function(config={}, plugin_config={"notes": {"fail_in": "node_configured"}})
    assert (failed.value.plugin, failed.value.hook) == ("notes", "node_configured")
    builtin = [impl for impl in pm.hook.topic_transition_guard.get_hookimpls() if impl.plugin_name != "notes"]
    assert builtin and not any(getattr(impl.function, "__shangliang_guarded__", False) for impl in builtin)


def test_configuring_a_disabled_plugin_whose_check_raises_is_refused_by_name(make_node, installed):
    node = _node(make_node, installed)
    before = _toml(node)
    refused = node.invoke("plugins", "configure", "notes", "fail_in=node_configured")
    assert refused.returncode == 2
    assert "plugin 'notes' failed in hook node_configured: RuntimeError" in refused.stderr
    assert _toml(node) == before
