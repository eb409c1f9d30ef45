"""A postmortem's history pages: every revision, a diff between any two, and putting an old
revision back (registered on the incidents blueprint)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from models import Incident, IncidentRevision
from postmortems.auth.access import get_editable_incident_or_404, get_readable_incident_or_404
from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.incidents import history
from postmortems.incidents.views import bp
from postmortems.policy import can


@bp.route("/<int:incident_id>/history")
def revisions(incident_id: int) -> ResponseReturnValue:
    """Every revision of a postmortem, and a diff between any two."""
    incident = get_readable_incident_or_404(incident_id)
    numbers = [r.number for r in incident.revisions]
    older = request.args.get("a", type=int)
    newer = request.args.get("b", type=int)
    changes = None
    if older is not None and newer is not None:
        if older not in numbers or newer not in numbers:
            abort(404)
        changes = history.diff(_revision(incident, older), _revision(incident, newer))
    elif len(numbers) >= 2:
        older, newer = numbers[-2], numbers[-1]
        changes = history.diff(_revision(incident, older), _revision(incident, newer))
    return render_template(
        "incidents/history.html",
        incident=incident,
        older=older,
        newer=newer,
        changes=changes,
        editable=can(current_user, "edit", incident),
    )


@bp.route("/<int:incident_id>/history/<int:number>/restore", methods=["GET", "POST"])
def restore(incident_id: int, number: int) -> ResponseReturnValue:
    """Ask, then put an old revision back; the restore is itself a new revision."""
    incident = get_editable_incident_or_404(incident_id)
    revision = _revision(incident, number)
    form = FlaskForm()
    if request.method == "GET":
        return render_template(
            "incidents/restore.html", form=form, incident=incident, revision=revision
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        commit_change(lambda: history.restore(incident, revision))
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Revision {number} restored.")
    return redirect(url_for("incidents.detail", incident_id=incident.id))


def _revision(incident: Incident, number: int) -> IncidentRevision:
    revision = session.scalar(
        select(IncidentRevision).where(
            IncidentRevision.incident_id == incident.id, IncidentRevision.number == number
        )
    )
    if revision is None:
        abort(404)
    return revision
