"""Helpers shared by the command-line modules: the node's app for a command, output as text or JSON."""

from __future__ import annotations

import functools
import getpass
import json
import os
from typing import Any, Callable

import click
from shangliang.core.i18n import N_

from . import config as node_config
from .errors import NodeDirectoryError


class CommandError(click.ClickException):
    """A ShangliangError as click shows it: ``Error: <one line>``, exit status 2."""

    exit_code = 2


def get_app(ctx: click.Context | None = None):
    """The app of the node named by ``--node``, built once per command."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if "app" not in root.meta:
        from .app import create_app

        node_dir = node_config.resolve_node_dir(root.params.get("node"))
        if node_dir is None:
            raise NodeDirectoryError(N_("no node directory: give --node DIR or set SHANGLIANG_NODE"))
        root.meta["app"] = create_app(node_dir)
    return root.meta["app"]


def with_appcontext(f: Callable) -> Callable:
    """Run the command inside the node's app context; changes it makes are audited as ``cli:<user>``."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        app = get_app()
        with app.app_context():
            from .db import get_session

            get_session().info["actor"] = f"cli:{_os_user()}"
            return f(*args, **kwargs)

    return wrapper


def rehearsable(f: Callable) -> Callable:
    """Give a writing command ``--dry-run``: every rule runs as for real, then its unit of work is rolled
    back and a line on standard error says so; nothing is stored or sent. A refusal is shown as without
    the flag (the same error, the same exit status)."""

    @click.option("--dry-run", "dry_run", is_flag=True,
                  help="Check everything the command would do, then store nothing.")
    @functools.wraps(f)
    def wrapper(*args, dry_run: bool = False, **kwargs):
        if not dry_run:
            return f(*args, **kwargs)
        from .db import rehearsal

        with rehearsal() as counter:
            result = f(*args, **kwargs)
        click.echo(f"dry run: accepted, {counter[0]} unit(s) of work rolled back; nothing was stored", err=True)
        return result

    return wrapper


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid())


def emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(data))


def table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header, *[[("" if c is None else str(c)) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


