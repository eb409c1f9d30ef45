"""The JSON API, /api/v1: the same services as the pages, authenticated by personal tokens.

Only `Authorization: Bearer <token>` authenticates here; a session cookie is ignored, so a
page on another site cannot make a signed-in browser call the API, and no CSRF token is
needed. The token's user is the current user for everything the views call: their role and
the postmortems they may see apply as on the pages.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from models import CauseCategory, ContributingFactor, GuardCheck, Incident, Team, User
from postmortems.api import schemas, values
from postmortems.api.errors import ApiError
from postmortems.api.limits import RateLimited, RateLimits, count_request, refuse_if_failing
from postmortems.api.openapi import describe, openapi_document
from postmortems.auth.access import visible_incidents
from postmortems.auth.sessions import client_address, set_token_user
from postmortems.db import commit_change, session
from postmortems.domain import ConflictError, DomainError, NotFoundError, Problems
from postmortems.extensions import csrf
from postmortems.guards.health import guards_health
from postmortems.guards.runs import guard_facts, record_run
from postmortems.guards.service import list_guards, protected_incidents
from postmortems.incidents import workflow
from postmortems.incidents.filing import file_postmortem, save_postmortem
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS
from postmortems.incidents.service import (
    PAGE_OPTIONS,
    IncidentFilters,
    count_incidents,
    list_incidents,
)
from postmortems.markdown import MarkdownError, check_markdown
from postmortems.pagination import paginate
from postmortems.policy import can
from postmortems.reports import render
from postmortems.reports.requests import quarterly_from_request, trend_from_request
from postmortems.responses import json_response
from postmortems.search.service import search
from postmortems.teams.service import list_stages, list_teams
from postmortems.tokens.service import TokenOwner, TokenRefused, authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # cookies never authenticate here, so a forged request carries no one's rights

# Endpoints anyone may read: the API's description.
PUBLIC = {"api.openapi", "api.reference"}
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
STEPS = {
    "submit": workflow.submit_for_review,
    "publish": workflow.publish,
    "send-back": workflow.send_back,
    "archive": workflow.archive,
}
MAX_NESTING = 20


@bp.before_request
def authenticate_token() -> None:
    """The token's user becomes the current user; without a live token, 401. Every request
    counts against the rate limits of its address and its token (or, without a live token, the
    much lower limit of failures per address): over one, 429 with Retry-After."""
    limits = RateLimits.from_config(current_app)
    address = client_address()
    try:
        if request.endpoint in PUBLIC:
            count_request(address, limits)  # and current_user stays anonymous
            return
        refuse_if_failing(address, limits)
        owner, refusal = _token_owner()
        if owner is None:
            count_request(address, limits, failed=True)
        else:
            count_request(address, limits, token_id=owner.token_id)
    except RateLimited as exc:
        raise ApiError(429, exc.message, headers={"Retry-After": str(exc.retry_after)}) from None
    user = session.get(User, owner.user_id) if owner is not None else None
    if user is None or not user.is_active:
        raise ApiError(401, refusal)
    set_token_user(user)  # Flask-Login's current user (its request loader), for the policy


def _token_owner() -> tuple[TokenOwner | None, str]:
    """The live token of the Authorization header, or None and why (empty: the usual 401)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None, ""
    try:
        return authenticate(secret.strip()), ""
    except TokenRefused as exc:
        return None, str(exc)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _require(action: str, target: Incident | None = None) -> None:
    if not can(current_user, action, target):
        raise ApiError(403)


def parse(model: type[M]) -> M:
    """The request body as `model`: 415 unless it is sent as JSON, 400 when it is not JSON, 422
    naming each bad field."""
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "Send the body as JSON, with Content-Type: application/json.",
            {"Content-Type": [f"Use application/json, not {request.mimetype or 'none'}."]},
        )
    raw = request.get_data(cache=False)  # over the size limit: 413
    if not raw.strip():
        raise ApiError(400, "Send a JSON object as the request body.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}.") from None
    data = _clean(data, 0)
    try:
        parsed = model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise ApiError(
            422, "Some fields are missing or not valid; see fields.", _fields(exc)
        ) from None
    try:
        check_markdown(dict(schemas.markdown_fields(parsed)))
    except MarkdownError as exc:
        raise ApiError(422, "Some Markdown is over the limits; see fields.", exc.fields) from None
    return parsed


def _clean(value: Any, depth: int) -> Any:
    """Drop NUL characters from strings (PostgreSQL refuses them; nobody types them) and
    refuse text that is not valid Unicode or nesting deeper than any request needs."""
    if depth > MAX_NESTING:
        raise ApiError(400, "The body is nested too deeply.")
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ApiError(400, "The body holds text that is not valid Unicode.") from None
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_clean(k, depth + 1): _clean(v, depth + 1) for k, v in value.items()}
    return value


def _fields(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, []).append(error["msg"])
    return fields


