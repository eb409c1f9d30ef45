"""`flask tokens create EMAIL --name NAME [--expires-in-days N]`: a token for a script, printed
alone on the last line."""

import click
from flask.cli import AppGroup

from postmortems.auth.service import get_user_by_email
from postmortems.db import commit_change
from postmortems.domain import DomainError
from postmortems.tokens.service import create_token

tokens_cli = AppGroup("tokens", help="Personal API tokens.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Where the token will be used, e.g. CI.")
@click.option(
    "--expires-in-days",
    type=int,
    default=None,
    help="Days until it stops working (default: API_TOKEN_DEFAULT_DAYS; at most "
    "API_TOKEN_MAX_DAYS).",
)
def tokens_create(email: str, name: str, expires_in_days: int | None) -> None:
    """Make an API token for the account EMAIL; the token is printed alone on the last line
    (`TOKEN=$(flask tokens create … | tail -n 1)`) and is not shown again."""
    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with the email {email}.")
    try:
        token, secret = commit_change(lambda: create_token(user, name, expires_in_days))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    expires = token.expires_at.date().isoformat()
    click.echo(
        f"Token “{token.name}” for {user.email} ({user.role.label.lower()}), "
        f"expires on {expires} (UTC):"
    )
    click.echo(secret)
