"""The activities feature's built-in plugin."""

from __future__ import annotations
