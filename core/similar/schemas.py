"""Similar matters' request and answer shapes (every model named ``Similar…``: the OpenAPI document needs names
unique across features). The shapes say which fields exist; the services hold the rules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shangliang.core.db import ROW_ID_MAX
from shangliang.core.web.api import Request

from .models import STATES


class SimilarListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    state: str | None = Field("open", description="only suggestions in this state: " + ", ".join(STATES)
                              + "; `all` for every state")
    limit: int = Field(100, ge=1, le=1000, description="at most this many, the most recently changed first")


class SimilarPath(BaseModel):
    suggestion_id: int = Field(ge=1, le=ROW_ID_MAX, description="the suggestion's id")


class SimilarMergeIn(Request):
    """Merge the suggestion's topics into one matter held here."""

    primary: str | None = Field(None, description="the uid of the topic that stays as the merged matter (default: "
                                "one that is already a merged matter's primary, else the suggestion's first)")
    topics: list[str] | None = Field(None, max_length=50, description="the uids to merge (default: every topic of "
                                     "the suggestion); each must be held here")
    note: str | None = Field("", description="why, at most 2,000 characters")


class SimilarDecisionIn(Request):
    """Keep the topics separate, or dismiss the suggestion."""

    note: str | None = Field("", description="why, at most 2,000 characters")


class SimilarTopicView(BaseModel):
    uid: str
    title: str
    areas: list[str] = Field(description="the division codes the topic concerns")
    # "from" is a Python keyword: the field is named from_ and answered as "from"
    from_: str = Field(alias="from", description="the node that sent the topic here, or raised it here")
    raised_at: str
    stage: str
    holder: str
    matched: str | None = Field(description="the uid of the topic it was found similar to (null: the first)")
    score: float | None = Field(description="how similar to `matched`, 0–100")
    shared: list[str] = Field(description="the keywords it shares with `matched`")


class SimilarSuggestionView(BaseModel):
    id: int
    state: str = Field(description=", ".join(STATES))
    score: float = Field(description="the highest similarity between two of its topics, 0–100")
    created_ms: int
    updated_ms: int
    decided_ms: int | None
    decided_by: str | None
    note: str
    primary: str | None = Field(description="once merged: the uid of the topic that is the merged matter")
    topics: list[SimilarTopicView]


class SimilarList(BaseModel):
    suggestions: list[SimilarSuggestionView]


class SimilarDecided(BaseModel):
    suggestion: SimilarSuggestionView
