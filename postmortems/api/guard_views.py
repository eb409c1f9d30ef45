"""API views of guard checks: list, health, one check, and the runs CI jobs report."""

from datetime import UTC, datetime
from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue

from models import GuardCheck
from postmortems.api import schemas, values
from postmortems.api.blueprint import answer, api_user, bp, parse, refused, require
from postmortems.api.errors import ApiError
from postmortems.db import commit_change, session
from postmortems.domain import DomainError, NotFoundError, Problems
from postmortems.guards.health import guards_health
from postmortems.guards.runs import guard_facts, record_run
from postmortems.guards.service import list_guards, protected_incidents


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
    return answer(schemas.GuardList, {"items": items})


@bp.get("/guards/health")
def guards_health_report() -> ResponseReturnValue:
    """Failing and stale guard checks and overdue action items, now: what `flask guards check`
    reports (`clean` false where it exits non-zero); action items of postmortems you may see."""
    health = guards_health(datetime.now(UTC), api_user())
    return answer(schemas.GuardsHealth, health.to_json())


@bp.get("/guards/<int:guard_id>")
def guard(guard_id: int) -> ResponseReturnValue:
    """One guard check, its state, and the keys of the postmortems it protects that you may
    see."""
    found = session.get(GuardCheck, guard_id)
    if found is None:
        raise ApiError(404)
    keys = [i.key for i in session.scalars(protected_incidents(found, api_user()))]
    facts = guard_facts(found, datetime.now(UTC))
    payload = {
        **_guard(found),
        "postmortems": keys,
        "state": facts.state.name,
        "last_run_at": facts.last_run_at,
        "last_pass_at": facts.last_pass_at,
    }
    return answer(schemas.GuardDetail, payload)


@bp.post("/guards/<int:guard_id>/runs")
def report_run(guard_id: int) -> ResponseReturnValue:
    """Record a run of a guard check: what a CI job sends after the check ran."""
    require("record_guard_run")
    body = parse(schemas.GuardRunIn)
    user = api_user()
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
        raise refused(exc) from None
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
    return answer(schemas.GuardRunOut, payload, 201, Location=guard_url)
