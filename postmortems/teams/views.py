"""Teams, their headcount over time, and the growth stages."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from models import GrowthStage, HeadcountSnapshot, Role, Team
from postmortems.audit.service import record_event
from postmortems.auth.access import role_required
from postmortems.db import get_or_404, session
from postmortems.teams.forms import GrowthStageForm, HeadcountSnapshotForm, TeamForm
from postmortems.teams.service import GrowthTimeline, list_stages, list_teams
from postmortems.timezones import local_today

bp = Blueprint("teams", __name__, url_prefix="/teams")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Teams with their latest headcount, today's company headcount, and the stages."""
    return render_template(
        "teams/index.html",
        teams=session.scalars(list_teams()).all(),
        stages=session.scalars(list_stages()).all(),
        today=GrowthTimeline().on(local_today()),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    """Add a team."""
    form = TeamForm()
    if form.validate_on_submit():
        team = Team()
        form.populate_obj(team)
        session.add(team)
        session.flush()
        record_event("added team", "team", team.id, team.name)
        session.commit()
        flash(f"Team {team.name} added.")
        return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/form.html", form=form, team=None)


@bp.route("/<int:team_id>", methods=["GET", "POST"])
def detail(team_id: int) -> ResponseReturnValue:
    """A team's headcount history, with the form to add a count."""
    team = get_or_404(Team, team_id)
    form = HeadcountSnapshotForm(team=team)
    if form.is_submitted() and not current_user.can(Role.ADMIN):
        abort(403)
    if form.validate_on_submit():
        record_event(
            "added headcount",
            "team",
            team.id,
            f"{team.name}: {form.headcount.data} as of {form.on_date.data}",
        )
        team.snapshots.append(
            HeadcountSnapshot(on_date=form.on_date.data, headcount=form.headcount.data)
        )
        session.commit()
        flash("Headcount added.")
        return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/detail.html", team=team, form=form, delete_form=FlaskForm())


@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(team_id: int) -> ResponseReturnValue:
    """Rename or describe a team."""
    team = get_or_404(Team, team_id)
    form = TeamForm(team=team)
    if form.validate_on_submit():
        form.populate_obj(team)
        record_event("edited team", "team", team.id, team.name)
        session.commit()
        flash("Team saved.")
        return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/form.html", form=form, team=team)


@bp.route("/<int:team_id>/snapshots/<int:snapshot_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def delete_snapshot(team_id: int, snapshot_id: int) -> ResponseReturnValue:
    """Remove one headcount count."""
    snapshot = get_or_404(HeadcountSnapshot, snapshot_id)
    if snapshot.team_id != team_id:
        abort(404)
    if FlaskForm().validate_on_submit():
        session.delete(snapshot)
        record_event(
            "removed headcount", "team", team_id, f"{snapshot.headcount} as of {snapshot.on_date}"
        )
        session.commit()
        flash("Headcount removed.")
    return redirect(url_for("teams.detail", team_id=team_id))


@bp.route("/stages/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_stage() -> ResponseReturnValue:
    """Add a growth stage."""
    form = GrowthStageForm()
    if form.validate_on_submit():
        stage = GrowthStage()
        form.populate_obj(stage)
        session.add(stage)
        session.flush()
        record_event("added growth stage", "growth_stage", stage.id, f"{stage.name} {stage.band}")
        session.commit()
        flash(f"Stage {stage.name} added.")
        return redirect(url_for("teams.index", _anchor="stages"))
    return render_template("teams/stage_form.html", form=form, stage=None)


@bp.route("/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_stage(stage_id: int) -> ResponseReturnValue:
    """Change a growth stage's name or band."""
    stage = get_or_404(GrowthStage, stage_id)
    form = GrowthStageForm(stage=stage)
    if form.validate_on_submit():
        form.populate_obj(stage)
        record_event("edited growth stage", "growth_stage", stage.id, f"{stage.name} {stage.band}")
        session.commit()
        flash("Stage saved.")
        return redirect(url_for("teams.index", _anchor="stages"))
    return render_template("teams/stage_form.html", form=form, stage=stage)
