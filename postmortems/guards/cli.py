"""`flask guards report` records a run from a shell or a CI job; `flask guards check` prints
what needs attention and exits non-zero when anything does (for a daily cron or CI job)."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from models import GuardCheck
from postmortems.db import commit_change, session
from postmortems.domain import DomainError, NotFoundError
from postmortems.filters import format_datetime
from postmortems.guards.health import guards_health
from postmortems.guards.runs import record_run
from postmortems.timezones import from_local

guards_cli = AppGroup("guards", help="Guard checks: report runs, check their health.")


def _parse_time(value: str | None) -> datetime | None:
    """ISO 8601 with Z or an offset, or without one meaning the configured zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return from_local(parsed) if parsed.tzinfo is None else parsed
    except (ValueError, OverflowError):
        message = "give a time as 2026-11-20T10:00:00Z"
        raise click.BadParameter(message, param_hint="--ran-at") from None


@guards_cli.command("report")
@click.argument("guard_id", type=int)
@click.option("--status", type=click.Choice(["pass", "fail"], case_sensitive=False), required=True)
@click.option("--url", default=None, help="Link to the run (http or https).")
@click.option("--details", default=None, help="A short note, at most 2000 characters.")
@click.option(
    "--ran-at",
    default=None,
    help="When it ran, ISO 8601 (default: now); without an offset, in POSTMORTEMS_TIMEZONE.",
)
def report(
    guard_id: int, status: str, url: str | None, details: str | None, ran_at: str | None
) -> None:
    """Record a run of guard check GUARD_ID."""
    when = _parse_time(ran_at)
    try:
        run = commit_change(
            lambda: record_run(
                guard_id, status=status, ran_at=when, url=url, details=details, reporter=None
            )
        )
    except NotFoundError:
        raise click.ClickException(f"No guard check with id {guard_id}.") from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    guard = session.get(GuardCheck, guard_id)
    name = guard.name if guard else guard_id
    click.echo(
        f"Recorded a {run.status.name.lower()} of “{name}” at {format_datetime(run.ran_at)} "
        f"(run {run.id})."
    )


@guards_cli.command("check")
@click.option("--limit", default=50, show_default=True, help="Overdue action items listed.")
def check(limit: int) -> None:
    """Print failing and stale guards and overdue action items; exit 1 when there are any."""
    health = guards_health(datetime.now(UTC), limit=max(limit, 0))
    for title, rows in (
        ("Failing guard checks", health.failing),
        ("Stale guard checks", health.stale),
    ):
        click.echo(f"{title}: {len(rows)}")
        for row in rows:
            click.echo(
                f"  #{row.id} {row.name} — last run {format_datetime(row.last_run_at)}, "
                f"last pass {format_datetime(row.last_pass_at)}, "
                f"must pass every {row.freshness_days} d"
            )
    click.echo(f"Overdue action items: {health.overdue_total}")
    for item in health.overdue_action_items:
        owner = f", {item.owner}" if item.owner else ""
        click.echo(f"  {item.incident_key}: {item.title} — due {item.due_on.isoformat()}{owner}")
    if health.overdue_total > len(health.overdue_action_items):
        click.echo(f"  … and {health.overdue_total - len(health.overdue_action_items)} more")
    if health.never_verified:
        click.echo(f"Never verified (not counted as a problem): {health.never_verified}")
    if not health.is_clean:
        raise SystemExit(1)
    click.echo("All clear.")
