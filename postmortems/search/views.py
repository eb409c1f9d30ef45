"""The search page, its JSON, and the picker that finds a postmortem by key or words."""

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from postmortems.incidents.views import FilterForm
from postmortems.search.picker import pick_incidents
from postmortems.search.service import KIND_LABELS, search

bp = Blueprint("search", __name__)


def _query() -> str:
    return request.args.get("q", "")


def _kind() -> str | None:
    kind = request.args.get("kind", "")
    return kind if kind in KIND_LABELS else None


@bp.route("/search")
def index() -> ResponseReturnValue:
    """Results for ?q=…, combinable with the postmortem list's filters."""
    form = FilterForm()
    if not form.validate():
        return render_template("search/index.html", form=form, results=None, q=_query()), 400
    results = search(current_user, _query(), form.filters(), form.page.data or 1, kind=_kind())
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "search/index.html",
        form=form,
        results=results,
        q=_query(),
        query=query,
        base_query={k: v for k, v in query.items() if k != "kind"},
        kinds=KIND_LABELS,
        kind=_kind(),
    )


@bp.route("/search.json")
def index_json() -> ResponseReturnValue:
    """The same results as JSON (title and snippet as escaped HTML with <mark>s)."""
    form = FilterForm()
    if not form.validate():
        return jsonify({"errors": form.errors}), 400
    results = search(current_user, _query(), form.filters(), form.page.data or 1, kind=_kind())
    return jsonify(results.to_json())


@bp.route("/search/incidents")
def pick_incident() -> ResponseReturnValue:
    """Suggestions for a postmortem picker: <option>s of a datalist, or JSON with ?format=json.
    The text comes as `q`, or as the picker field's own name when htmx sends it."""
    text = request.args.get("q") or request.args.get("recurrence_of_id") or ""
    picks = pick_incidents(current_user, text)
    if request.args.get("format") == "json":
        return jsonify([{"key": key, "title": title} for key, title in picks])
    return render_template("search/_picks.html", picks=picks)
