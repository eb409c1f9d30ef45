"""What is waiting for one person: their drafts, the postmortems they may review, their open
action items."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from models import (
    ActionItem,
    ActionStatus,
    GrowthStage,
    HeadcountSnapshot,
    Incident,
    IncidentStatus,
    ReviewAction,
    ReviewComment,
    Role,
    Team,
    User,
)
from models.base import utcnow
from postmortems.auth.access import nameable_sent_back, named_incident_ids, visible_incidents
from postmortems.cache import cached
from postmortems.db import session
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS, newest_first
from postmortems.incidents.workflow import sent_back_comment
from postmortems.timezones import local_today

SHOWN = 20  # per list; each links to the full list where there is one
# How long a reviewer's queue lists what they sent back while it waits for its author.
SENT_BACK_LISTED = timedelta(days=30)


@dataclass(frozen=True)
class Desk:
    drafts: list[Incident]
    to_review: list[Incident] | None  # None: the person does not review
    action_items: list[ActionItem]
    # The last send-back of each draft of the person's that was sent back to them.
    sent_back: dict[int, ReviewComment]
    # For reviewers: their own recent send-backs whose postmortem is still a draft.
    sent_back_by_me: list[ReviewComment]

    def overdue(self, item: ActionItem) -> bool:
        return item.due_on is not None and item.due_on < local_today()


def desk_of(user: User) -> Desk:
    """The person's drafts (named on them), postmortems in review they did not write (for
    reviewers), and their open action items, soonest due first."""
    newest = (Incident.started_at.desc(), Incident.id.desc())
    # The few incidents that name the person, read through their indexes, then the drafts
    # among them: not every draft checked for the person's name.
    drafts = (
        select(Incident)
        .where(Incident.id.in_(named_incident_ids(user)), Incident.status == IncidentStatus.DRAFT)
        # Their review steps: the list says which were sent back, and by whom.
        .options(selectinload(Incident.review_comments).selectinload(ReviewComment.user))
    )
    to_review: list[Incident] | None = None
    if user.can(Role.REVIEWER):
        in_review = Incident.status == IncidentStatus.IN_REVIEW
        waiting = cached(("in_review_count",), in_review_count, viewer=None)
        review = select(Incident).where(
            in_review, Incident.author_id.is_distinct_from(user.id), visible_incidents(user)
        )
        review = newest_first(review, waiting >= ORDER_INDEX_FROM_ROWS)
        review = review.options(selectinload(Incident.author))  # the list names each author
        to_review = list(session.scalars(review.order_by(*newest).limit(SHOWN)))
    items = (
        select(ActionItem)
        .options(selectinload(ActionItem.incident))
        .where(
            ActionItem.owner_id == user.id,
            ActionItem.status.in_([ActionStatus.OPEN, ActionStatus.IN_PROGRESS]),
        )
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(SHOWN)
    )
    my_drafts = list(session.scalars(drafts.order_by(*newest).limit(SHOWN)))
    return Desk(
        drafts=my_drafts,
        to_review=to_review,
        action_items=list(session.scalars(items)),
        sent_back={
            incident.id: comment
            for incident in my_drafts
            if (comment := sent_back_comment(incident)) is not None
        },
        sent_back_by_me=sent_back_by(user) if to_review is not None else [],
    )


def sent_back_by(user: User) -> list[ReviewComment]:
    """The reviewer's send-backs of the last SENT_BACK_LISTED whose postmortem is still a
    draft, newest first: they left the queue, so it says where they went. Named only where
    the restriction would let the reviewer see them (auth.access.nameable_sent_back)."""
    stmt = (
        select(ReviewComment)
        .join(Incident, Incident.id == ReviewComment.incident_id)
        .where(
            ReviewComment.user_id == user.id,
            ReviewComment.action == ReviewAction.SENT_BACK,
            ReviewComment.at >= utcnow() - SENT_BACK_LISTED,
            Incident.status == IncidentStatus.DRAFT,
            nameable_sent_back(user),
        )
        .options(selectinload(ReviewComment.incident))
        .order_by(ReviewComment.at.desc(), ReviewComment.id.desc())
        .limit(3 * SHOWN)  # one postmortem may have been sent back more than once
    )
    newest: dict[int, ReviewComment] = {}
    for step in session.scalars(stmt):
        newest.setdefault(step.incident_id, step)
    return list(newest.values())[:SHOWN]


def in_review_count() -> int:
    """How many postmortems wait for review, all told: it only picks the plan of the list, but
    counting them on every reviewer's visit read the status index each time, so it is kept
    until the data changes."""
    in_review = Incident.status == IncidentStatus.IN_REVIEW
    return session.scalar(select(func.count()).where(in_review)) or 0


@dataclass(frozen=True)
class FirstStep:
    """One thing a new install needs, and whether it is done."""

    label: str
    endpoint: str
    done: bool
    why: str


def first_steps(user: User) -> list[FirstStep]:
    """What an admin of a new install does first, in order, each ticked once done; empty
    once every one is (and for anyone but an admin). Five EXISTS probes, kept until the data
    changes."""
    if not user.can(Role.ADMIN):
        return []
    steps = cached(("first_steps",), _first_steps, viewer=None)
    return [] if all(step.done for step in steps) else steps


def _first_steps() -> list[FirstStep]:
    def has(model: type) -> bool:
        return bool(session.scalar(select(exists().select_from(model))))

    people = session.scalar(select(func.count()).select_from(select(User.id).limit(2).subquery()))
    return [
        FirstStep(
            "Add your teams", "teams.create", has(Team), "Postmortems and reports go by team."
        ),
        FirstStep(
            "Record each team's headcount",
            "teams.index",
            has(HeadcountSnapshot),
            "Rates are per 10 people, and stages follow the company's size.",
        ),
        FirstStep(
            "Name the company's growth stages",
            "teams.create_stage",
            has(GrowthStage),
            "Trend reports compare the stages: founding, growth, scale.",
        ),
        FirstStep(
            "Invite the people who file, review and read",
            "users.create",
            (people or 0) > 1,
            "Authors file, reviewers publish, readers learn.",
        ),
        FirstStep(
            "File the first postmortem",
            "incidents.create",
            has(Incident),
            "Blameless: what the system and the process let happen.",
        ),
    ]
