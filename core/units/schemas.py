"""Handling-unit request and answer shapes. Every model is named ``Unit…`` (the OpenAPI document needs names
unique across features). The shapes say which fields exist; the services hold the rules and refuse with named
errors (a name empty, too long or only digits; an unknown kind; a contact who is not a handling unit's user or
who acts for another unit)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from shangliang.core.web.api import PageQuery, Request

from .models import KINDS

KIND_TEXT = ", ".join(KINDS)

# ---------------------------------------------------------------------------------------------
# Requests


class UnitPath(BaseModel):
    ref: str = Field(description="the unit's id (a number) or its name")


class UnitListQuery(PageQuery):
    active: bool | None = Field(None, description="true: only the units still active")


class UnitIn(Request):
    """Add a handling unit (承办单位)."""

    name: str = Field(description="unique on this node, at most 100 characters, not only digits")
    kind: str = Field(description=f"one of {KIND_TEXT} (党委部门, 政府部门, other bodies)")
    phone: str | None = Field(None, description="at most 40 characters")
    contacts: list[str] = Field(default_factory=list, description="user names of users with the role "
                                "handling_unit who act for the unit (each acts for one unit), at most 20")


class UnitUpdate(Request):
    """Change what is given; `contacts` replaces the list of contacts."""

    name: str | None = Field(None, description="a new name, free on this node")
    kind: str | None = Field(None, description=f"one of {KIND_TEXT}")
    phone: str | None = Field(None, description="the phone; an empty text clears it")
    active: bool | None = Field(None, description="false: the unit is no longer assigned new work")
    contacts: list[str] | None = Field(None, description="the whole new list of contacts' user names")


# ---------------------------------------------------------------------------------------------
# Answers


class UnitContactView(BaseModel):
    id: int = Field(description="the user's id")
    username: str


class UnitView(BaseModel):
    id: int
    name: str
    kind: str = Field(description=KIND_TEXT)
    phone: str | None
    active: bool
    contacts: list[str] = Field(description="the contacts' user names")
    contact_users: list[UnitContactView]
    created_ms: int


class UnitDetail(BaseModel):
    unit: UnitView


class UnitList(BaseModel):
    units: list[UnitView] = Field(description="the newest first; a handling unit's user sees only its own unit")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class UnitImported(BaseModel):
    imported: int = Field(description="how many units the file added")
    units: list[UnitView]
