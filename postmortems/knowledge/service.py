"""The knowledge base read back: similar earlier postmortems, recurrences, lessons by cause.

Similar postmortems are scored from what they share with the one at hand (contributing
factors, tags, affected system, team) and from their words (the search index, any of the
title's and summary's words). Only a few hundred candidates are ever scored, each found
through an index, so the cost does not grow with the number of postmortems.
"""

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal_column, select, text

from models import (
    ActionItem,
    ContributingFactor,
    GuardCheck,
    Incident,
    IncidentFactor,
    Lesson,
    LessonGroup,
    SearchDocument,
    Tag,
    User,
)
from models.incident import action_item_guard, incident_tag
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.incidents.service import PLAIN_FIELDS, IncidentValues, update_incident
from postmortems.search import schema
from postmortems.search.service import search_fts
from postmortems.search.text import parse_query

SHOWN = 5
CANDIDATES = 60  # per kind of evidence
WEIGHTS = {"factor": 3.0, "tag": 2.0, "system": 2.0, "team": 1.0, "words": 3.0}


@dataclass(frozen=True)
class Traits:
    """What a postmortem (saved, or being typed) is compared by."""

    factor_ids: frozenset[int] = frozenset()
    tags: frozenset[str] = frozenset()
    affected_system: str = ""
    team_id: int | None = None
    words: str = ""
    started_before: datetime | None = None  # only postmortems that started earlier
    exclude_id: int | None = None


@dataclass(frozen=True)
class SimilarIncident:
    id: int
    key: str
    title: str
    started_at: datetime
    score: float
    reasons: tuple[str, ...] = field(default=())

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def traits_of(incident: Incident) -> Traits:
    return Traits(
        factor_ids=frozenset(f.factor_id for f in incident.factors),
        tags=frozenset(t.name for t in incident.tags),
        affected_system=incident.affected_system,
        team_id=incident.team_id,
        words=f"{incident.title} {incident.summary}",
        started_before=incident.started_at,
        exclude_id=incident.id,
    )


def similar_incidents(viewer: User, traits: Traits, limit: int = SHOWN) -> list[SimilarIncident]:
    """The postmortems most like `traits` that `viewer` may see, best first, with why."""
    evidence: dict[str, dict[int, set[Any]]] = {}
    if traits.factor_ids:
        evidence["factor"] = _shared(
            IncidentFactor.incident_id,
            IncidentFactor.factor_id,
            IncidentFactor.factor_id.in_(traits.factor_ids),
            traits,
        )
    if traits.tags:
        tag_ids = select(Tag.id).where(Tag.name.in_(traits.tags))
        evidence["tag"] = _shared(
            incident_tag.c.incident_id,
            incident_tag.c.tag_id,
            incident_tag.c.tag_id.in_(tag_ids),
            traits,
        )
    system = traits.affected_system.strip()
    if system:
        evidence["system"] = _shared(
            Incident.id, Incident.affected_system, Incident.affected_system == system, traits
        )
    evidence["words"] = _by_words(traits)
    scores: dict[int, float] = defaultdict(float)
    for kind, found in evidence.items():
        for incident_id, shared in found.items():
            scores[incident_id] += WEIGHTS[kind] * len(shared)
    if not scores:
        return []
    rows = session.execute(
        select(
            Incident.id, Incident.key, Incident.title, Incident.started_at, Incident.team_id
        ).where(Incident.id.in_(list(scores)), visible_incidents(viewer))
    ).all()
    factor_names = _names(ContributingFactor, evidence.get("factor", {}))
    tag_names = _names(Tag, evidence.get("tag", {}))
    results = []
    for row in rows:
        score = scores[row.id]
        same_team = traits.team_id is not None and row.team_id == traits.team_id
        if same_team:
            score += WEIGHTS["team"]
        reasons = []
        if factors := evidence.get("factor", {}).get(row.id):
            names = ", ".join(sorted(factor_names[i] for i in factors))
            reasons.append(f"shares factor{'s' if len(factors) > 1 else ''} {names}")
        if tags := evidence.get("tag", {}).get(row.id):
            names = ", ".join(sorted(tag_names[i] for i in tags))
            reasons.append(f"tag{'s' if len(tags) > 1 else ''} {names}")
        if row.id in evidence.get("system", {}):
            reasons.append(f"same affected system {system}")
        if same_team:
            reasons.append("same team")
        if row.id in evidence["words"]:
            reasons.append("similar words")
        results.append(
            SimilarIncident(row.id, row.key, row.title, row.started_at, score, tuple(reasons))
        )
    results.sort(key=lambda s: (-s.score, -s.started_at.timestamp(), -s.id))
    return results[:limit]


def _earlier(stmt: Select[Any], traits: Traits, incident_id: Any) -> Select[Any]:
    """Only other postmortems, and only those that started before this one."""
    if traits.exclude_id is not None:
        stmt = stmt.where(incident_id != traits.exclude_id)
    if traits.started_before is not None:
        if incident_id is not Incident.id:
            stmt = stmt.join(Incident, Incident.id == incident_id)
        stmt = stmt.where(Incident.started_at < traits.started_before)
    return stmt