def _query(model: type[M], status: int = 422) -> M:
    """The query string as `model`: an empty value is a value (and refused where the schema
    says so), not a parameter left out. The reports answer 400, as they always have."""
    args = {name: value.replace("\x00", "") for name, value in request.args.items()}
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise ApiError(status, "Some parameters are not valid; see fields.", _fields(exc)) from None


def _answer(model: type[BaseModel], payload: Any, status: int = 200, **headers: str) -> Response:
    """The payload shaped by its answer model (what the OpenAPI document promises)."""
    body = model.model_validate(payload).model_dump(mode="json")
    return json_response(body, status, headers)


def _refused(exc: DomainError) -> ApiError:
    status = 409 if isinstance(exc, ConflictError) else 422
    fields = values.api_fields(exc)
    if isinstance(exc, workflow.WorkflowError) and exc.problems:
        fields["publish"] = list(exc.problems)
    return ApiError(status, exc.message, fields)


# Postmortems.


def _postmortem_url(incident: Incident) -> str:
    return url_for("api.get_postmortem", key=incident.key)


def _readable(key: str, *, whole: bool = False) -> Incident:
    """The postmortem with this key if the token's user may see it; 404 otherwise."""
    if "\x00" in key or len(key) > 20:
        raise ApiError(404)
    stmt = select(Incident).where(Incident.key == key, visible_incidents(_user()))
    if whole:
        stmt = stmt.options(*PAGE_OPTIONS).execution_options(populate_existing=True)
    incident = session.scalar(stmt)
    if incident is None:
        raise ApiError(404)
    g.setdefault("access_answers", {})[("read", _user().id, incident.id)] = True
    return incident


def _postmortem_answer(key: str, status: int = 200, **headers: str) -> Response:
    incident = _readable(key, whole=True)
    payload = values.postmortem(incident, _postmortem_url(incident), _user())
    return _answer(schemas.Postmortem, payload, status, ETag=f'"{incident.version}"', **headers)


@bp.get("/postmortems")
def list_postmortems() -> ResponseReturnValue:
    """The postmortems you may see, newest first, filtered and paginated as on the list page."""
    query = _query(schemas.PostmortemQuery)
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
    user = _user()
    try:
        total = count_incidents(user, filters)
        stmt = list_incidents(user, filters, many=total >= ORDER_INDEX_FROM_ROWS)
    except DomainError as exc:
        raise _refused(exc) from None
    per_page = int(current_app.config["INCIDENTS_PER_PAGE"])
    page = paginate(stmt, query.page, per_page=per_page, total=total)
    payload = {
        "items": [values.summary(i, _postmortem_url(i)) for i in page.items],
        "page": page.number,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }
    return _answer(schemas.PostmortemPage, payload)


@bp.post("/postmortems")
def create_postmortem() -> ResponseReturnValue:
    """File a draft with all its parts in one transaction: all of it is stored, or nothing."""
    _require("file_incident")
    body = parse(schemas.PostmortemIn)
    user = _user()

    def change() -> Incident:
        incident_values = values.incident_values(body, user)
        return file_postmortem(incident_values, values.part_values(body), author=user)

    try:
        incident = commit_change(change)
    except DomainError as exc:
        raise _refused(exc) from None
    url = _postmortem_url(incident)
    payload = {"id": incident.id, "key": incident.key, "url": url}
    return _answer(schemas.Created, payload, 201, Location=url)


@bp.get("/postmortems/<key>")
def get_postmortem(key: str) -> ResponseReturnValue:
    """One postmortem with every part; its `version` (also the ETag) is what PATCH needs."""
    return _postmortem_answer(key)


@bp.patch("/postmortems/<key>")
def update_postmortem(key: str) -> ResponseReturnValue:
    """Change fields and add parts, based on the version you read: 409 if it has changed."""
    incident = _readable(key)
    _require("edit", incident)
    body = parse(schemas.PostmortemPatch)
    version = body.version if body.version is not None else _if_match()
    if version is None:
        raise ApiError(
            422,
            "Send the version you read, as If-Match or as version.",
            {"version": ["Required (or an If-Match header)."]},
        )
    user = _user()

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
        raise _refused(exc) from None
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
    _require(step, incident)
    user = _user()
    try:
        commit_change(lambda: STEPS[step](incident, user, body.comment if body else ""))
    except DomainError as exc:
        raise _refused(exc) from None
    return _postmortem_answer(incident.key)


@bp.get("/search")
def search_postmortems() -> ResponseReturnValue:
    """The search box's results, among what the token's user may see."""
    query = _query(schemas.SearchQuery)
    results = search(_user(), query.q, page=query.page, kind=query.kind)
    return _answer(schemas.SearchResults, results.to_json())


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
    return _answer(schemas.Taxonomy, payload)


def _guard(guard: GuardCheck) -> dict[str, Any]:
    names = [
        "id",
        "name",
        "kind",
        "status",
        "freshness_days",
        "location",
        "owner",
        "description_md",
        "created_at",
        "updated_at",
    ]
    return {name: getattr(guard, name) for name in names}


