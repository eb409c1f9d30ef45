"""`flask search reindex`: make the search index again from the stored postmortems."""

import click
from flask.cli import AppGroup

from postmortems.db import commit_change, session
from postmortems.search.index import rebuild

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def search_reindex() -> None:
    """Rebuild the whole search index (after a bulk load, or to be sure it is complete).
    The index otherwise follows every change by itself."""

    def progress(done: int, total: int) -> None:
        click.echo(f"  {done:,}/{total:,} postmortems", err=True)

    documents = commit_change(lambda: rebuild(session.connection(), progress))
    click.echo(f"Indexed {documents:,} documents.")
