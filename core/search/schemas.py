"""Search's request and answer shapes (every model named ``Search…``: the OpenAPI document needs names unique
across features)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shangliang.core.web.api import PageQuery


class SearchQuery(PageQuery):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(None, max_length=400, description="what to look for: words separated by spaces, each "
                          "found as written (two-character Chinese words too); at most 100 characters")
    kind: str | None = Field(None, description="only this kind: topic, proposal or opinion")
    stage: str | None = Field(None, description="only rows in this stage (topics) or status (proposals, reports)")
    area: str | None = Field(None, max_length=40, description="only rows of this division code or any division "
                             "under it")
    category: str | None = Field(None, max_length=200, description="only rows of this category")
    year: int | None = Field(None, description="only rows of this year (a topic: the year it was raised)")
    limit: int = Field(20, ge=1, le=500, description="hits per page, 1 to 500")


class SearchHitView(BaseModel):
    kind: str = Field(description="topic, proposal or opinion")
    ref: str = Field(description="the topic's uid, the proposal's number (or id), the report's id")
    url: str = Field(description="the page that shows it")
    title: str
    title_marks: list[list[int]] = Field(description="[start, end) of each match in the title")
    snippet: str = Field(description="a piece of its text around the first match")
    snippet_marks: list[list[int]] = Field(description="[start, end) of each match in the snippet")
    stage: str = Field(description="its stage (a topic) or status (a proposal, a report)")
    stage_label: str = Field(description="the stage or status in the reader's language")
    kind_label: str = Field(description="the kind in the reader's language")
    category: str
    areas: list[str] = Field(description="the division codes it concerns")
    area_names: list[str] = Field(description="the same, named where this node knows the committee")
    year: int | None
    holder: str | None = Field(description="a topic: the node responsible now")
    holder_name: str | None = Field(description="the same, by its committee's name")
    updated_ms: int


class SearchView(BaseModel):
    hits: list[SearchHitView]
    next_cursor: str | None = Field(description="ask again with this cursor for the next page (null: no more)")
