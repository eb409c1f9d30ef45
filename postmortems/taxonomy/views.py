"""The cause taxonomy: four fixed categories and the factors inside them."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from models import CauseCategory, ContributingFactor
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError
from postmortems.policy import requires
from postmortems.taxonomy import service
from postmortems.taxonomy.forms import ContributingFactorForm

bp = Blueprint("taxonomy", __name__, url_prefix="/taxonomy")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Every category with its factors and how many incidents name each, counted as the
    reports count; each count links to the list of the same incidents."""
    uses = service.incident_counts(current_user)
    factors = session.scalars(select(ContributingFactor).order_by(ContributingFactor.name))
    by_category: dict[CauseCategory, list[tuple[ContributingFactor, service.FactorCount]]] = {
        c: [] for c in CauseCategory
    }
    for factor in factors:
        by_category[factor.category].append((factor, uses.get(factor.id, service.FactorCount())))
    return render_template("taxonomy/index.html", by_category=by_category)


@bp.route("/factors/new", methods=["GET", "POST"])
@requires("manage_taxonomy")
def create_factor() -> ResponseReturnValue:
    """Add a contributing factor to a category."""
    form = ContributingFactorForm()
    if form.validate_on_submit():
        try:
            factor = commit_change(lambda: service.create_factor(**form.fields()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Factor “{factor.name}” added.")
            return redirect(url_for("taxonomy.index"))
    return render_template("taxonomy/form.html", form=form, factor=None)


@bp.route("/factors/<int:factor_id>/edit", methods=["GET", "POST"])
@requires("manage_taxonomy")
def edit_factor(factor_id: int) -> ResponseReturnValue:
    """Rename, describe or move a contributing factor."""
    factor = get_or_404(ContributingFactor, factor_id)
    form = ContributingFactorForm(factor=factor)
    if form.validate_on_submit():
        try:
            commit_change(lambda: service.update_factor(factor, **form.fields()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Factor saved.")
            return redirect(url_for("taxonomy.index"))
    return render_template("taxonomy/form.html", form=form, factor=factor)
