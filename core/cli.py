"""The ``shangliang`` command line's root: node set-up, serving, workers, database, plugins, audit, demo.

Every other command comes from a plugin's ``register_commands``: the built-in features' (``users``,
``members``, ``topics``, the federation's ``keys``, ``peers``, ``inbox``, ``outbox``) always, an
installed plugin's where the node directory enables it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from shangliang.core.i18n import N_

from . import config as node_config
from .clitools import CommandError, _os_user, emit, get_app, table, with_appcontext  # noqa: F401  (plugins import them from here)
from .errors import NodeDirectoryError, ShangliangError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class NodeGroup(click.Group):
    """The root group: adds the built-in plugins' commands and those of the node's enabled plugins,
    turns errors into one line."""

    def _commands_of(self, pm) -> dict[str, click.Command]:
        from .plugins import flatten

        found: dict[str, click.Command] = {}
        for command in flatten(pm.hook.register_commands(cli=self)):
            if command.name in self.commands:
                raise CommandError(f"a plugin command is named like the core command {command.name!r}")
            found[command.name] = command
        return found

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        cache = ctx.meta.setdefault("shangliang.plugin_commands", {})
        if "commands" in cache:
            return cache["commands"]
        from .plugins import builtin_plugin_manager, create_plugin_manager

        cache["commands"] = self._commands_of(builtin_plugin_manager())
        node_dir = node_config.resolve_node_dir(ctx.params.get("node"))
        if node_dir is None or not (node_dir / node_config.NODE_FILE).is_file():
            return cache["commands"]
        try:
            settings = node_config.read_node_toml(node_dir)
            enabled = settings.get("PLUGINS_ENABLED") or []
            pm = create_plugin_manager(enabled) if enabled else None
        except ShangliangError:
            return cache["commands"]  # the command itself will report the configuration problem
        if pm is not None:
            cache["commands"] = self._commands_of(pm)
        return cache["commands"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import InterfaceError, OperationalError

        try:
            return super().invoke(ctx)
        except ShangliangError as exc:
            raise CommandError(str(exc)) from None
        except (OperationalError, InterfaceError) as exc:  # the database went away mid-command: nothing committed
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            raise CommandError(f"the database is unavailable ({reason}); nothing was changed by this command, "
                               "unless it said so before") from None
        finally:  # the command's app lets go of its database (a process running several commands keeps no pool)
            app = ctx.meta.get("app")
            if app is not None:
                from .db import get_db

                get_db(app).engine.dispose()


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
    """Create a node directory: node.toml, a secret key, a migrated database, the federation key.

    All or nothing: a refused init leaves no node directory behind.
    """
    from .nodedir import create

    config = create(directory, node_id, name, url, level=level, parent=parent, database_url=database_url,
                    broker_url=broker_url, locale=locale, plugins=plugins, actor=f"cli:{_os_user()}")
    directory = directory.resolve()
    click.echo(f"initialised {config['NODE_LEVEL']} node {config['NODE_ID']} ({name}) in {directory}")
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
    from .serve import prepare_metrics_directory, serve_node

    prepare_metrics_directory(click.get_current_context())  # before the app, which imports prometheus-client
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
    """Apply the shipped migrations: the core's, then those of every enabled plugin that has tables."""
    from . import migrate

    app = get_app()
    before, after = migrate.upgrade(app.config["DATABASE_URL"], revision)
    if before == after:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")
    if revision == "head":  # a plugin's tables follow the core's head, never an older core revision
        for name, plugin_before, plugin_after in migrate.upgrade_plugins(app.config["DATABASE_URL"],
                                                                          app.config["PLUGINS_ENABLED"]):
            click.echo(f"plugin {name}: " + (f"already at {plugin_after}" if plugin_before == plugin_after else
                                             f"upgraded from {plugin_before or 'empty'} to {plugin_after}"))


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the shipped head."""
    from . import migrate
    from .db import check_database, get_db

    app = get_app()
    engine = get_db(app).engine
    check_database(app.config["DATABASE_URL"], engine)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    behind = current != head
    lines = [f"current: {current or 'none'}", f"head:    {head}"]
    with engine.connect() as connection:  # each enabled plugin that owns tables: its own history
        for name in app.config["PLUGINS_ENABLED"]:
            plugin_head = migrate.plugin_head(name)
            if plugin_head is not None:
                at = migrate.plugin_revision(connection, name)
                behind = behind or at != plugin_head
                lines.append(f"plugin {name}: {at or 'none'} (head {plugin_head})")
    click.echo("\n".join(lines) + ("\nrun: shangliang db upgrade" if behind else ""))


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
        raise NodeDirectoryError(N_("no node directory: give --node DIR or set SHANGLIANG_NODE"))
    return node_dir


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json: bool) -> None:
    """Every installed plugin: built-in or installed, level, enabled here, hooks, settings (``--json``: with
    the values this node runs an installed plugin with)."""
    from .plugins import describe

    toml = node_config.read_node_toml(_node_dir())
    enabled = toml.get("PLUGINS_ENABLED") or []
    infos = [info.as_dict() for info in describe(enabled, toml.get("PLUGIN_CONFIG") or {})]

    def text(rows):
        return table(
            [[r["name"], r["kind"], r["level"] or "-", "yes" if r["enabled"] else "no",
              (r["requires_core"] or "-") + ("" if r["compatible"] else " (not this core)"),
              ", ".join(r["hooks"]) or (r["error"] and f"error: {r['error']}") or "-",
              ", ".join(r["settings"]) or "-"] for r in rows],
            ["name", "kind", "level", "enabled", "core", "hooks", "settings"],
        )

    emit(infos, as_json, text)


def _set_plugin(name: str, enable: bool, purge: bool = False) -> None:
    from .nodedir import set_plugin_enabled

    if set_plugin_enabled(_node_dir(), name, enable, actor=f"cli:{_os_user()}", purge=purge):
        done = "enabled" if enable else "disabled" + (", its tables dropped" if purge else "")
        click.echo(f"plugin {name} {done}; restart the node's processes to apply")
    else:
        click.echo(f"plugin {name} is already {'enabled' if enable else 'disabled'}")


@plugins.command("enable")
@click.argument("name")
def plugins_enable(name: str) -> None:
    """Enable an installed plugin on this node."""
    _set_plugin(name, True)


@plugins.command("disable")
@click.argument("name")
@click.option("--purge", is_flag=True, help="Also drop the plugin's tables and every row in them (asks first).")
@click.option("--yes", is_flag=True, help="With --purge: do not ask.")
def plugins_disable(name: str, purge: bool, yes: bool) -> None:
    """Disable a plugin on this node; its tables and their rows are kept unless --purge."""
    if purge and not yes:
        try:
            confirmed = click.confirm(f"drop every table of plugin {name} and all its rows on this node?", default=False)
        except click.Abort:
            confirmed = False
        if not confirmed:
            raise CommandError(f"plugin {name}: nothing purged (confirm the prompt, or give --yes)")
    _set_plugin(name, False, purge=purge)


@plugins.command("configure")
@click.argument("name")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
def plugins_configure(name: str, assignments: tuple[str, ...]) -> None:
    """Change an installed plugin's settings in node.toml ([plugins.NAME]): each KEY=VALUE taken as the
    setting's declared kind (a list as comma-separated words or JSON, true/false, a number), checked before
    it is saved."""
    from .nodedir import set_plugin_settings

    values = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{assignment!r} is not KEY=VALUE")
        values[key.strip()] = value
    changed = set_plugin_settings(_node_dir(), name, values, actor=f"cli:{_os_user()}")
    if changed:
        click.echo(f"plugin {name}: {', '.join(changed)} changed; restart the node's processes to apply")
    else:
        click.echo(f"plugin {name}: nothing changed")


@plugins.command("new")
@click.argument("name")
@click.option("--level", required=True, help="province, city, county or township.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write the plugin's folder NAME/.")
def plugins_new(name: str, level: str, directory: Path) -> None:
    """Write a new plugin distribution DIR/NAME/ (pyproject.toml, package, hook, test, README) to pip install -e."""
    from .scaffold import new_plugin

    target = new_plugin(name, level, directory)
    click.echo(f"plugin {name} written to {target}; next: pip install -e {target}, "
               f"then shangliang --node DIR plugins enable {name}")


# ---------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------


class AuditGroup(click.Group):
    """``shangliang audit``: the core's commands and those the built-in plugins add (``audit_commands``)."""

    def _added(self) -> dict[str, click.Command]:
        from .plugins import builtin_plugin_manager, flatten

        added = {c.name: c for c in flatten(builtin_plugin_manager().hook.audit_commands())}
        clash = set(added) & set(self.commands)
        if clash:
            raise CommandError(f"a plugin audit command is named like a core one: {sorted(clash)}")
        return added

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._added()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._added().get(name)


