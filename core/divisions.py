"""Division codes (GB/T 2260 extended to 12 digits): validation, levels and the tree they imply."""

from __future__ import annotations

import re
from shangliang.core.i18n import N_

from .errors import DivisionCodeError

LEVELS = ("province", "city", "county", "township", "village")
LEVEL_BY_LENGTH = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}
LENGTH_BY_LEVEL = {level: length for length, level in LEVEL_BY_LENGTH.items()}

STANDARD_CODE = re.compile(r"^[0-9]{2,12}$")
# PROTOCOL.md §1: a unit with no standard code (a development zone, say) gets a suffix.
NODE_ID = re.compile(r"^[0-9]{2,12}(-[a-z0-9]{1,16})?$")


def is_standard(code: str) -> bool:
    return bool(STANDARD_CODE.fullmatch(code)) and len(code) in LEVEL_BY_LENGTH


def validate_code(code: object, setting: str = "id") -> str:
    """Return ``code`` if it is a standard division code; raise :class:`DivisionCodeError` otherwise."""
    if not isinstance(code, str) or not STANDARD_CODE.fullmatch(code):
        raise DivisionCodeError(
            N_("malformed division code %(code)s: expected 2, 4, 6, 9 or 12 digits", code=repr(str(code)[:40])), setting
        )
    if len(code) not in LEVEL_BY_LENGTH:
        raise DivisionCodeError(
            N_("malformed division code %(code)s: %(count)s digits, expected 2, 4, 6, 9 or 12", code=repr(code),
               count=len(code)), setting
        )
    return code


def validate_node_id(node_id: object, setting: str = "id") -> str:
    """Accept a standard code or the non-standard form ``<digits>-<suffix>`` of PROTOCOL.md §1."""
    if isinstance(node_id, str) and "-" in node_id:
        if not NODE_ID.fullmatch(node_id):
            raise DivisionCodeError(
                N_("malformed node id %(node_id)s: expected digits, or digits-suffix with a suffix of 1-16 lowercase "
                   "letters and digits", node_id=repr(node_id[:40])),
                setting,
            )
        return node_id
    return validate_code(node_id, setting)


def level_of(code: str) -> str | None:
    """The level a standard code names, or None for a non-standard id."""
    if not is_standard(code):
        return None
    return LEVEL_BY_LENGTH[len(code)]


def parent_of(code: str) -> str | None:
    """The parent of a standard code (its prefix one level up), or None for a province."""
    if not is_standard(code):
        return None
    index = LEVELS.index(LEVEL_BY_LENGTH[len(code)])
    if index == 0:
        return None
    return code[: LENGTH_BY_LEVEL[LEVELS[index - 1]]]


def is_ancestor(upper: str, lower: str) -> bool:
    """True when ``upper`` is a strict ancestor of ``lower`` (both standard codes)."""
    return is_standard(upper) and is_standard(lower) and len(upper) < len(lower) and lower.startswith(upper)
