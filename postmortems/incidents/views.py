"""Pages to list, read, file and edit postmortems and their parts."""

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from models import (
    ActionItem,
    CauseCategory,
    ContributingFactor,
    ImpactEstimate,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Lesson,
    LessonGroup,
    Severity,
    TimelineEvent,
)
from postmortems.db import get_or_404, session
from postmortems.forms import EnumSelectField, OptionalIdSelectField, parse_tags
from postmortems.incidents import forms
from postmortems.incidents.service import (
    IncidentFilters,
    create_incident,
    growth_at_start,
    incident_years,
    list_incidents,
    list_tags,
    set_primary_factor,
    set_tags,
)
from postmortems.pagination import paginate
from postmortems.teams.service import list_stages, list_teams

bp = Blueprint("incidents", __name__, url_prefix="/incidents")


class FilterForm(FlaskForm):
    """The list's filters: read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    status = EnumSelectField("Status", IncidentStatus, blank="Any", validators=[Optional()])
    severity = EnumSelectField("Severity", Severity, blank="Any", validators=[Optional()])
    category = EnumSelectField(
        "Cause category", CauseCategory, blank="Any", validators=[Optional()]
    )
    factor = OptionalIdSelectField("Factor")
    team = OptionalIdSelectField("Team")
    stage = OptionalIdSelectField("Growth stage")
    year = IntegerField("Year", [Optional(), NumberRange(min=1000, max=9999)])
    tag = SelectField("Tag", coerce=lambda value: value or None)
    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def __init__(self) -> None:
        super().__init__(request.args)
        factors = session.scalars(select(ContributingFactor).order_by(ContributingFactor.name))
        self.factor.choices = [("", "Any")] + [(f.id, str(f)) for f in factors]
        self.team.choices = [("", "Any")] + [(t.id, t.name) for t in session.scalars(list_teams())]
        self.stage.choices = [("", "Any")] + [
            (s.id, f"{s.name} ({s.band})") for s in session.scalars(list_stages())
        ]
        self.tag.choices = [("", "Any")] + [(t, t) for t in list_tags()]

    def filters(self) -> IncidentFilters:
        return IncidentFilters(
            status=self.status.data,
            severity=self.severity.data,
            category=self.category.data,
            factor_id=self.factor.data,
            team_id=self.team.data,
            stage_id=self.stage.data,
            year=self.year.data,
            tag=self.tag.data or None,
        )


@bp.route("/")
def index() -> ResponseReturnValue:
    """List postmortems, filtered and paginated."""
    form = FilterForm()
    if not form.validate():
        return render_template("incidents/index.html", form=form, page=None), 400
    page = paginate(
        list_incidents(form.filters()),
        form.page.data or 1,
        per_page=current_app.config["INCIDENTS_PER_PAGE"],
    )
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "incidents/index.html", form=form, page=page, query=query, years=incident_years()
    )


@bp.route("/<int:incident_id>")
def detail(incident_id: int) -> ResponseReturnValue:
    """Read one postmortem."""
    incident = get_or_404(Incident, incident_id)
    return render_template(
        "incidents/detail.html",
        incident=incident,
        growth=growth_at_start(incident),
        lesson_groups=list(LessonGroup),
        categories=list(CauseCategory),
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> ResponseReturnValue:
    """File a new postmortem."""
    form = forms.IncidentForm()
    if form.validate_on_submit():
        incident = create_incident(title=form.title.data, started_at=form.started_at.data)
        form.apply(incident)
        set_tags(incident, parse_tags(form.tags.data or ""))
        session.commit()
        flash(f"Postmortem {incident.key} filed.")
        return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/form.html", form=form, incident=None)


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
def edit(incident_id: int) -> ResponseReturnValue:
    """Edit a postmortem's fields; a save based on an outdated copy is refused, not applied."""
    incident = get_or_404(Incident, incident_id)
    form = forms.IncidentForm(incident=incident)
    if not form.is_submitted():
        form.version.data = str(incident.version)
    if form.validate_on_submit():
        if form.version.data != str(incident.version):
            return _edit_conflict(form, incident)
        form.apply(incident)
        set_tags(incident, parse_tags(form.tags.data or ""))
        try:
            session.commit()
        except StaleDataError:
            session.rollback()
            return _edit_conflict(form, get_or_404(Incident, incident_id))
        flash("Postmortem saved.")
        return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/form.html", form=form, incident=incident)


