"""Guard check pages: the list, one guard with what it protects, and its form."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from models import GuardCheck
from postmortems.cache import cached
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError
from postmortems.guards.forms import GuardCheckForm
from postmortems.guards.service import (
    action_item_counts,
    count_protected,
    create_guard,
    linked_action_items,
    list_guards,
    protected_incidents,
    update_guard,
)
from postmortems.incidents.service import ORDER_INDEX_FROM_ROWS
from postmortems.pagination import paginate
from postmortems.policy import requires

bp = Blueprint("guards", __name__, url_prefix="/guards")


@bp.route("/")
def index() -> ResponseReturnValue:
    """List every guard check."""
    # The same table for everyone: rendered once per data version.
    table = cached(("guard_list_html",), _render_guard_table)
    return render_template("guards/index.html", table=table)


def _render_guard_table() -> Markup:
    guards = session.scalars(list_guards()).all()
    return Markup(render_template("guards/_table.html", guards=guards, counts=action_item_counts()))


@bp.route("/<int:guard_id>")
def detail(guard_id: int) -> ResponseReturnValue:
    """One guard check with the incidents and action items it protects."""
    guard = get_or_404(GuardCheck, guard_id)
    total = count_protected(guard, current_user)
    page = paginate(
        protected_incidents(guard, current_user, many=total >= ORDER_INDEX_FROM_ROWS),
        request.args.get("page", 1, type=int),
        per_page=current_app.config["INCIDENTS_PER_PAGE"],
        total=total,
    )
    return render_template(
        "guards/detail.html",
        guard=guard,
        page=page,
        items=linked_action_items(guard, [incident.id for incident in page.items]),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("add_guard")
def create() -> ResponseReturnValue:
    """Add a guard check."""
    form = GuardCheckForm()
    if form.validate_on_submit():
        try:
            guard = commit_change(lambda: create_guard(form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Guard check “{guard.name}” added.")
            return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=None)


@bp.route("/<int:guard_id>/edit", methods=["GET", "POST"])
@requires("edit_guard")
def edit(guard_id: int) -> ResponseReturnValue:
    """Edit a guard check."""
    guard = get_or_404(GuardCheck, guard_id)
    form = GuardCheckForm(guard=guard)
    if form.validate_on_submit():
        try:
            commit_change(lambda: update_guard(guard, form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Guard check saved.")
            return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=guard)
