"""The search page, its JSON, and the picker that finds a postmortem by key or words."""

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from postmortems.cache import cached
from postmortems.incidents.forms import FilterForm
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
        filters_html = Markup(render_template("search/_filter_fields.html", form=form))
        page = render_template(
            "search/index.html", form=form, filters_html=filters_html, results=None, q=_query()
        )
        return page, 400
    results = search(current_user, _query(), form.filters(), form.page.data or 1, kind=_kind())
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    # The filters' hundred-odd options cost more to render than the search: kept per viewer
    # and filter values until the data changes, as on the postmortem list.
    chosen = tuple(sorted((k, v) for k, v in query.items() if k not in ("q", "kind")))
    filters_html = cached(
        ("search_filters_html", chosen),
        lambda: Markup(render_template("search/_filter_fields.html", form=form)),
        viewer=current_user,
    )
    return render_template(
        "search/index.html",
        filters_html=filters_html,
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
