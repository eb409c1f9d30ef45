"""Sign in, sign out, change password."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm

from postmortems.audit.service import record_event
from postmortems.auth.forms import ChangePasswordForm, LoginForm
from postmortems.auth.service import authenticate, is_safe_next
from postmortems.db import session
from postmortems.extensions import limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")

SIGN_IN_FAILED = "Wrong email or password."


def _failed_sign_in(response: object) -> bool:
    """Only failed attempts count toward the limit (a success answers with a redirect)."""
    return getattr(response, "status_code", 200) != 302


def _login_limit() -> str:
    return f"{current_app.config['SIGN_IN_FAILURES_PER_MINUTE']} per minute"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    methods=["POST"],
    deduct_when=_failed_sign_in,
    error_message="Too many failed sign-ins from here. Wait a minute and try again.",
)
def login() -> ResponseReturnValue:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("incidents.index"))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            session.commit()
            target = form.next.data if is_safe_next(form.next.data) else None
            return redirect(target or url_for("incidents.index"))
        form.password.errors.append(SIGN_IN_FAILED)
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Sign out (POST only, so no link or image can sign you out)."""
    if FlaskForm().validate_on_submit():
        logout_user()
        flash("Signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Change your own password."""
    form = ChangePasswordForm(user=current_user)
    if form.validate_on_submit():
        current_user.set_password(form.new_password.data)
        record_event("changed password", "user", current_user.id, current_user.email)
        session.commit()
        flash("Password changed.")
        return redirect(url_for("incidents.index"))
    return render_template("auth/password.html", form=form)
