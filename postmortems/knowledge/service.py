"""The knowledge base read back: similar earlier postmortems, recurrences, lessons by cause.

Similar postmortems are scored from what they share with the one at hand (contributing
factors, tags, affected system, team) and from their words (the search index, any of the
title's and summary's words). Only a few hundred candidates are ever scored, each found
through an index, so the cost does not grow with the number of postmortems.
"""

import dataclasses
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    Integer,
    Select,
    String,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)

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
from postmortems.cache import cached
from postmortems.db import session
from postmortems.incidents.order import incidents_among
from postmortems.incidents.service import (
    PLAIN_FIELDS,
    IncidentValues,
    update_incident,
)
from postmortems.markdown import render_markdown
from postmortems.pagination import page_offset
from postmortems.search import schema
from postmortems.search.service import search_fts
from postmortems.search.text import parse_query, stemmed_text

SHOWN = 5
CANDIDATES = 60  # per shared trait
WORD_CANDIDATES = 400  # recent matches of any word, ranked to keep CANDIDATES
MAX_TRAITS = 10  # factors or tags looked up
KEY_WORDS = 4  # telling words of the title and summary; a similar postmortem shares two
# Words too common to tell postmortems apart, as stems (see search.text).
STOP = set(
    stemmed_text(
        "a an and are as at be by for from in into is it of on or the to was were with after "
        "before again not no this that its our we и в во не на с со по к о об от для из у за "
        "после до что как это был была были его её их мы при или а но же ли"
    ).split()
)
WEIGHTS = {"factor": 3.0, "tag": 2.0, "system": 2.0, "team": 1.0, "words": 3.0}
# A title whose telling words are nearly those of the one typed (this share of the words of
# either title in both) is the same incident told again: shown first, whatever else matches.
NEAR_TITLE = 0.6
NEAR_TITLE_WEIGHT = 100.0


@dataclass(frozen=True)
class Traits:
    """What a postmortem (saved, or being typed) is compared by."""

    factor_ids: frozenset[int] = frozenset()
    tags: frozenset[str] = frozenset()
    affected_system: str = ""
    team_id: int | None = None
    words: str = ""
    title: str = ""  # compared with each candidate's title as a whole
    started_before: datetime | None = None  # only postmortems that started earlier
    exclude_id: int | None = None


@dataclass(frozen=True)
class SimilarIncident:
    id: int
    key: str
    title: str
    started_at: datetime | None  # None: an external reference whose source states no start
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
        title=incident.title,
        started_before=incident.started_at,
        exclude_id=incident.id,
    )


def similar_incidents(viewer: User, traits: Traits, limit: int = SHOWN) -> list[SimilarIncident]:
    """The postmortems most like `traits` that `viewer` may see, best first, with why.

    Kept per viewer and traits until the data changes (any write moves the data version), so
    a page viewed again costs no query; worked out, it takes two: every shared trait's
    candidates and the word matches in one, then the rows of those the viewer may see."""
    return cached(
        ("similar_incidents", traits, limit),
        lambda: _similar(viewer, traits, limit),
        viewer=viewer,
    )


def _similar(viewer: User, traits: Traits, limit: int) -> list[SimilarIncident]:
    names = cached(("similar_trait_names",), _trait_names, viewer=None)
    factor_ids = sorted(traits.factor_ids)[:MAX_TRAITS]
    tag_ids = sorted(names.tag_ids[t] for t in traits.tags if t in names.tag_ids)[:MAX_TRAITS]
    system = traits.affected_system.strip()
    last_id = None
    if traits.started_before is not None:
        last_id = _last_id_before(traits.started_before)
        if last_id is None:
            return []  # nothing started earlier
    arms = [
        _newest(
            "factor", i, IncidentFactor.incident_id, IncidentFactor.factor_id == i, traits, last_id
        )
        for i in factor_ids
    ]
    arms += [
        _newest("tag", i, incident_tag.c.incident_id, incident_tag.c.tag_id == i, traits, last_id)
        for i in tag_ids
    ]
    if system:
        same = Incident.affected_system == system
        arms.append(_newest("system", 0, Incident.id, same, traits, last_id))
    if (words := _by_words(traits, last_id)) is not None:
        arms.append(words)
    if not arms:
        return []
    evidence: dict[str, dict[int, set[Any]]] = {kind: {} for kind in WEIGHTS}
    # One statement for every trait: each arm still reads only its own bounded slice.
    found = union_all(*arms) if len(arms) > 1 else arms[0]
    for kind, value, incident_id in session.execute(found):
        evidence[kind].setdefault(incident_id, set()).add(value)
    scores: dict[int, float] = defaultdict(float)
    for kind, by_incident in evidence.items():
        for incident_id, shared in by_incident.items():
            scores[incident_id] += WEIGHTS[kind] * len(shared)
    if not scores:
        return []
    rows = session.execute(
        select(
            Incident.id, Incident.key, Incident.title, Incident.started_at, Incident.team_id
        ).where(Incident.id.in_(list(scores)), visible_incidents(viewer))
    ).all()
    results = []
    typed_title = _telling_words(traits.title)
    for row in rows:
        score = scores[row.id]
        same_team = traits.team_id is not None and row.team_id == traits.team_id
        if same_team:
            score += WEIGHTS["team"]
        reasons = []
        if _nearly_the_same(typed_title, _telling_words(row.title)):
            score += NEAR_TITLE_WEIGHT
            reasons.append("nearly the same title")
        if factors := evidence["factor"].get(row.id):
            listed = ", ".join(sorted(names.factors[i] for i in factors))
            reasons.append(f"shares factor{'s' if len(factors) > 1 else ''} {listed}")
        if tags := evidence["tag"].get(row.id):
            listed = ", ".join(sorted(names.tags[i] for i in tags))
            reasons.append(f"tag{'s' if len(tags) > 1 else ''} {listed}")
        if row.id in evidence["system"]:
            reasons.append(f"same affected system {system}")
        if same_team:
            reasons.append("same team")
        if row.id in evidence["words"]:
            reasons.append("similar words")
        results.append(
            SimilarIncident(row.id, row.key, row.title, row.started_at, score, tuple(reasons))
        )
    # Best first; of equals the newest, those of unknown start after the dated ones.
    results.sort(
        key=lambda s: (
            -s.score,
            s.started_at is None,
            -s.started_at.timestamp() if s.started_at else 0.0,
            -s.id,
        )
    )
    return results[:limit]


