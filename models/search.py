"""The search index's documents: one row per searchable thing, holding its stemmed words.

The full-text structures over these rows are not models: SQLite's FTS5 table `search_fts`
(kept in step by triggers) and PostgreSQL's GIN index over a tsvector of the same columns.
Both are made by migration 0010; see postmortems/search/.
"""

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SearchDocument(Base):
    """A postmortem, lesson, action item or guard check as the search index sees it."""

    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_document_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # incident, lesson, action, guard
    object_id: Mapped[int]
    # The postmortem it belongs to (its own id for a postmortem); None for a guard check.
    # No foreign key: the index follows deletions itself, and is rebuilt from scratch at will.
    incident_id: Mapped[int | None]
    title: Mapped[str] = mapped_column(Text, default="")  # stemmed words, space-separated
    body: Mapped[str] = mapped_column(Text, default="")
