"""Member request and answer shapes. Every model is named ``Member…`` (the OpenAPI document needs names unique
across features). The services hold the rules: name and sector required, at most 100 characters each, a member
number unique on this node."""

from __future__ import annotations

from pydantic import BaseModel, Field
from shangliang.core.web.api import PageQuery, Request


class MemberListQuery(PageQuery):
    pass


class MemberIn(Request):
    """Add a member (委员)."""

    name: str = Field(description="the member's name")
    sector: str = Field(description="界别, the sector the member sits for")
    special_committee: str | None = Field(None, description="专门委员会")
    township_group: str | None = Field(None, description="乡镇委员小组")
    member_no: str | None = Field(None, description="the member number, unique on this node")
    phone: str | None = None


class MemberView(BaseModel):
    id: int
    member_no: str | None
    name: str
    sector: str | None
    special_committee: str | None
    township_group: str | None
    phone: str | None
    active: bool


class MemberDetail(BaseModel):
    member: MemberView


class MemberList(BaseModel):
    members: list[MemberView] = Field(description="the newest first")
    next_cursor: str | None


class MemberImported(BaseModel):
    imported: int = Field(description="how many members the file added")
    members: list[MemberView]
