"""The handling units feature's built-in plugin: its tables."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl  # noqa: F401  (the feature's hooks are added here)

from . import models  # noqa: F401  (the unit tables)
