"""Guard check pages: the list, one guard with what it protects, and its form."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import GuardCheck, Role
from postmortems.audit.service import record_event
from postmortems.auth.access import role_required
from postmortems.db import get_or_404, session
from postmortems.guards.forms import GuardCheckForm
from postmortems.guards.service import list_guards, protected_incidents

bp = Blueprint("guards", __name__, url_prefix="/guards")


@bp.route("/")
def index() -> ResponseReturnValue:
    """List every guard check."""
    return render_template("guards/index.html", guards=session.scalars(list_guards()).all())


@bp.route("/<int:guard_id>")
def detail(guard_id: int) -> ResponseReturnValue:
    """One guard check with the incidents and action items it protects."""
    guard = get_or_404(GuardCheck, guard_id)
    return render_template(
        "guards/detail.html", guard=guard, incidents=protected_incidents(guard, current_user)
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def create() -> ResponseReturnValue:
    """Add a guard check."""
    form = GuardCheckForm()
    if form.validate_on_submit():
        guard = GuardCheck()
        form.populate_obj(guard)
        session.add(guard)
        session.flush()
        record_event("added guard check", "guard_check", guard.id, guard.name)
        session.commit()
        flash(f"Guard check “{guard.name}” added.")
        return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=None)


@bp.route("/<int:guard_id>/edit", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def edit(guard_id: int) -> ResponseReturnValue:
    """Edit a guard check."""
    guard = get_or_404(GuardCheck, guard_id)
    form = GuardCheckForm(guard=guard)
    if form.validate_on_submit():
        form.populate_obj(guard)
        record_event("edited guard check", "guard_check", guard.id, guard.name)
        session.commit()
        flash("Guard check saved.")
        return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=guard)
