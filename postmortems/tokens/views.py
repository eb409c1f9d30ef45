"""Your API tokens: make one (its secret shown once), see them, revoke one."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, Optional

from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.forms import Form
from postmortems.tokens.service import (
    NAME_LENGTH,
    create_token,
    default_days,
    get_own_token,
    list_tokens,
    max_days,
)
from postmortems.tokens.service import revoke_token as revoke

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


class TokenForm(Form):
    name = StringField(
        "Name",
        [DataRequired(), Length(max=NAME_LENGTH)],
        description="Where it will be used, e.g. “CI pipeline” or “incident bot”.",
    )
    expires_in_days = IntegerField("Expires in (days)", [Optional()], default=default_days)


def token_form(**kwargs: Any) -> TokenForm:
    """The form, its expiry's maximum named (it is configured, so known only at run time)."""
    form = TokenForm(**kwargs)
    form.expires_in_days.description = f"From 1 to {max_days()} days."
    return form


def _page(form: TokenForm, secret: str | None = None) -> str:
    tokens = list(session.scalars(list_tokens(current_user)))
    return render_template("tokens/index.html", form=form, tokens=tokens, secret=secret)


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """List your tokens and make a new one; the new secret is on this answer and no other."""
    form = token_form()
    if form.validate_on_submit():
        name, days = form.name.data or "", form.expires_in_days.data
        try:
            token, secret = commit_change(lambda: create_token(current_user, name, days))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Token “{token.name}” made. Copy it now: it is not shown again.")
            response = _page(token_form(formdata=None), secret)
            return response, 201, {"Cache-Control": "no-store"}
    return _page(form)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of your tokens; scripts using it get 401 from then on."""
    token = get_own_token(current_user, token_id)
    if token is None:
        abort(404)
    if FlaskForm().validate_on_submit():
        commit_change(lambda: revoke(token))
        flash(f"Token “{token.name}” revoked.")
    return redirect(url_for("tokens.index"))
