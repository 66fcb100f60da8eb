"""The node context services run in: who this node is, its settings, its plugins and its clock.

Services take a session and a :class:`NodeContext` instead of reading Flask's ``current_app``, so
the same rule runs behind a page, an API call, a command and a task, and a test can call it with a
context of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from .clock import Clock, now_ms

if TYPE_CHECKING:
    import pluggy
    from flask import Flask

EXTENSION = "shangliang.node"


@dataclass(frozen=True)
class NodeContext:
    """This node as services see it."""

    id: str
    level: str
    parent: str | None
    name: str
    url: str
    config: Mapping[str, Any]
    pm: "pluggy.PluginManager"
    clock: Clock = field(default=now_ms)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], pm: "pluggy.PluginManager", clock: Clock = now_ms) -> "NodeContext":
        return cls(id=config["NODE_ID"], level=config["NODE_LEVEL"], parent=config.get("NODE_PARENT"),
                   name=config["NODE_NAME"], url=config["PUBLIC_URL"], config=config, pm=pm, clock=clock)

    def now_ms(self) -> int:
        return self.clock()

    @property
    def node_dir(self) -> str | None:
        return self.config.get("NODE_DIR")


def node_context(app: "Flask | None" = None) -> NodeContext:
    """The context of ``app`` (default: the current app), built once by ``create_app``."""
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions[EXTENSION]
