"""Core Celery tasks: the worker heartbeat and the nightly audit-chain check (notification delivery is in
``core.notifications``)."""

from __future__ import annotations

import logging
import socket

from celery import shared_task

from . import audit
from .clock import now_ms
from .db import get_session, transaction
from .models import Heartbeat
from .notifications import notify

log = logging.getLogger(__name__)


@shared_task(name="shangliang.core.heartbeat")
def heartbeat() -> int:
    """Record that a worker of this node is alive; ``/healthz`` reports it."""
    now = now_ms()
    name = socket.gethostname()
    with transaction() as session:
        row = session.get(Heartbeat, name)
        if row is None:
            session.add(Heartbeat(worker=name, at_ms=now))
        else:
            row.at_ms = now
    return now


@shared_task(name="shangliang.core.verify_audit")
def verify_audit() -> dict:
    """Walk the audit chain; tell the admins when it is broken."""
    report = audit.verify(get_session())
    if not report.ok:
        with transaction(actor="worker") as session:
            notify(session, subject="Audit log check failed", body=report.problem or "", role="admin", source="audit")
    return report.as_dict()
