"""`/healthz`: whether the app can reach its database, for load balancers; no sign-in."""

from flask import Blueprint
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from postmortems.db import session

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer `ok` after one `SELECT 1` through the app's session: the floor of every page."""
    session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
