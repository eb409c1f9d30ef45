"""The review workflow: draft → in review → published (→ archived), and what publishing needs."""

from flask import current_app

from models import ActionType, Incident, IncidentStatus, ReviewAction, ReviewComment, User
from postmortems.db import session
from postmortems.incidents import history
from postmortems.incidents.rows import lock_incident
from postmortems.incidents.service import IncidentError


class WorkflowError(IncidentError):
    """A step the postmortem's status does not allow, or a publish with something missing."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


# How each step reads in the history and the audit log.
DONE = {
    ReviewAction.SUBMITTED: "submitted for review",
    ReviewAction.PUBLISHED: "published",
    ReviewAction.SENT_BACK: "sent back to draft",
    ReviewAction.ARCHIVED: "archived",
}


# The steps each status allows, with the label of their button.
STEPS_FROM = {
    IncidentStatus.DRAFT: [("submit", "Submit for review")],
    IncidentStatus.IN_REVIEW: [("publish", "Publish"), ("send-back", "Send back")],
    IncidentStatus.PUBLISHED: [("archive", "Archive")],
    IncidentStatus.ARCHIVED: [],
}


def sent_back_comment(incident: Incident) -> ReviewComment | None:
    """The reviewer's send-back a draft waits on: its last review step, when that sent it back
    (submitted again, it waits on nothing). The one rule the draft's page and the author's home
    page both ask."""
    if incident.status is not IncidentStatus.DRAFT or not incident.review_comments:
        return None
    last = incident.review_comments[-1]
    return last if last.action is ReviewAction.SENT_BACK else None


def available_steps(incident: Incident) -> list[tuple[str, str]]:
    """The workflow steps the incident's status allows (who may take them is the policy's)."""
    return STEPS_FROM[incident.status]


def publish_problems(incident: Incident) -> list[str]:
    """What the postmortem still lacks before it can be published; empty when it is ready.

    The rules live here and nowhere else; config switches them (PUBLISH_* in config.py).
    """
    config = current_app.config
    problems = []
    if config["PUBLISH_REQUIRES_FACTOR"] and not incident.factors:
        problems.append("Name at least one contributing factor.")
    if config["PUBLISH_REQUIRES_IMPACT"] and not incident.impacts:
        problems.append("Estimate at least one impact.")
    if config["PUBLISH_REQUIRES_LESSON"] and not incident.lessons:
        problems.append("Write at least one lesson.")
    if incident.severity.name in config["PUBLISH_GUARDED_PREVENTIVE_SEVERITIES"]:
        for item in incident.action_items:
            if item.type is ActionType.PREVENTIVE and not item.guards:
                problems.append(
                    f"Link the preventive action item “{item.title}” to a guard check "
                    f"({incident.severity.name} postmortems need one for each)."
                )
    return problems


def _step(
    incident: Incident,
    user: User,
    action: ReviewAction,
    text: str,
    allowed_from: IncidentStatus,
    to: IncidentStatus,
) -> None:
    lock_incident(incident)
    session.refresh(incident)  # the status as saved now, not as this request first read it
    if incident.status is not allowed_from:
        raise WorkflowError(
            f"This postmortem is {incident.status.label.lower()}; "
            f"only a {allowed_from.label.lower()} one can be {action.label.lower()}."
        )
    incident.status = to
    incident.review_comments.append(ReviewComment(user=user, action=action, text=text.strip()))
    history.record_change(incident, DONE[action])


def submit_for_review(incident: Incident, user: User, text: str = "") -> None:
    _step(
        incident, user, ReviewAction.SUBMITTED, text, IncidentStatus.DRAFT, IncidentStatus.IN_REVIEW
    )


def publish(incident: Incident, user: User, text: str = "") -> None:
    """Publish, or refuse with the list of what is missing."""
    problems = publish_problems(incident)
    if problems:
        raise WorkflowError("This postmortem cannot be published yet.", problems)
    _step(
        incident,
        user,
        ReviewAction.PUBLISHED,
        text,
        IncidentStatus.IN_REVIEW,
        IncidentStatus.PUBLISHED,
    )


def send_back(incident: Incident, user: User, text: str) -> None:
    if not text.strip():
        raise WorkflowError("Say what needs to change when sending a postmortem back.")
    _step(
        incident, user, ReviewAction.SENT_BACK, text, IncidentStatus.IN_REVIEW, IncidentStatus.DRAFT
    )


def archive(incident: Incident, user: User, text: str = "") -> None:
    _step(
        incident,
        user,
        ReviewAction.ARCHIVED,
        text,
        IncidentStatus.PUBLISHED,
        IncidentStatus.ARCHIVED,
    )
