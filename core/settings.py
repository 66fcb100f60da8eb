"""Declared settings: how a built-in feature names a setting, its default and its check (hook ``declare_settings``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    """A setting a built-in feature declares (hook ``declare_settings``): ``[section] name`` in node.toml,
    ``SHANGLIANG_<SECTION>_<NAME>`` in the environment, ``<SECTION>_<NAME>`` in the app's configuration."""

    section: str
    name: str
    default: Any
    doc: str
    #: returns what is wrong with a value (one line), or None when it is acceptable
    check: Callable[[Any], str | None] | None = None

    @property
    def key(self) -> str:
        return f"{self.section}_{self.name}".upper()

    @property
    def toml(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        return f"SHANGLIANG_{self.key}"


def number(low: float, high: float, whole: bool = False, unit: str = "") -> Callable[[Any], str | None]:
    """A check for a number from ``low`` to ``high`` (a whole number with ``whole``)."""
    kinds = (int,) if whole else (int, float)

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            what = "a whole number" if whole else "a number"
            return f"must be {what}{' of ' + unit if unit else ''} from {low:g} to {high:g}, not {str(value)[:40]!r}"
        return None

    return check
