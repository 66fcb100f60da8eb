"""Built-in federation plugin: the outbox pump's schedule."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl


@hookimpl
def beat_schedule(config):
    return {"federation.pump": {"task": "shangliang.federation.pump",
                                "schedule": float(config.get("FEDERATION_PUMP_SECONDS", 5))}}
