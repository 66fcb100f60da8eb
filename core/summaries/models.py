"""The summaries table: the latest figures of each node under this one, as its child's reports carried them."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shangliang.core.models import Base


class NodeSummary(Base):
    """One descendant node's latest figures (one row per node; an older ``as_of_ms`` never replaces a newer)."""

    __tablename__ = "node_summaries"

    node_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(String(40))
    via: Mapped[str] = mapped_column(String(40), index=True)  # the child whose report carried it
    as_of_ms: Mapped[int] = mapped_column(BigInteger)  # when the node itself counted the figures
    received_ms: Mapped[int] = mapped_column(BigInteger)
    figures: Mapped[str] = mapped_column(Text)  # JSON: see services.own_figures
