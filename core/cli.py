"""The ``shangliang`` command line: node set-up, serving, workers, database, plugins, users, members, audit."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import tomlkit

from . import config as node_config
from .clitools import CommandError, _os_user, emit, get_app, table, with_appcontext  # noqa: F401  (plugins import them from here)
from .errors import ConfigError, InputError, NodeDirectoryError, ShangliangError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class NodeGroup(click.Group):
    """The root group: adds the commands of the node's enabled plugins, turns errors into one line."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        cache = ctx.meta.setdefault("shangliang.plugin_commands", {})
        if "commands" in cache:
            return cache["commands"]
        cache["commands"] = {}
        node_dir = node_config.resolve_node_dir(ctx.params.get("node"))
        if node_dir is None or not (node_dir / node_config.NODE_FILE).is_file():
            return cache["commands"]
        from .plugins import create_plugin_manager

        try:
            settings = node_config.read_node_toml(node_dir)
            pm = create_plugin_manager(settings.get("PLUGINS_ENABLED") or [])
        except ShangliangError:
            return cache["commands"]  # the command itself will report the configuration problem
        for found in pm.hook.register_commands(cli=self):
            for command in found if isinstance(found, (list, tuple)) else [found] if found else []:
                if command.name in self.commands:
                    raise CommandError(f"a plugin command is named like the core command {command.name!r}")
                cache["commands"][command.name] = command
        return cache["commands"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShangliangError as exc:
            raise CommandError(str(exc)) from None


@click.group(cls=NodeGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--node", "node", metavar="DIR", envvar="SHANGLIANG_NODE",
              help="The node directory (default: $SHANGLIANG_NODE, or the current directory if it holds node.toml).")
@click.version_option(package_name="shangliang", prog_name="shangliang")
@click.pass_context
def cli(ctx: click.Context, node: str | None) -> None:
    """Shangliang (商量): a consultation node of the CPPCC at one level."""
    ctx.obj = {"node": node}


# ---------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--id", "node_id", required=True, help="Division code of the node's unit, e.g. 620302.")
@click.option("--name", required=True, help="The committee's name, e.g. 金川区政协.")
@click.option("--url", required=True, help="The node's public base URL, e.g. https://zx.example.gov.cn.")
@click.option("--level", type=click.Choice(["province", "city", "county", "township", "village"]),
              help="Only for non-standard ids; derived from the code otherwise.")
@click.option("--parent", help="Only for non-standard ids; derived from the code otherwise.")
@click.option("--database-url", help="Default: SQLite file node.db in the node directory.")
@click.option("--broker-url", help="Default: the embedded broker, broker.sqlite in the node directory.")
@click.option("--locale", type=click.Choice(list(node_config.SUPPORTED_LOCALES)), default="zh_CN", show_default=True)
@click.option("--plugin", "plugins", multiple=True, help="Enable an installed plugin (repeatable).")
def init(directory: Path, node_id: str, name: str, url: str, level: str | None, parent: str | None,
         database_url: str | None, broker_url: str | None, locale: str, plugins: tuple[str, ...]) -> None:
    """Create a node directory: node.toml, a secret key, a migrated database.

    All or nothing: a refused init leaves no node directory behind.
    """
    from . import migrate
    from .app import create_app
    from .celery_app import check_broker

    directory = directory.resolve()
    if directory.exists():
        raise NodeDirectoryError(f"node directory {directory} already exists; choose another or remove it")
    document = tomlkit.document()
    document.add(tomlkit.comment("Shangliang node configuration. Secrets go in the environment or secret_key, never here."))
    document["id"] = node_id
    document["name"] = name
    document["url"] = url
    if level:
        document["level"] = level
    if parent:
        document["parent"] = parent
    document["locale"] = locale
    if database_url:
        document["database_url"] = database_url
    if broker_url:
        document["broker_url"] = broker_url
    plugins_table = tomlkit.table()
    plugins_table["enabled"] = list(plugins)
    document["plugins"] = plugins_table
    calendar = tomlkit.table()
    calendar.add(tomlkit.comment("Public holidays and the weekend days worked instead (调休), as YYYY-MM-DD."))
    calendar["holidays"] = []
    calendar["workdays"] = []
    document["calendar"] = calendar

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.init-", dir=directory.parent))
    try:
        (staging / node_config.NODE_FILE).write_text(tomlkit.dumps(document), encoding="utf-8")
        secret = staging / node_config.SECRET_FILE
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        # Validate everything (ids, plugins, URLs) before touching any database.
        app = create_app(staging)
        db_url = app.config["DATABASE_URL"]
        check_broker(app.extensions["celery"])
        app.extensions["shangliang.db"].engine.dispose()
        migrate.upgrade(db_url)
        from shangliang.federation import keys as node_keys

        with app.app_context():
            from .db import transaction

            with transaction(actor=f"cli:{_os_user()}") as session:
                node_keys.generate(session, staging)
        app.extensions["shangliang.db"].engine.dispose()
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    click.echo(f"initialised {app.config['NODE_LEVEL']} node {app.config['NODE_ID']} ({name}) in {directory}")
    click.echo(f"next: shangliang --node {directory} users add admin --role admin")
    click.echo(f"      shangliang --node {directory} serve")


# ---------------------------------------------------------------------------
# serve, worker, beat
# ---------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), help="Default: the port of the node's public URL.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--with-worker/--no-worker", "with_worker", default=None,
              help="Also run a Celery worker and beat (default: on with the embedded broker, off otherwise).")
