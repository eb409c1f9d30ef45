"""The home page: what is waiting for the signed-in person."""

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from postmortems.home.service import desk_of, first_steps
from postmortems.paths.service import offered_paths

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    """My drafts, what waits for my review, my open and overdue action items; for a new user,
    the reading paths meant for them."""
    return render_template(
        "home/index.html",
        desk=desk_of(current_user),
        offers=offered_paths(current_user),
        first_steps=first_steps(current_user),
    )
