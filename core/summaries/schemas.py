"""Summaries' answer shapes (every model named ``Summary…``: the OpenAPI document needs names unique across
features)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SummaryNode(BaseModel):
    node: str = Field(description="the node id (its division code)")
    name: str = Field(description="the committee's name")
    level: str | None = Field(description="province, city, county, township or village")
    parent: str | None = Field(description="the node it reports to")
    as_of_ms: int = Field(description="when the node counted these figures (this node's own: now)")
    received_ms: int | None = Field(description="when its latest figures arrived here (null: this node's own)")
    own: bool = Field(description="true for this node's own figures, counted now")
    stale: bool = Field(description="its figures are older than [summaries] stale_seconds: the node fell silent")
    overdue_share: float | None = Field(description="overdue topics / topics held, 0 to 1; null without topics")
    figures: dict[str, Any] = Field(description="counts: topics (total, overdue, by_stage), results "
                                    "(total, by_completion), proposals (total, by_status, filed, satisfaction), "
                                    "opinions (written, used, forwarded, reported, not_used, adopted, "
                                    "instructions), activities (total, held, by_status); year")


class SummaryLevel(BaseModel):
    level: str = Field(description="a level, in the order province → village")
    nodes: list[SummaryNode]


class SummaryView(BaseModel):
    node: str = Field(description="this node's id")
    name: str
    level: str
    as_of_ms: int = Field(description="now, on this node's clock")
    stale_seconds: int = Field(description="the staleness limit, [summaries] stale_seconds")
    totals: dict[str, Any] = Field(description="the figures of every node in the subtree, summed")
    overdue_share: float | None = Field(description="of the totals: overdue topics / topics")
    nodes: list[SummaryNode] = Field(description="this node first, then every node under it by id")
    stale: list[str] = Field(description="the ids of the nodes whose figures are stale")
    levels: list[SummaryLevel] = Field(description="the nodes grouped by level (the tree view)")