def serve(host: str, port: int | None, workers: int, with_worker: bool | None) -> None:
    """Serve the node's web app with gunicorn (and, on the embedded defaults, its worker and beat)."""
    from .serve import serve_node

    app = get_app()
    serve_node(app, host=host, port=port, workers=workers, with_worker=with_worker)


@cli.command()
@click.option("--beat", is_flag=True, help="Also run the beat scheduler in this worker (one per node).")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--loglevel", default="INFO", show_default=True)
def worker(beat: bool, concurrency: int, loglevel: str) -> None:
    """Run a Celery worker for this node's tasks."""
    from .serve import run_worker

    run_worker(get_app(), beat=beat, concurrency=concurrency, loglevel=loglevel)


@cli.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the Celery beat scheduler with the schedules of the core and the enabled plugins."""
    from .serve import run_beat

    run_beat(get_app(), loglevel=loglevel)


# ---------------------------------------------------------------------------
# db
# ---------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The node database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the shipped migrations."""
    from . import migrate

    app = get_app()
    before, after = migrate.upgrade(app.config["DATABASE_URL"], revision)
    if before == after:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the shipped head."""
    from . import migrate
    from .db import check_database, get_db

    app = get_app()
    engine = get_db(app).engine
    check_database(app.config["DATABASE_URL"], engine)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    click.echo(f"current: {current or 'none'}\nhead:    {head}" + ("" if current == head else "\nrun: shangliang db upgrade"))


# ---------------------------------------------------------------------------
# plugins
# ---------------------------------------------------------------------------


@cli.group()
def plugins() -> None:
    """Installed plugins and which of them this node enables."""


def _node_dir() -> Path:
    root = click.get_current_context().find_root()
    node_dir = node_config.resolve_node_dir(root.params.get("node"))
    if node_dir is None:
        raise NodeDirectoryError("no node directory: give --node DIR or set SHANGLIANG_NODE")
    return node_dir


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json: bool) -> None:
    """Every installed plugin: built-in or installed, level, enabled here, hooks."""
    from .plugins import describe

    enabled = node_config.read_node_toml(_node_dir()).get("PLUGINS_ENABLED") or []
    infos = [info.as_dict() for info in describe(enabled)]

    def text(rows):
        return table(
            [[r["name"], r["kind"], r["level"] or "-", "yes" if r["enabled"] else "no",
              ", ".join(r["hooks"]) or (r["error"] and f"error: {r['error']}") or "-"] for r in rows],
            ["name", "kind", "level", "enabled", "hooks"],
        )

    emit(infos, as_json, text)


def _set_plugin(name: str, enable: bool) -> None:
    from .plugins import installed_plugins

    node_dir = _node_dir()
    path = node_dir / node_config.NODE_FILE
    node_config.read_node_toml(node_dir)  # refuse a broken node.toml before editing it
    available = installed_plugins()
    if name not in available:
        known = ", ".join(sorted(available)) or "none"
        raise ConfigError(f"unknown plugin {name!r}; installed: {known}", "plugins.enabled")
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    plugins_table = document.setdefault("plugins", tomlkit.table())
    enabled = list(plugins_table.get("enabled", []))
    if enable == (name in enabled):
        click.echo(f"plugin {name} is already {'enabled' if enable else 'disabled'}")
        return
    enabled = [*enabled, name] if enable else [n for n in enabled if n != name]
    plugins_table["enabled"] = enabled
    new_text = tomlkit.dumps(document)
    # The new configuration must hold (plugin settings, plugin checks) before it replaces the old one.
    from . import audit as audit_log
    from .app import build_config
    from .db import make_engine
    from .plugins import create_plugin_manager, plugin_config

    config = build_config(node_dir, node_toml=node_config.toml_to_config(tomlkit.parse(new_text).unwrap(), str(path)))
    pm = create_plugin_manager(config["PLUGINS_ENABLED"])
    settings = plugin_config(pm, config.get("PLUGIN_CONFIG") or {})
    problems = [p for found in pm.hook.node_configured(config=config, plugin_config=settings) for p in (found or [])]
    if problems:
        raise ConfigError("plugin configuration refused: " + "; ".join(problems))
    temp = path.with_name(f".{path.name}.new")
    temp.write_text(new_text, encoding="utf-8")
    engine = make_engine(config["DATABASE_URL"])
    try:
        from sqlalchemy.orm import Session

        with Session(engine) as session, session.begin():
            session.info["actor"] = f"cli:{_os_user()}"
            audit_log.record(session, "plugin.enable" if enable else "plugin.disable", "plugin", name,
                             {"enabled": enabled})
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
        engine.dispose()
    click.echo(f"plugin {name} {'enabled' if enable else 'disabled'}; restart the node's processes to apply")


@plugins.command("enable")
@click.argument("name")
def plugins_enable(name: str) -> None:
    """Enable an installed plugin on this node."""
    _set_plugin(name, True)


@plugins.command("disable")
@click.argument("name")
def plugins_disable(name: str) -> None:
    """Disable a plugin on this node."""
    _set_plugin(name, False)


# ---------------------------------------------------------------------------
# users
# ---------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """People who sign in: administrators, office staff, members, handling units, the public."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "office", "member", "handling_unit", "public"]))
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option("--member", "member_no", help="Link to the member with this member number.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="Create the account without a password (cannot sign in yet).")
@with_appcontext
def users_add(username: str, role: str, display_name: str | None, member_no: str | None,
              password_stdin: bool, no_password: bool) -> None:
    """Add a user."""
    from .db import transaction
    from .users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif no_password:
        password = None
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with transaction() as session:
        user = add_user(session, username, role, password, display_name, member_no)
    click.echo(f"user {user.username} ({user.role}) added")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_list(as_json: bool) -> None:
    """List users."""
    from .db import get_session
    from .users import list_users, user_dict

    rows = [user_dict(u) for u in list_users(get_session())]
    emit(rows, as_json, lambda rs: table([[r["username"], r["display_name"], r["role"], r["member_no"] or "",
                                           "yes" if r["active"] else "no"] for r in rs],
                                         ["username", "name", "role", "member", "active"]))


# ---------------------------------------------------------------------------
# members
# ---------------------------------------------------------------------------


@cli.group()
def members() -> None:
    """Members (委员): sector, special committee and township group."""


@members.command("add")
@click.option("--name", required=True)
@click.option("--sector", required=True, help="界别")
@click.option("--special-committee", help="专门委员会")
@click.option("--township-group", help="乡镇委员小组")
@click.option("--member-no", help="Member number, unique on this node.")
@click.option("--phone")
@with_appcontext
def members_add(name, sector, special_committee, township_group, member_no, phone) -> None:
    """Add a member."""
    from .db import transaction
    from .members import add_member

    with transaction() as session:
        member = add_member(session, name, sector, special_committee, township_group, member_no, phone)
    click.echo(f"member {member.name} added (id {member.id})")


@members.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def members_list(as_json: bool) -> None:
    """List members."""
    from .db import get_session
    from .members import list_members, member_dict

    rows = [member_dict(m) for m in list_members(get_session())]
    emit(rows, as_json, lambda rs: table(
        [[r["member_no"] or "", r["name"], r["sector"], r["special_committee"] or "", r["township_group"] or ""] for r in rs],
        ["no", "name", "sector", "special committee", "township group"]))


@members.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path))
@with_appcontext
def members_import(csv_file: Path) -> None:
    """Import members from a UTF-8 CSV with a header row (all rows or none).

    Columns: name, sector (required); special_committee, township_group, member_no, phone.
    """
    from .db import transaction
    from .members import import_members

    if not csv_file.is_file():
        raise InputError(f"no such file: {csv_file}")
    with transaction() as session:
        imported = import_members(session, csv_file)
    click.echo(f"imported {len(imported)} members from {csv_file}")


