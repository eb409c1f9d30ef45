"""The audit log page, for admins."""

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from postmortems.audit.service import incident_names, list_events
from postmortems.pagination import paginate
from postmortems.policy import requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@requires("read_audit_log")
def index() -> ResponseReturnValue:
    """Every change across the app, newest first."""
    page = paginate(list_events(), request.args.get("page", 1, type=int), per_page=50)
    return render_template("audit/index.html", page=page, names=incident_names(page.items))
