"""The postmortem's article: the body of its page, also bound into reading-path booklets."""

from flask import render_template
from markupsafe import Markup

from models import CauseCategory, LessonGroup, User
from postmortems.auth.access import may_see
from postmortems.guards.escapes import escaped_guards_of
from postmortems.incidents import workflow
from postmortems.incidents.service import growth_at_start, load_incident_page


def render_article(
    incident_id: int,
    *,
    viewer: User,
    editable: bool,
    deletable: bool,
    at_risk: frozenset[int] = frozenset(),
) -> Markup:
    """The article as `viewer` sees it, who may (or may not) edit and delete it; `at_risk`
    are the done action items whose guard check fails or went stale. The postmortem it is a
    recurrence of is named only if `viewer` may see that one: keep it per viewer."""
    incident = load_incident_page(incident_id)
    return Markup(
        render_template(
            "incidents/_article.html",
            incident=incident,
            growth=growth_at_start(incident),
            lesson_groups=list(LessonGroup),
            categories=list(CauseCategory),
            editable=editable,
            deletable=deletable,
            problems=workflow.publish_problems(incident),
            sent_back=workflow.sent_back_comment(incident),
            at_risk=at_risk,
            escaped_guards=escaped_guards_of(incident.id),
            shown_recurrence=incident.recurrence_of
            if may_see(viewer, incident.recurrence_of)
            else None,
        )
    )
