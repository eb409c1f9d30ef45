"""User management, for admins."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from models import User
from postmortems.audit.service import record_event
from postmortems.auth.service import create_user, update_user
from postmortems.auth.sessions import session_token
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError
from postmortems.policy import requires
from postmortems.users.forms import UserForm

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@requires("manage_users")
def index() -> ResponseReturnValue:
    """Every account with its role."""
    users = session.scalars(select(User).order_by(User.email)).all()
    return render_template("users/index.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_users")
def create() -> ResponseReturnValue:
    """Add an account."""
    form = UserForm()
    if form.validate_on_submit():

        def create_and_record() -> User:
            user = create_user(
                form.email.data or "",
                form.password.data or "",
                form.role.data,
                name=form.name.data or "",
                team_id=form.team_id.data,
                is_active=form.is_active.data,
            )
            record_event("created user", "user", user.id, f"{user.email} as {user.role.label}")
            return user

        try:
            user = commit_change(create_and_record)
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Account {user.email} created.")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@requires("manage_users")
def edit(user_id: int) -> ResponseReturnValue:
    """Change an account's role, team, status or password."""
    user = get_or_404(User, user_id)
    form = UserForm(user=user)
    if form.validate_on_submit():

        def update_and_record() -> None:
            update_user(
                user,
                by=current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data,
                team_id=form.team_id.data,
                is_active=form.is_active.data,
                password=form.password.data or "",
                keep_session=session_token(),
            )
            state = "active" if user.is_active else "inactive"
            record_event(
                "edited user", "user", user.id, f"{user.email}: {user.role.label}, {state}"
            )

        try:
            commit_change(update_and_record)
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Account saved.")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user)
