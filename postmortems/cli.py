"""Command-line commands, grouped by noun: `flask db ...`, `flask demo ...`."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from models import Role, User
from postmortems.auth.service import (
    AccountError,
    create_user,
    get_user_by_email,
    random_password,
    set_password,
)
from postmortems.db import commit_change, session
from postmortems.demo import load_demo_data
from postmortems.files import write_private
from postmortems.markdown import render_all

if TYPE_CHECKING:  # Alembic is imported only by the commands that use it: it is slow to load
    from alembic.config import Config as AlembicConfig
from postmortems.domain import DomainError

DEMO_ADMIN_EMAIL = "admin@example.com"

# Asked for at a hidden prompt, twice, when not given on the command line.
password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out.",
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="Database schema, changed only through Alembic migrations.")
markdown_cli = AppGroup("markdown", help="Stored HTML of the Markdown sections.")
demo_cli = AppGroup("demo", help="Demo data.")
users_cli = AppGroup("users", help="Accounts.")
report_cli = AppGroup("report", help="Reports.")


def alembic_config(database_url: str) -> "AlembicConfig":
    """An Alembic configuration for this project's migrations and the given database."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: the latest)."""
    from alembic import command

    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. -1 or base)."""
    from alembic import command

    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database."""
    from alembic import command

    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


@markdown_cli.command("render")
def markdown_render() -> None:
    """Render every Markdown section to its stored HTML again (after the sanitiser changed,
    or after a bulk load)."""
    rows = commit_change(lambda: render_all(session))
    click.echo(f"Rendered the Markdown of {rows} rows.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the founding-story postmortems; running it again changes nothing.

    On a database without accounts it also creates a demo admin with a random password.
    """
    admin_password = None
    if session.scalar(select(func.count()).select_from(User)) == 0:
        admin_password = random_password()
        create_user(DEMO_ADMIN_EMAIL, admin_password, Role.ADMIN, name="Demo admin")
    try:
        created = commit_change(load_demo_data)
    except DomainError as exc:
        raise click.ClickException(f"The demo data breaks a rule: {exc}") from exc
    if created:
        click.echo(f"Loaded demo data: {created} postmortems.")
    else:
        click.echo("Demo data already present; nothing changed.")
    if admin_password:
        click.echo(
            f"Created the demo admin. Sign in as {DEMO_ADMIN_EMAIL} with the password "
            f"{admin_password}\n(change it under 'Password' once signed in; "
            "`flask users set-password` resets it)."
        )


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.name.lower() for r in Role]),
    default="reader",
    show_default=True,
    help="What the user may do.",
)
@click.option("--name", default="", help="Name shown in the app.")
@password_option
def users_create(email: str, role: str, name: str, password: str) -> None:
    """Create an account (the first admin included)."""
    try:
        user = create_user(email, password, Role[role.upper()], name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Created {user.email} as {user.role.label.lower()}.")


@users_cli.command("set-password")
@click.argument("email")
@password_option
def users_set_password(email: str, password: str) -> None:
    """Set a new password for an account; it is signed out everywhere."""
    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    try:
        set_password(user, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Password set for {user.email}.")


@report_cli.command("quarterly")
@click.argument("quarter")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["md", "html", "json", "pdf"]),
    default="md",
    show_default=True,
)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
def report_quarterly(quarter: str, output_format: str, output: str | None) -> None:
    """Write the quarterly review of QUARTER (e.g. 2020Q4), every postmortem listed."""
    import json
    from datetime import UTC, datetime

    from postmortems.reports import render
    from postmortems.reports.periods import Quarter
    from postmortems.reports.render import quarterly_html
    from postmortems.reports.service import quarterly_report

    try:
        report = quarterly_report(Quarter.parse(quarter), None, now=datetime.now(UTC), page=None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    if output_format == "md":
        text = render.quarterly_markdown(report)
    elif output_format == "json":
        text = json.dumps(render.quarterly_json(report), indent=2, sort_keys=True) + "\n"
    elif output_format == "pdf":
        from postmortems.pdf import html_to_pdf
        from postmortems.reports.views import quarterly_document

        with current_app.test_request_context(f"/reports/quarterly/{report.quarter}"):
            pdf = html_to_pdf(quarterly_document(report))  # the route's document, charts too
        if output is None:
            sys.stdout.buffer.write(pdf)
        else:
            write_private(Path(output), pdf)
            click.echo(f"Wrote the {report.quarter} review to {output}.")
        return
    else:
        with current_app.test_request_context(f"/reports/quarterly/{report.quarter}"):
            text = quarterly_html(report)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_private(Path(output), text.encode("utf-8"))
        click.echo(f"Wrote the {report.quarter} review to {output}.")
