"""Command-line commands, grouped by noun: `flask db ...`, `flask demo ...`."""

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import AppGroup

from postmortems.db import session
from postmortems.demo import load_demo_data

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="Database schema, changed only through Alembic migrations.")
demo_cli = AppGroup("demo", help="Demo data.")


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration for this project's migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: the latest)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. -1 or base)."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database."""
    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


@demo_cli.command("load")
def demo_load() -> None:
    """Load the founding-story postmortems; running it again changes nothing."""
    created = load_demo_data()
    session.commit()
    if created:
        click.echo(f"Loaded demo data: {created} postmortems.")
    else:
        click.echo("Demo data already present; nothing changed.")
