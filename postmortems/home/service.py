"""What is waiting for one person: their drafts, the postmortems they may review, their open
action items."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import ActionItem, ActionStatus, Incident, IncidentStatus, Role, User
from postmortems.auth.access import named_incident_ids, visible_incidents
from postmortems.cache import cached
from postmortems.db import session
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS, newest_first
from postmortems.timezones import local_today

SHOWN = 20  # per list; each links to the full list where there is one


@dataclass(frozen=True)
class Desk:
    drafts: list[Incident]
    to_review: list[Incident] | None  # None: the person does not review
    action_items: list[ActionItem]

    def overdue(self, item: ActionItem) -> bool:
        return item.due_on is not None and item.due_on < local_today()


def desk_of(user: User) -> Desk:
    """The person's drafts (named on them), postmortems in review they did not write (for
    reviewers), and their open action items, soonest due first."""
    newest = (Incident.started_at.desc(), Incident.id.desc())
    # The few incidents that name the person, read through their indexes, then the drafts
    # among them: not every draft checked for the person's name.
    drafts = select(Incident).where(
        Incident.id.in_(named_incident_ids(user)), Incident.status == IncidentStatus.DRAFT
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
    return Desk(
        drafts=list(session.scalars(drafts.order_by(*newest).limit(SHOWN))),
        to_review=to_review,
        action_items=list(session.scalars(items)),
    )


def in_review_count() -> int:
    """How many postmortems wait for review, all told: it only picks the plan of the list, but
    counting them on every reviewer's visit read the status index each time, so it is kept
    until the data changes."""
    in_review = Incident.status == IncidentStatus.IN_REVIEW
    return session.scalar(select(func.count()).where(in_review)) or 0
