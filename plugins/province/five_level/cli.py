"""``shangliang five-level coordinate|check``: the county's to-coordinate list (统筹); peers that skip a level."""

from __future__ import annotations

import time

import click
import flask
from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.db import get_session
from shangliang.core.errors import ConfigError

from . import services


@click.group("five-level")
def five_level() -> None:
    """Five-level linkage (五级联动): topics pass level by level; the county coordinates."""


@five_level.command("coordinate")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def coordinate(as_json: bool) -> None:
    """The topics that came up from a village through a township, held here for the county to coordinate
    (统筹): origin village, township, stage, days waited since they arrived."""
    config = flask.current_app.config
    settings = services.settings_of(config)
    rows = services.to_coordinate(get_session(), config["NODE_ID"], int(time.time() * 1000),
                                  settings["waiting_days"])

    def text(rs):
        if not services.coordinates(config):
            note = (f"this node is a {config['NODE_LEVEL']} node; the {settings['coordinator_level']} coordinates "
                    f"(setting: plugins.{services.NAME}.coordinator_level)\n")
        else:
            note = ""
        if not rs:
            return note + "no topic from a village is waiting for coordination here"
        return note + table([[r["uid"], r["title"], r["village"], r["township"], r["stage"],
                              f"{r['waiting_days']}" + (" (long)" if r["waiting_long"] else ""),
                              "yes" if r["accepted"] else "no"] for r in rs],
                            ["topic", "title", "village", "township", "stage", "days waiting", "accepted"])

    emit(rows, as_json, text)


@five_level.command("check")
@with_appcontext
def check() -> None:
    """Name every peer paired as parent or child that is not one level up or down (exit status 2)."""
    config = flask.current_app.config
    problems = services.skipping_peers(get_session(), config["NODE_ID"], config["NODE_LEVEL"])
    if problems:
        raise ConfigError(f"{len(problems)} problem(s): " + "; ".join(problems))
    click.echo("every paired parent and child is one level away")