def _shared(incident_id: Any, value: Any, condition: Any, traits: Traits) -> dict[int, set[Any]]:
    """incident id → the values it shares, for the CANDIDATES incidents sharing the most
    (the newest first among equals)."""
    shares = func.count()
    best = _earlier(select(incident_id).where(condition), traits, incident_id)
    best = best.group_by(incident_id).order_by(shares.desc(), incident_id.desc()).limit(CANDIDATES)
    ids = list(session.scalars(best))
    found: dict[int, set[Any]] = defaultdict(set)
    if ids:
        rows = session.execute(select(incident_id, value).where(condition, incident_id.in_(ids)))
        for incident, shared in rows:
            found[incident].add(shared)
    return dict(found)


def _by_words(traits: Traits) -> dict[int, set[Any]]:
    """Postmortems whose index rows share any of the words, best matched first."""
    query = parse_query(traits.words, prefix_last=False)
    if not query:
        return {}
    doc = SearchDocument
    stmt = select(doc.incident_id).where(doc.kind == "incident")
    if session.get_bind().dialect.name == "sqlite":
        terms = " OR ".join(f'"{s}"' for s in query.stems)
        stmt = (
            stmt.join(search_fts, literal_column("search_fts.rowid") == doc.id)
            .where(text("search_fts MATCH :similar_terms").bindparams(similar_terms=terms))
            .order_by(text("bm25(search_fts, 4.0, 1.0)"))
        )
    else:
        vector: Any = literal_column(schema.POSTGRESQL_QUERY_VECTOR)
        tsquery = func.to_tsquery("simple", " | ".join(f"'{s}'" for s in query.stems))
        stmt = stmt.where(vector.bool_op("@@")(tsquery)).order_by(
            func.ts_rank(vector, tsquery).desc()
        )
    stmt = _earlier(stmt, traits, doc.incident_id)
    found = session.scalars(stmt.limit(CANDIDATES))
    return {incident_id: {True} for incident_id in found if incident_id is not None}


def _names(model: Any, found: dict[int, set[Any]]) -> dict[int, str]:
    ids = set().union(*found.values()) if found else set()
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def guards_meant_to_prevent(incident: Incident) -> list[GuardCheck]:
    """The guard checks of the postmortem this one is a recurrence of: they were meant to
    keep it from happening again."""
    if incident.recurrence_of_id is None:
        return []
    linked = (
        select(action_item_guard.c.guard_check_id)
        .join(ActionItem, ActionItem.id == action_item_guard.c.action_item_id)
        .where(ActionItem.incident_id == incident.recurrence_of_id)
    )
    return list(
        session.scalars(
            select(GuardCheck).where(GuardCheck.id.in_(linked)).order_by(GuardCheck.name)
        )
    )


def mark_recurrence(
    incident: Incident, earlier_id: int, *, editor: User, expected_version: int | None = None
) -> None:
    """Mark `incident` a recurrence of another, through the incident service (its rules:
    not itself, one the editor may see; its history records the change)."""
    values = dataclasses.replace(values_of(incident), recurrence_of_id=earlier_id)
    update_incident(incident, values, editor=editor, expected_version=expected_version)


def values_of(incident: Incident) -> IncidentValues:
    """The incident's own fields as the service takes them."""
    return IncidentValues(
        **{name: getattr(incident, name) for name in PLAIN_FIELDS},
        tags=tuple(t.name for t in incident.tags),
        access_user_ids=tuple(u.id for u in incident.access_users),
    )


# Lessons by group and by contributing factor.

LESSONS_PER_GROUP = 50


@dataclass(frozen=True)
class LessonRow:
    id: int
    text_md: str
    incident_id: int
    incident_key: str
    incident_title: str


def lessons_by_group(
    viewer: User, group: LessonGroup, factor_id: int | None, page: int
) -> tuple[list[LessonRow], bool]:
    """One page of the lessons of `group` that `viewer` may see (of postmortems naming
    `factor_id`, when given), newest postmortem first; and whether there are more."""
    stmt = (
        select(Lesson.id, Lesson.text_md, Incident.id, Incident.key, Incident.title)
        .join(Incident, Incident.id == Lesson.incident_id)
        .where(Lesson.group == group, visible_incidents(viewer))
        .order_by(Incident.started_at.desc(), Lesson.id.desc())
    )
    if factor_id is not None:
        named = select(IncidentFactor.incident_id).where(IncidentFactor.factor_id == factor_id)
        stmt = stmt.where(Incident.id.in_(named))
    rows = session.execute(
        stmt.limit(LESSONS_PER_GROUP + 1).offset((page - 1) * LESSONS_PER_GROUP)
    ).all()
    lessons = [LessonRow(*row) for row in rows[:LESSONS_PER_GROUP]]
    return lessons, len(rows) > LESSONS_PER_GROUP


def lesson_counts_by_factor(
    viewer: User,
) -> list[tuple[ContributingFactor, dict[LessonGroup, int]]]:
    """For each contributing factor: how many lessons of each group its postmortems hold."""
    stmt = (
        select(IncidentFactor.factor_id, Lesson.group, func.count())
        .join(Lesson, Lesson.incident_id == IncidentFactor.incident_id)
        .join(Incident, Incident.id == IncidentFactor.incident_id)
        .where(visible_incidents(viewer))
        .group_by(IncidentFactor.factor_id, Lesson.group)
    )
    counts: dict[int, dict[LessonGroup, int]] = defaultdict(dict)
    for factor_id, group, count in session.execute(stmt):
        counts[factor_id][group] = count
    factors = session.scalars(
        select(ContributingFactor).order_by(ContributingFactor.category, ContributingFactor.name)
    )
    return [(f, counts[f.id]) for f in factors if f.id in counts]
