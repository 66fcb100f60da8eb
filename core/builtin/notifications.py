"""Built-in notification channel: the web interface's inbox (the notification row itself)."""

from __future__ import annotations

import logging
from shangliang.core.i18n import N_

from ..plugins import hookimpl

log = logging.getLogger("shangliang.notifications")


@hookimpl(trylast=True)
def deliver_notification(notification):
    # The row is already stored; the inbox shows it. Logging it makes delivery visible to operators.
    log.info("notification %s to %s: %s", notification["id"],
             notification["recipient_role"] or f"user {notification['recipient_user_id']}", notification["subject"])
    return "inbox"

#: The plugin's line on the plugins page, in the page's language.
SUMMARY = N_("Built-in notification channel: the web interface's inbox (the notification row itself).")