def _telling_words(title: str) -> frozenset[str]:
    """A title's stems that are not stop words."""
    return frozenset(s for s in parse_query(title, prefix_last=False).stems if s not in STOP)


def _nearly_the_same(typed: frozenset[str], theirs: frozenset[str]) -> bool:
    """Whether the two titles share at least NEAR_TITLE of the words either has."""
    return bool(typed and theirs) and len(typed & theirs) >= NEAR_TITLE * len(typed | theirs)


@dataclass(frozen=True)
class TraitNames:
    factors: dict[int, str]
    tags: dict[int, str]
    tag_ids: dict[str, int]


def _trait_names() -> TraitNames:
    """Every factor's and tag's name (a few hundred rows), kept until the data changes: what
    the reasons name, without a query per panel."""
    factors = dict(session.execute(select(ContributingFactor.id, ContributingFactor.name)).all())
    tags = dict(session.execute(select(Tag.id, Tag.name)).all())
    return TraitNames(factors, tags, {name: tag_id for tag_id, name in tags.items()})


# Postmortems read newest first to find the latest that started before a given time.
LAST_ID_PROBE = 2000


def _last_id_before(started_before: datetime) -> int | None:
    """The largest id of a postmortem that started before `started_before`. No postmortem
    with a larger id started earlier, so the walks below start from it instead of stepping
    past every later one (each walk did, once per shared trait: the older the postmortem,
    the longer). Looked for among the newest ids first (a recent postmortem's is there), then
    along the start-time index (an older one's: a shorter stretch of it)."""
    newest = (
        select(Incident.id, Incident.started_at)
        .order_by(Incident.id.desc())
        .limit(LAST_ID_PROBE)
        .subquery()
    )
    found = session.scalar(
        select(func.max(newest.c.id)).where(newest.c.started_at < started_before)
    )
    if found is not None:
        return int(found)
    stmt = select(func.max(Incident.id)).where(Incident.started_at < started_before)
    stmt = stmt.with_hint(Incident, "INDEXED BY ix_incident_started_at_id", "sqlite")
    found = session.scalar(stmt)
    return None if found is None else int(found)


def _earlier(
    stmt: Select[Any], traits: Traits, incident_id: Any, last_id: int | None
) -> Select[Any]:
    """Only other postmortems, and only those that started before this one."""
    if traits.exclude_id is not None:
        stmt = stmt.where(incident_id != traits.exclude_id)
    if last_id is not None:
        stmt = stmt.where(incident_id <= last_id)
    if traits.started_before is not None:
        if incident_id is not Incident.id:
            stmt = stmt.join(Incident, Incident.id == incident_id)
        # Checked row by row as the query walks newest first, not read through the start-time
        # index: wrapped, the column cannot lead the plan (SQLite would read every earlier
        # postmortem first).
        started = func.coalesce(Incident.started_at, Incident.started_at)
        stmt = stmt.where(started < traits.started_before)
    return stmt


def _newest(
    kind: str, value: int, incident_id: Any, condition: Any, traits: Traits, last_id: int | None
) -> Select[Any]:
    """(kind, value, id) of the newest CANDIDATES earlier postmortems meeting `condition`,
    read backwards along its (value, incident id) index: a bounded read however many share
    the value. A subquery, so that its LIMIT holds inside a UNION."""
    stmt = select(incident_id.label("incident_id")).where(condition)
    stmt = _earlier(stmt, traits, incident_id, last_id)
    newest = stmt.order_by(incident_id.desc()).limit(CANDIDATES).subquery()
    return select(
        literal(kind, String).label("kind"),
        literal(value, Integer).label("value"),
        newest.c.incident_id,
    )


