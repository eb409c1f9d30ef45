"""Lessons by cause, similar earlier postmortems, and marking a recurrence in one click."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional

from models import CauseCategory, Incident, LessonGroup
from postmortems.auth.access import get_editable_incident_or_404, get_readable_incident_or_404
from postmortems.db import commit_change
from postmortems.domain import ConflictError, DomainError
from postmortems.forms import Form, LocalDateTimeField, parse_tags
from postmortems.knowledge.service import (
    Traits,
    factors_by_category,
    guards_meant_to_prevent,
    lessons_by_group,
    mark_recurrence,
    similar_incidents,
    traits_of,
)

bp = Blueprint("knowledge", __name__)


class LessonFilterForm(Form):
    class Meta:
        csrf = False

    factor = IntegerField("Factor", [Optional(), NumberRange(min=1, max=2**31 - 1)])
    group = StringField("Group", [Optional()])
    page = IntegerField("Page", [Optional(), NumberRange(min=1, max=100_000)])


@bp.route("/lessons")
def lessons() -> ResponseReturnValue:
    """Every lesson the reader may see, by group (one page each) and by contributing factor."""
    form = LessonFilterForm(request.args)
    if not form.validate():
        abort(404)
    factor_id = form.factor.data
    chosen = LessonGroup.__members__.get(form.group.data or "")
    page = form.page.data or 1
    groups = []
    for group in LessonGroup:
        number = page if group is chosen else 1
        rows, more = lessons_by_group(current_user, group, factor_id, number)
        groups.append((group, rows, number, more))
    factors = factors_by_category()
    factor_name = next((f.name for f in factors if f.id == factor_id), None)
    if factor_id is not None and factor_name is None:
        abort(404)
    return render_template(
        "knowledge/lessons.html",
        groups=groups,
        factor_groups=[
            (category, [f for f in factors if f.category is category]) for category in CauseCategory
        ],
        factor_id=factor_id,
        factor_name=factor_name,
        lesson_groups=list(LessonGroup),
    )


@bp.route("/incidents/<int:incident_id>/similar")
def similar(incident_id: int) -> ResponseReturnValue:
    """Similar earlier postmortems, and the guard checks that were meant to prevent this one:
    a panel loaded into the postmortem's page by htmx, or a page of its own."""
    incident = get_readable_incident_or_404(
        incident_id, [selectinload(Incident.factors), selectinload(Incident.tags)]
    )
    items = similar_incidents(current_user, traits_of(incident))
    template = (
        "knowledge/_similar.html"
        if request.headers.get("HX-Request")
        else ("knowledge/similar.html")
    )
    return render_template(
        template,
        incident=incident,
        items=items,
        guards=guards_meant_to_prevent(incident),
        mark_form=RecurrenceForm(),
    )


class TraitsForm(Form):
    """What is typed on the filing form so far (read from the query string; bad values are
    simply not used)."""

    class Meta:
        csrf = False

    title = StringField()
    summary = StringField()
    affected_system = StringField()
    tags = StringField()
    team_id = IntegerField("Team", [Optional(), NumberRange(min=1, max=2**31 - 1)])
    started_at = LocalDateTimeField("Started")


@bp.route("/similar")
def similar_to_typed() -> ResponseReturnValue:
    """The similar-postmortems panel of the filing form, for what has been typed so far."""
    form = TraitsForm(request.args)
    form.validate()
    for field in (form.title, form.summary, form.affected_system, form.tags):
        field.data = (field.data or "").replace("\x00", "")  # PostgreSQL refuses NUL in text
    factor_ids = frozenset(
        int(value)
        for name, value in request.args.items(multi=True)
        if name.startswith("factors-")
        and name.endswith("-factor_id")
        and value.isdigit()
        and len(value) < 10
    )
    editing = request.args.get("incident_id", "")
    traits = Traits(
        factor_ids=factor_ids,
        tags=frozenset(parse_tags(form.tags.data or "")[:20]),
        affected_system=(form.affected_system.data or "")[:200],
        team_id=form.team_id.data if not form.team_id.errors else None,
        words=f"{form.title.data or ''} {form.summary.data or ''}"[:500],
        title=(form.title.data or "")[:300],
        started_before=form.started_at.data if not form.started_at.errors else None,
        exclude_id=int(editing) if editing.isdigit() and len(editing) < 10 else None,
    )
    items = similar_incidents(current_user, traits)
    return render_template("knowledge/_similar_typed.html", items=items)


class RecurrenceForm(Form):
    recurrence_of_id = HiddenField()
    version = HiddenField()


@bp.route("/incidents/<int:incident_id>/recurrence", methods=["POST"])
def mark_as_recurrence(incident_id: int) -> ResponseReturnValue:
    """Mark this postmortem a recurrence of an earlier one (one click from the panel)."""
    incident = get_editable_incident_or_404(incident_id)
    form = RecurrenceForm()
    earlier = str(form.recurrence_of_id.data or "")
    version = str(form.version.data or "")
    if not form.validate_on_submit() or not earlier.isdigit() or len(earlier) > 9:
        flash("Choose the earlier postmortem this one repeats.", "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    try:
        commit_change(
            lambda: mark_recurrence(
                incident,
                int(earlier),
                editor=current_user,
                expected_version=int(version) if version.isdigit() else None,
            )
        )
    except ConflictError as exc:
        flash(str(exc), "error")
    except DomainError as exc:
        flash(" ".join(m for ms in exc.fields.values() for m in ms) or str(exc), "error")
    else:
        flash("Marked as a recurrence.")
    return redirect(url_for("incidents.detail", incident_id=incident_id))
