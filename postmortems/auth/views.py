"""Sign in, sign out (here or everywhere), change password."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from postmortems.audit.service import record_event
from postmortems.auth.forms import ChangePasswordForm, LoginForm
from postmortems.auth.service import (
    SIGNED_OUT_EVERYWHERE,
    AccountError,
    FailureLimits,
    TooManyFailures,
    change_password,
    end_session,
    end_sessions,
    is_safe_next,
    sign_in,
)
from postmortems.auth.sessions import (
    client_address,
    forget_session,
    remember_session,
    session_token,
)
from postmortems.db import commit_change, session

bp = Blueprint("auth", __name__, url_prefix="/auth")


def failure_limits() -> FailureLimits:
    """The limits on failed sign-ins and password guesses, from the configuration."""
    config = current_app.config
    return FailureLimits(
        per_account_and_address=config["SIGN_IN_FAILURES_PER_MINUTE"],
        per_address=config["SIGN_IN_FAILURES_PER_ADDRESS_PER_MINUTE"],
    )


# Sign-in and password change commit by hand, not through commit_change: a refused attempt
# still writes (the failure must count toward the limits), and commit_change would roll it back.


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user, token = sign_in(
                form.email.data or "",
                form.password.data or "",
                address=client_address(),
                limits=failure_limits(),
            )
        except TooManyFailures as exc:
            form.show_errors(exc)
            return render_template("auth/login.html", form=form), 429
        except AccountError as exc:
            session.commit()  # the failure counts toward the limits
            form.show_errors(exc)
            return render_template("auth/login.html", form=form), 200
        remember_session(user, token)
        session.commit()
        target = form.next.data if is_safe_next(form.next.data) else None
        return redirect(target or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Sign out (POST only, so no link or image can sign you out); the session ends for good,
    so a copy of the cookie is refused too."""
    if FlaskForm().validate_on_submit():
        token = session_token()
        if token is not None:
            commit_change(lambda: end_session(token))
        forget_session()
        flash("Signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/sign-out-everywhere", methods=["POST"])
def sign_out_everywhere() -> ResponseReturnValue:
    """End every session of the current user, this one included, and revoke their API tokens:
    a lost laptop, a shared one."""
    if FlaskForm().validate_on_submit():
        commit_change(lambda: end_sessions(current_user.id, SIGNED_OUT_EVERYWHERE))
        forget_session()
        flash("Signed out on every device.")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Change your own password; your other sessions end, this one stays."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                current_user,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                address=client_address(),
                limits=failure_limits(),
                keep_session=session_token(),
            )
        except TooManyFailures as exc:
            form.show_errors(exc)
            return render_template("auth/password.html", form=form), 429
        except AccountError as exc:
            session.commit()  # a wrong current password counts toward the limits
            form.show_errors(exc)
            return render_template("auth/password.html", form=form)
        record_event("changed password", "user", current_user.id, current_user.email)
        session.commit()
        flash("Password changed. You are signed out everywhere else.")
        return redirect(url_for("incidents.index"))
    return render_template("auth/password.html", form=form)
