"""User management, for admins."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from models import Role, User
from postmortems.audit.service import record_event
from postmortems.auth.access import role_required
from postmortems.db import get_or_404, session
from postmortems.users.forms import UserForm

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Every account with its role."""
    users = session.scalars(select(User).order_by(User.email)).all()
    return render_template("users/index.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    """Add an account."""
    form = UserForm()
    if form.validate_on_submit():
        user = User(password_hash="")
        form.apply(user)
        session.add(user)
        session.flush()
        record_event("created user", "user", user.id, f"{user.email} as {user.role.label}")
        session.commit()
        flash(f"Account {user.email} created.")
        return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(user_id: int) -> ResponseReturnValue:
    """Change an account's role, team, status or password."""
    user = get_or_404(User, user_id)
    form = UserForm(user=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (
            form.role.data is not Role.ADMIN or not form.is_active.data
        ):
            form.role.errors.append("You cannot take away your own admin rights.")
        else:
            form.apply(user)
            record_event(
                "edited user",
                "user",
                user.id,
                f"{user.email}: {user.role.label}, {'active' if user.is_active else 'inactive'}",
            )
            session.commit()
            flash("Account saved.")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user)