def _edit_conflict(form: forms.IncidentForm, incident: Incident) -> ResponseReturnValue:
    """Keep what the user typed and tell them someone else saved in between."""
    session.refresh(incident)
    form.version.data = str(incident.version)
    conflict = (
        "Someone else saved this postmortem after you opened it, so your changes were not "
        "saved. Your text is still below: compare it with the saved version (link above), "
        "then save again to keep yours."
    )
    return render_template(
        "incidents/form.html", form=form, incident=incident, conflict=conflict
    ), 409


@bp.route("/<int:incident_id>/delete", methods=["GET", "POST"])
def delete(incident_id: int) -> ResponseReturnValue:
    """Ask, then delete a postmortem with all its parts."""
    incident = get_or_404(Incident, incident_id)
    form = FlaskForm()
    if form.validate_on_submit():
        session.delete(incident)
        session.commit()
        flash(f"Postmortem {incident.key} deleted.")
        return redirect(url_for("incidents.index"))
    return render_template("incidents/delete.html", form=form, incident=incident)


@dataclass(frozen=True)
class Part:
    """One kind of incident part, edited through the same three views."""

    form_class: type[forms.PartForm]
    model: type[Any]
    label: str
    anchor: str


PARTS = {
    "timeline": Part(forms.TimelineEventForm, TimelineEvent, "timeline event", "timeline"),
    "factors": Part(forms.IncidentFactorForm, IncidentFactor, "contributing factor", "factors"),
    "impacts": Part(forms.ImpactEstimateForm, ImpactEstimate, "impact estimate", "impact"),
    "lessons": Part(forms.LessonForm, Lesson, "lesson", "lessons"),
    "actions": Part(forms.ActionItemForm, ActionItem, "action item", "actions"),
}
PART_NAMES = "any(" + ", ".join(PARTS) + ")"


@bp.route(f"/<int:incident_id>/<{PART_NAMES}:part_name>/new", methods=["GET", "POST"])
def create_part(incident_id: int, part_name: str) -> ResponseReturnValue:
    """Add a timeline event, factor, impact, lesson or action item."""
    incident = get_or_404(Incident, incident_id)
    return _part_form(incident, PARTS[part_name], None)


@bp.route(
    f"/<int:incident_id>/<{PART_NAMES}:part_name>/<int:part_id>/edit", methods=["GET", "POST"]
)
def edit_part(incident_id: int, part_name: str, part_id: int) -> ResponseReturnValue:
    """Edit one part of a postmortem."""
    incident = get_or_404(Incident, incident_id)
    part = PARTS[part_name]
    return _part_form(incident, part, _get_part_or_404(incident, part, part_id))


@bp.route(f"/<int:incident_id>/<{PART_NAMES}:part_name>/<int:part_id>/delete", methods=["POST"])
def delete_part(incident_id: int, part_name: str, part_id: int) -> ResponseReturnValue:
    """Remove one part of a postmortem."""
    incident = get_or_404(Incident, incident_id)
    part = PARTS[part_name]
    obj = _get_part_or_404(incident, part, part_id)
    if FlaskForm().validate_on_submit():
        session.delete(obj)
        session.commit()
        flash(f"The {part.label} was removed.")
    return redirect(url_for("incidents.detail", incident_id=incident.id, _anchor=part.anchor))


def _part_form(incident: Incident, part: Part, obj: Any) -> ResponseReturnValue:
    form = part.form_class(incident=incident, part=obj)
    if form.validate_on_submit():
        if obj is None:
            obj = part.model(incident=incident)
            session.add(obj)
        form.apply(obj)
        if getattr(obj, "is_primary", False):
            set_primary_factor(obj)
        session.commit()
        flash(f"The {part.label} was saved.")
        return redirect(url_for("incidents.detail", incident_id=incident.id, _anchor=part.anchor))
    return render_template(
        "incidents/part_form.html", form=form, incident=incident, part=part, obj=obj
    )


def _get_part_or_404(incident: Incident, part: Part, part_id: int) -> Any:
    obj = get_or_404(part.model, part_id)
    if obj.incident_id != incident.id:
        abort(404)
    return obj
