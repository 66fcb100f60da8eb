"""User request and answer shapes. Every model is named ``User…`` (the OpenAPI document needs names unique across
features). The services hold the rules and refuse with named errors (a user name taken or malformed, an unknown
role, a short password, the last active admin disabled or demoted)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from shangliang.core.web.api import PageQuery, Request

from .services import MIN_PASSWORD, ROLES

ROLE_TEXT = ", ".join(ROLES)


class UserPath(BaseModel):
    username: str = Field(description="the user's name")


class UserListQuery(PageQuery):
    role: str | None = Field(None, max_length=20, description=f"only users with this role: {ROLE_TEXT}")


class UserIn(Request):
    """Add a user."""

    username: str = Field(description="2-80 letters, digits or . _ @ -, unique on this node")
    role: str = Field(description=f"one of {ROLE_TEXT}")
    password: str | None = Field(None, description=f"the initial password, at least {MIN_PASSWORD} characters; "
                                                   "none: the account cannot sign in until one is set")
    display_name: str | None = Field(None, max_length=200, description="the name shown (default: the user name)")
    member_no: str | None = Field(None, description="link the account to the member with this member number")


class UserUpdate(Request):
    """Change what is given."""

    role: str | None = Field(None, description=f"a new role: {ROLE_TEXT}; the last active admin keeps admin")
    active: bool | None = Field(None, description="false: the account can no longer sign in and its sessions end; "
                                                  "the last active admin cannot be turned off")


class UserPassword(Request):
    password: str = Field(description=f"the new password, at least {MIN_PASSWORD} characters; every session of "
                                      "the account ends")


class UserView(BaseModel):
    id: int
    username: str
    display_name: str
    role: str = Field(description=ROLE_TEXT)
    member_no: str | None = Field(description="the linked member's number")
    member_name: str | None = Field(description="the linked member's name")
    active: bool


class UserDetail(BaseModel):
    user: UserView


class UserList(BaseModel):
    users: list[UserView] = Field(description="the newest first")
    next_cursor: str | None


class UserPasswordSet(BaseModel):
    username: str
    sessions_ended: int