# ---------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------


@cli.group()
def audit() -> None:
    """The append-only, hash-chained audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(as_json: bool) -> None:
    """Walk the chain; report the first row edited, inserted or deleted (exit 1 if any)."""
    from . import audit as audit_log
    from .db import get_session

    report = audit_log.verify(get_session())
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif report.ok:
        click.echo(f"audit log intact: {report.rows} rows, head at row {report.head_seq}")
    else:
        click.echo(f"audit log BROKEN at row {report.seq} ({report.kind}): {report.problem}")
    if not report.ok:
        sys.exit(1)


@audit.command("list")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_list(limit: int, as_json: bool) -> None:
    """The latest audit rows, newest first."""
    from sqlalchemy import select

    from .db import get_session
    from .models import AuditEvent

    rows = get_session().execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)).scalars().all()
    data = [{"seq": r.seq, "at_ms": r.at_ms, "actor": r.actor, "action": r.action, "entity": r.entity,
             "entity_id": r.entity_id, "data": json.loads(r.data), "hash": r.hash} for r in rows]
    emit(data, as_json, lambda rs: table([[r["seq"], r["actor"], r["action"], r["entity"], r["entity_id"]] for r in rs],
                                         ["seq", "actor", "action", "entity", "id"]))


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


@cli.command()
@click.option("--dir", "base", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-nodes"),
              show_default=True, help="Where the demo's node directories are kept (reused on the next run).")
@click.option("--port", type=click.IntRange(1, 65531), default=5000, show_default=True,
              help="The first of five consecutive ports.")
@click.option("--once", is_flag=True, help="Play the scenario and stop; exit 0 only if every step verified.")
def demo(base: Path, port: int, once: bool) -> None:
    """Five nodes (province, city, county, two townships) on loopback ports PORT…PORT+4, each its own
    process on the embedded defaults; play the scenario, then serve until Ctrl-C."""
    from .demo import run_demo

    sys.exit(run_demo(base.resolve(), port, once))


def _register_groups() -> None:
    from shangliang.federation.cli import register

    from .topics.cli import topics

    register(cli)
    cli.add_command(topics)


_register_groups()


def main() -> None:
    cli(prog_name="shangliang")


if __name__ == "__main__":
    main()
