"""Built-in audit observer: writes each committed audit event to the ``shangliang.audit`` logger."""

from __future__ import annotations

import logging
from shangliang.core.i18n import N_

from ..plugins import hookimpl

log = logging.getLogger("shangliang.audit")


@hookimpl
def audit_event_recorded(event):
    log.info("audit #%s %s %s %s:%s", event["seq"], event["actor"], event["action"], event["entity"], event["entity_id"])

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("Built-in audit observer: writes each committed audit event to the ``shangliang.audit`` logger.")
