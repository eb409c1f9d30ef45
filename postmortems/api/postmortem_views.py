"""API views of postmortems: list, file, read, change, take a workflow step, search; and the
taxonomy their causes are named by."""

from flask import Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from models import CauseCategory, ContributingFactor, Incident
from postmortems.api import schemas, values
from postmortems.api.blueprint import answer, api_user, bp, parse, parse_query, refused, require
from postmortems.api.errors import ApiError
from postmortems.auth.access import visible_incidents
from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.incidents import workflow
from postmortems.incidents.filing import file_postmortem, save_postmortem
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS
from postmortems.incidents.service import (
    PAGE_OPTIONS,
    IncidentFilters,
    count_incidents,
    list_incidents,
)
from postmortems.pagination import paginate
from postmortems.search.service import search

STEPS = {
    "submit": workflow.submit_for_review,
    "publish": workflow.publish,
    "send-back": workflow.send_back,
    "archive": workflow.archive,
}


def _postmortem_url(incident: Incident) -> str:
    return url_for("api.get_postmortem", key=incident.key)


def _readable(key: str, *, whole: bool = False) -> Incident:
    """The postmortem with this key if the token's user may see it; 404 otherwise."""
    if "\x00" in key or len(key) > 20:
        raise ApiError(404)
    stmt = select(Incident).where(Incident.key == key, visible_incidents(api_user()))
    if whole:
        stmt = stmt.options(*PAGE_OPTIONS).execution_options(populate_existing=True)
    incident = session.scalar(stmt)
    if incident is None:
        raise ApiError(404)
    g.setdefault("access_answers", {})[("read", api_user().id, incident.id)] = True
    return incident


def _postmortem_answer(key: str, status: int = 200, **headers: str) -> Response:
    incident = _readable(key, whole=True)
    payload = values.postmortem(incident, _postmortem_url(incident), api_user())
    return answer(schemas.Postmortem, payload, status, ETag=f'"{incident.version}"', **headers)


@bp.get("/postmortems")
def list_postmortems() -> ResponseReturnValue:
    """The postmortems you may see, newest first, filtered and paginated as on the list page."""
    query = parse_query(schemas.PostmortemQuery)
    filters = IncidentFilters(
        status=query.status,
        severity=query.severity,
        category=query.category,
        factor_id=query.factor,
        team_id=query.team,
        stage_id=query.stage,
        year=query.year,
        tag=query.tag or None,
    )
    user = api_user()
    try:
        total = count_incidents(user, filters)
        stmt = list_incidents(user, filters, many=total >= ORDER_INDEX_FROM_ROWS)
    except DomainError as exc:
        raise refused(exc) from None
    per_page = int(current_app.config["INCIDENTS_PER_PAGE"])
    page = paginate(stmt, query.page, per_page=per_page, total=total)
    payload = {
        "items": [values.summary(i, _postmortem_url(i)) for i in page.items],
        "page": page.number,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }
    return answer(schemas.PostmortemPage, payload)


@bp.post("/postmortems")
def create_postmortem() -> ResponseReturnValue:
    """File a draft with all its parts in one transaction: all of it is stored, or nothing."""
    require("file_incident")
    body = parse(schemas.PostmortemIn)
    user = api_user()

    def change() -> Incident:
        incident_values = values.incident_values(body, user)
        return file_postmortem(incident_values, values.part_values(body), author=user)

    try:
        incident = commit_change(change)
    except DomainError as exc:
        raise refused(exc) from None
    url = _postmortem_url(incident)
    payload = {"id": incident.id, "key": incident.key, "url": url}
    return answer(schemas.Created, payload, 201, Location=url)


@bp.get("/postmortems/<key>")
def get_postmortem(key: str) -> ResponseReturnValue:
    """One postmortem with every part; its `version` (also the ETag) is what PATCH needs."""
    return _postmortem_answer(key)


@bp.patch("/postmortems/<key>")
def update_postmortem(key: str) -> ResponseReturnValue:
    """Change fields and add parts, based on the version you read: 409 if it has changed."""
    incident = _readable(key)
    require("edit", incident)
    body = parse(schemas.PostmortemPatch)
    version = body.version if body.version is not None else _if_match()
    if version is None:
        raise ApiError(
            422,
            "Send the version you read, as If-Match or as version.",
            {"version": ["Required (or an If-Match header)."]},
        )
    user = api_user()

    def change() -> None:
        incident_values = values.incident_values(body, user, incident)
        save_postmortem(
            incident,
            incident_values,
            values.part_values(body),
            editor=user,
            expected_version=version,
        )

    try:
        commit_change(change)
    except DomainError as exc:
        raise refused(exc) from None
    return _postmortem_answer(incident.key)


def _if_match() -> int | None:
    text = request.headers.get("If-Match", "").strip()
    if not text:
        return None
    text = text.removeprefix("W/").strip('"')
    if not text.isdecimal() or len(text) > 10:
        raise ApiError(422, "If-Match holds the version you read.", {"If-Match": ["A number."]})
    return int(text)


@bp.post("/postmortems/<key>/<any(submit, publish, 'send-back', archive):step>")
def take_step(key: str, step: str) -> ResponseReturnValue:
    """Move the postmortem along the review workflow, with an optional comment."""
    incident = _readable(key)
    # Sending back needs a comment, so a body; the other steps may come without one.
    given = step == "send-back" or bool(request.get_data(cache=True).strip())
    model: type[schemas.StepIn | schemas.SendBackIn] = (
        schemas.SendBackIn if step == "send-back" else schemas.StepIn
    )
    body = parse(model) if given else None
    allowed = [name for name, _ in workflow.available_steps(incident)]
    if step not in allowed:
        raise ApiError(
            409,
            f"This postmortem is {incident.status.label.lower()}; it allows "
            f"{', '.join(allowed) or 'no step'}.",
            {"status": [incident.status.name]},
        )
    require(step, incident)
    user = api_user()
    try:
        commit_change(lambda: STEPS[step](incident, user, body.comment if body else ""))
    except DomainError as exc:
        raise refused(exc) from None
    return _postmortem_answer(incident.key)


@bp.get("/search")
def search_postmortems() -> ResponseReturnValue:
    """The search box's results, among what the token's user may see."""
    query = parse_query(schemas.SearchQuery)
    results = search(api_user(), query.q, page=query.page, kind=query.kind)
    return answer(schemas.SearchResults, results.to_json())


# Reference data.


@bp.get("/taxonomy")
def taxonomy() -> ResponseReturnValue:
    """The cause categories and the contributing factors in each."""
    factors = list(session.scalars(select(ContributingFactor).order_by(ContributingFactor.name)))
    payload = {
        "categories": [
            {
                "category": category,
                "label": category.label,
                "factors": [
                    {"id": f.id, "name": f.name, "description": f.description}
                    for f in factors
                    if f.category is category
                ],
            }
            for category in CauseCategory
        ]
    }
    return answer(schemas.Taxonomy, payload)
