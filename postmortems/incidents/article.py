"""The postmortem's article: the body of its page, also bound into reading-path booklets."""

from flask import render_template
from markupsafe import Markup

from models import CauseCategory, LessonGroup
from postmortems.guards.escapes import escaped_guards_of
from postmortems.incidents import workflow
from postmortems.incidents.service import growth_at_start, load_incident_page


def render_article(
    incident_id: int, *, editable: bool, deletable: bool, at_risk: frozenset[int] = frozenset()
) -> Markup:
    """The article as someone who may (or may not) edit and delete it sees it; `at_risk` are
    the done action items whose guard check fails or went stale."""
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
            at_risk=at_risk,
            escaped_guards=escaped_guards_of(incident.id),
        )
    )
