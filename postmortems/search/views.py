"""The search page, its JSON, and the picker that finds a postmortem by key or words."""

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from postmortems.incidents.views import FilterForm
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
