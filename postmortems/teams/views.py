"""Teams, their headcount over time, and the growth stages."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from models import GrowthStage, HeadcountSnapshot, Team
from postmortems.cache import cached
from postmortems.charts import svg_response
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError
from postmortems.policy import can, requires
from postmortems.teams import service
from postmortems.teams.charts import headcount_chart_svg
from postmortems.teams.forms import GrowthStageForm, HeadcountSnapshotForm, TeamForm
from postmortems.teams.service import growth_timeline, list_stages, list_teams
from postmortems.timezones import local_today

bp = Blueprint("teams", __name__, url_prefix="/teams")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Teams with their latest headcount, today's company headcount, and the stages."""
    return render_template(
        "teams/index.html",
        teams=session.scalars(list_teams()).all(),
        stages=session.scalars(list_stages()).all(),
        today=growth_timeline().on(local_today()),
        steps=growth_timeline().spans,
    )


@bp.route("/headcount.svg")
def headcount_svg() -> ResponseReturnValue:
    """The company's headcount over time with the stages' bands (the teams page's table under
    it holds the same steps)."""
    today = local_today()
    svg = cached(
        ("headcount_chart", today),
        lambda: headcount_chart_svg(growth_timeline(), today),
        viewer=None,
    )
    return svg_response(svg)


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_teams")
def create() -> ResponseReturnValue:
    """Add a team."""
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = commit_change(
                lambda: service.create_team(
                    name=form.name.data or "", description=form.description.data or ""
                )
            )
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Team {team.name} added.")
            return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/form.html", form=form, team=None)


@bp.route("/<int:team_id>", methods=["GET", "POST"])
def detail(team_id: int) -> ResponseReturnValue:
    """A team's headcount history, with the form to add a count."""
    team = get_or_404(Team, team_id)
    form = HeadcountSnapshotForm()
    if form.is_submitted() and not can(current_user, "manage_teams"):
        abort(403)
    if form.validate_on_submit():
        on_date, headcount = form.values()
        try:
            commit_change(lambda: service.add_snapshot(team, on_date=on_date, headcount=headcount))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Headcount added.")
            return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/detail.html", team=team, form=form, delete_form=FlaskForm())


@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
@requires("manage_teams")
def edit(team_id: int) -> ResponseReturnValue:
    """Rename or describe a team."""
    team = get_or_404(Team, team_id)
    form = TeamForm(team=team)
    if form.validate_on_submit():
        try:
            commit_change(
                lambda: service.update_team(
                    team, name=form.name.data or "", description=form.description.data or ""
                )
            )
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Team saved.")
            return redirect(url_for("teams.detail", team_id=team.id))
    return render_template("teams/form.html", form=form, team=team)


@bp.route("/<int:team_id>/snapshots/<int:snapshot_id>/delete", methods=["POST"])
@requires("manage_teams")
def delete_snapshot(team_id: int, snapshot_id: int) -> ResponseReturnValue:
    """Remove one headcount count."""
    snapshot = get_or_404(HeadcountSnapshot, snapshot_id)
    if snapshot.team_id != team_id:
        abort(404)
    if FlaskForm().validate_on_submit():
        commit_change(lambda: service.delete_snapshot(snapshot))
        flash("Headcount removed.")
    return redirect(url_for("teams.detail", team_id=team_id))


@bp.route("/stages/new", methods=["GET", "POST"])
@requires("manage_teams")
def create_stage() -> ResponseReturnValue:
    """Add a growth stage."""
    form = GrowthStageForm()
    if form.validate_on_submit():
        try:
            stage = commit_change(lambda: service.create_stage(form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Stage {stage.name} added.")
            return redirect(url_for("teams.index", _anchor="stages"))
    return render_template("teams/stage_form.html", form=form, stage=None)


@bp.route("/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@requires("manage_teams")
def edit_stage(stage_id: int) -> ResponseReturnValue:
    """Change a growth stage's name or band."""
    stage = get_or_404(GrowthStage, stage_id)
    form = GrowthStageForm(stage=stage)
    if form.validate_on_submit():
        try:
            commit_change(lambda: service.update_stage(stage, form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Stage saved.")
            return redirect(url_for("teams.index", _anchor="stages"))
    return render_template("teams/stage_form.html", form=form, stage=stage)