def _by_words(traits: Traits, last_id: int | None) -> Select[Any] | None:
    """("words", 0, id) of postmortems whose titles hold two of the telling words of this
    one's title and summary (its KEY_WORDS longest stems that are not stop words), the
    CANDIDATES best matched among the WORD_CANDIDATES most recent matches."""
    stems = [s for s in parse_query(traits.words, prefix_last=False).stems if s not in STOP]
    stems = sorted(stems, key=lambda s: (-len(s), s))[:KEY_WORDS]
    if not stems:
        return None
    pairs: list[tuple[str, ...]] = list(itertools.combinations(stems, 2)) or [(stems[0],)]
    doc = SearchDocument
    if session.get_bind().dialect.name == "sqlite":
        either = " OR ".join("(" + " ".join(f'"{s}"' for s in pair) + ")" for pair in pairs)
        terms = f"title : ({either})"  # titles only: short, and what a postmortem is about
        score: Any = literal_column("bm25(search_fts, 4.0, 1.0)")
        stmt = (
            select(score.label("score"), doc.incident_id.label("incident_id"))
            .select_from(search_fts)
            .join(doc, doc.id == literal_column("search_fts.rowid"))
            .where(text("search_fts MATCH :similar_terms").bindparams(similar_terms=terms))
            .order_by(literal_column("search_fts.rowid").desc())
        )
    else:
        vector: Any = literal_column(schema.POSTGRESQL_QUERY_VECTOR)
        # :A is the title's weight: titles only, as on SQLite.
        either = " | ".join("(" + " & ".join(f"'{s}':A" for s in pair) + ")" for pair in pairs)
        tsquery = func.to_tsquery("simple", either)
        stmt = (
            select(
                (-func.ts_rank(vector, tsquery)).label("score"),
                doc.incident_id.label("incident_id"),
            )
            .where(vector.bool_op("@@")(tsquery))
            .order_by(doc.id.desc())
        )
    # As for search: the best among the most recent matches, never a rank of every match.
    stmt = _earlier(stmt.where(doc.kind == "incident"), traits, doc.incident_id, last_id)
    recent = stmt.limit(WORD_CANDIDATES).subquery()
    best = (
        select(recent.c.incident_id)
        .order_by(recent.c.score, recent.c.incident_id)
        .limit(CANDIDATES)
        .subquery()
    )
    return select(
        literal("words", String).label("kind"),
        literal(0, Integer).label("value"),
        best.c.incident_id,
    )


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
    html: Markup  # the lesson's Markdown as sanitised HTML
    incident_id: int
    incident_key: str
    incident_title: str


def lessons_by_group(
    viewer: User, group: LessonGroup, factor_id: int | None, page: int
) -> tuple[list[LessonRow], bool]:
    """One page of the lessons of `group` that `viewer` may see (of postmortems naming
    `factor_id`, when given), newest postmortem first; and whether there are more.

    The query walks postmortems along the newest-first index and looks up each one's
    lessons, stopping when the page is full: a bounded read at any number of postmortems.
    """
    stmt = (
        select(
            Lesson.id,
            Lesson.text_md,
            Lesson.text_html,
            Incident.id,
            Incident.key,
            Incident.title,
        )
        .select_from(Incident)
        .join(Lesson, Lesson.incident_id == Incident.id)
        .where(Lesson.group == group, visible_incidents(viewer))
        .order_by(Incident.started_at.desc(), Incident.id.desc(), Lesson.id)
    )
    # SQLite has no statistics to choose this plan itself (see incidents.service).
    stmt = stmt.with_hint(Incident, "INDEXED BY ix_incident_started_at_id", "sqlite")
    if factor_id is not None:
        named = select(IncidentFactor.incident_id).where(IncidentFactor.factor_id == factor_id)
        stmt = stmt.where(incidents_among(named, IncidentFactor.incident_id, True))
    rows = session.execute(
        stmt.limit(LESSONS_PER_GROUP + 1).offset(page_offset(page, LESSONS_PER_GROUP))
    ).all()
    lessons = [
        LessonRow(
            lesson_id,
            # Stored when saved; rendered now for rows without it (bulk loads).
            Markup(html) if html is not None else render_markdown(text_md),  # noqa: S704
            incident_id,
            key,
            title,
        )
        for lesson_id, text_md, html, incident_id, key, title in rows[:LESSONS_PER_GROUP]
    ]
    return lessons, len(rows) > LESSONS_PER_GROUP


def factors_by_category() -> list[ContributingFactor]:
    """The contributing factors to read lessons by, category by category."""
    return list(
        session.scalars(
            select(ContributingFactor).order_by(
                ContributingFactor.category, ContributingFactor.name
            )
        )
    )