@bp.get("/guards")
def guards() -> ResponseReturnValue:
    """Every guard check, by name."""
    items = [_guard(guard) for guard in session.scalars(list_guards())]
    return _answer(schemas.GuardList, {"items": items})


@bp.get("/guards/health")
def guards_health_report() -> ResponseReturnValue:
    """Failing and stale guard checks and overdue action items, now: what `flask guards check`
    reports (`clean` false where it exits non-zero); action items of postmortems you may see."""
    health = guards_health(datetime.now(UTC), _user())
    return _answer(schemas.GuardsHealth, health.to_json())


@bp.get("/guards/<int:guard_id>")
def guard(guard_id: int) -> ResponseReturnValue:
    """One guard check, its state, and the keys of the postmortems it protects that you may
    see."""
    found = session.get(GuardCheck, guard_id)
    if found is None:
        raise ApiError(404)
    keys = [i.key for i in session.scalars(protected_incidents(found, _user()))]
    facts = guard_facts(found, datetime.now(UTC))
    payload = {
        **_guard(found),
        "postmortems": keys,
        "state": facts.state.name,
        "last_run_at": facts.last_run_at,
        "last_pass_at": facts.last_pass_at,
    }
    return _answer(schemas.GuardDetail, payload)


@bp.post("/guards/<int:guard_id>/runs")
def report_run(guard_id: int) -> ResponseReturnValue:
    """Record a run of a guard check: what a CI job sends after the check ran."""
    _require("record_guard_run")
    body = parse(schemas.GuardRunIn)
    user = _user()
    problems = Problems()
    ran_at = body.ran_at
    if ran_at is not None and ran_at.tzinfo is None:  # a CI job's clock: no zone to assume
        problems.add("ran_at", "Give the time with its zone (2026-11-20T10:00:00Z).")
    else:
        ran_at = values.instant(ran_at, "ran_at", problems)  # a year it could not convert: 422
    if problems:
        raise ApiError(422, "Some fields are not valid; see fields.", problems.fields)

    def change() -> Any:
        return record_run(
            guard_id,
            status=body.status,
            ran_at=ran_at,
            url=body.url,
            details=body.details,
            reporter=user,
        )

    try:
        run = commit_change(change)
    except NotFoundError:
        raise ApiError(404, "No such guard check.") from None
    except DomainError as exc:
        raise _refused(exc) from None
    guard_url = url_for("api.guard", guard_id=guard_id)
    payload = {
        "id": run.id,
        "guard_id": guard_id,
        "status": run.status.name,
        "ran_at": run.ran_at,
        "url": run.url,
        "details": run.details,
        "reported_by": user.email,
        "state": guard_facts(run.guard, datetime.now(UTC)).state.name,
    }
    return _answer(schemas.GuardRunOut, payload, 201, Location=guard_url)


def _team(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "snapshots": [{"on_date": s.on_date, "headcount": s.headcount} for s in team.snapshots],
    }


@bp.get("/teams")
def teams() -> ResponseReturnValue:
    """Teams with their headcount snapshots (each holds until the team's next one)."""
    items = [_team(team) for team in session.scalars(list_teams())]
    return _answer(schemas.TeamList, {"items": items})


@bp.get("/teams/<int:team_id>")
def team(team_id: int) -> ResponseReturnValue:
    found = session.get(Team, team_id)
    if found is None:
        raise ApiError(404)
    return _answer(schemas.TeamOut, _team(found))


@bp.get("/growth-stages")
def growth_stages() -> ResponseReturnValue:
    """The growth stages: named bands of company headcount."""
    names = ["id", "name", "min_headcount", "max_headcount", "description"]
    items = [{n: getattr(s, n) for n in names} for s in session.scalars(list_stages())]
    return _answer(schemas.StageList, {"items": items})


# Reports: the same payloads as the report pages' .json, from the same functions.


def _report(build: Callable[[], R]) -> R:
    """A report built from the request's parameters (checked first by the API's own model).
    The report pages answer a broken rule of theirs (`to` before `from`) with a plain 400;
    the DomainError behind it names the parameter, and so does the API's answer."""
    try:
        return build()
    except BadRequest as exc:
        cause = exc.__context__
        fields = values.api_fields(cause) if isinstance(cause, DomainError) else {}
        raise ApiError(400, str(exc.description or ""), fields) from None


@bp.get("/reports/trends")
def trends() -> ResponseReturnValue:
    _require("read_reports")
    _query(schemas.TrendQuery, 400)
    return json_response(render.trend_json(_report(trend_from_request)))


@bp.get("/reports/quarterly/<quarter>")
def quarterly(quarter: str) -> ResponseReturnValue:
    _require("read_reports")
    _query(schemas.QuarterlyQuery, 400)
    report = _report(lambda: quarterly_from_request(quarter))
    return json_response(render.quarterly_json(report))


# The description of all of the above.


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    return json_response(openapi_document())


@bp.get("/")
def reference() -> ResponseReturnValue:
    """A readable reference, rendered from the OpenAPI document."""
    return render_template("api/reference.html", doc=openapi_document(), describe=describe)