@cli.group(cls=AuditGroup)
def audit() -> None:
    """The append-only, hash-chained audit log."""


@audit.command("verify")
@click.option("--against-parent", "against_parent", is_flag=True,
              help="Also check the chain against the last head the parent keeps (detects a cut, wiped or "
                   "rewritten chain).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(against_parent: bool, as_json: bool) -> None:
    """Walk the chain; report the first row edited, inserted or deleted (exit 1 if any)."""
    from . import audit as audit_log
    from .db import get_session
    from .errors import InputError
    from .plugins import get_plugin_manager

    session = get_session()
    anchor = None
    if against_parent:
        anchor = get_plugin_manager().hook.audit_anchor(session=session)
        if anchor is None:
            raise InputError(N_("no node keeps an anchor of this chain (a node without a parent, or none sent yet: "
                                "shangliang audit anchor)"))
    report = audit_log.verify(session, anchor)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "anchor": anchor}, ensure_ascii=False))
    elif report.ok:
        against = f"; it reaches the head {anchor['holder']} keeps (row {anchor['seq']})" if anchor else ""
        click.echo(f"audit log intact: {report.rows} rows, head at row {report.head_seq}{against}")
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
    from . import audit as audit_log
    from .db import get_session

    data = [audit_log.event_dict(row) for row in audit_log.latest(get_session(), limit)]
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
@click.option("--only", default="", metavar="STORY[,STORY]",
              help="For development: after set-up, play only these stories (road_repair, delegation, returned, "
                   "the_year, consultation_home, city_plan, proposal, opinion, drainage, village_bundle, subtree).")
def demo(base: Path, port: int, once: bool, only: str) -> None:
    """Five nodes (province, city, county, two townships) on loopback ports PORT…PORT+4, each its own
    process on the embedded defaults; play the scenario, then serve until Ctrl-C."""
    from .demo import STORIES, run_demo

    stories = tuple(s.strip() for s in only.split(",") if s.strip())
    unknown = [s for s in stories if s not in STORIES]
    if unknown:
        raise click.BadParameter(f"unknown stories {', '.join(unknown)}; stories: {', '.join(STORIES)}",
                                 param_hint="--only")
    sys.exit(run_demo(base.resolve(), port, once, stories))


def main() -> None:
    cli(prog_name="shangliang")


if __name__ == "__main__":
    main()
