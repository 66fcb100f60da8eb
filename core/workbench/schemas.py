"""Workbench and inbox answer shapes (every model named ``Workbench…`` or ``Inbox…``: the OpenAPI document
needs names unique across features)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from shangliang.core.web.api import Request


class InboxQuery(BaseModel):
    unread: bool | None = Field(None, description="true: only the notifications not yet read")


class InboxPath(BaseModel):
    id: int = Field(description="the notification's id")


class InboxReadIn(Request):
    """Mark notifications read: the ids given, or every one in the inbox with `all`."""

    ids: list[int] = Field(default_factory=list, description="the notifications to mark read, at most 200")
    all: bool = Field(False, description="true: every notification in your inbox")


class WorkbenchEntryView(BaseModel):
    title: str
    url: str = Field(description="the page where it is done")
    note: str = Field(description="a deadline, a state or who it comes from, in the reader's language")
    overdue: bool


class WorkbenchActionView(BaseModel):
    label: str
    url: str


class WorkbenchItemView(BaseModel):
    key: str = Field(description="what kind of work: topics.to_accept, proposals.to_review, …")
    label: str = Field(description="the kind of work in the reader's language")
    count: int = Field(description="how many there are in all")
    url: str = Field(description="the page that lists them")
    urgent: bool = Field(description="one of them is past its deadline")
    entries: list[WorkbenchEntryView] = Field(description="the first few")
    action: WorkbenchActionView | None = Field(description="a form to start new work from")


class WorkbenchView(BaseModel):
    items: list[WorkbenchItemView]
    unread: int = Field(description="notifications not yet read in the inbox")


class InboxNotificationView(BaseModel):
    id: int
    subject: str
    body: str
    source: str = Field(description="the feature or practice that sent it")
    to: str = Field(description="`you`, or the role it was sent to (a shared in-tray)")
    created_at: str | None
    read: bool


class InboxView(BaseModel):
    notifications: list[InboxNotificationView]
    unread: int


class InboxMarked(BaseModel):
    marked: int = Field(description="how many were marked read now")
    unread: int
