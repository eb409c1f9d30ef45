"""`flask export DIR`, `flask import PATH [--format native|icco|moj]`, `flask backup FILE`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from postmortems.db import session
from postmortems.files import make_private_directory, write_private
from postmortems.transfer import backup, public
from postmortems.transfer.batch import quick_commits
from postmortems.transfer.export_files import export_files
from postmortems.transfer.import_files import ImportSummary, import_files


@click.command("export")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write every postmortem (Markdown with YAML front matter) and the taxonomy, teams,
    stages, guard checks and users (YAML, without password hashes) into DIRECTORY."""
    files = export_files()
    session.rollback()  # only read
    write_files(directory, files)
    postmortems = sum(1 for name in files if name.endswith(".md"))
    click.echo(f"Exported {postmortems} postmortems and {len(files) - postmortems} other files.")


def write_files(directory: Path, files: dict[str, str]) -> None:
    for name, text in sorted(files.items()):
        path = directory / name
        make_private_directory(path.parent)
        write_private(path, text.encode("utf-8"))


def read_files(directory: Path) -> dict[str, bytes]:
    """Every file under `directory`, by its path relative to it (with / on every system), as
    bytes: the import decodes each, so one that is not UTF-8 is refused by itself."""
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
    return files


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["native", "icco", "moj"]),
    default="native",
    show_default=True,
    help="native: a directory written by `flask export`; icco: the icco/postmortems data "
    "folder; moj: the MoJ Cloud Platform incidents folder.",
)
def import_command(path: Path, source_format: str) -> None:
    """Import postmortems from PATH. Each file is one transaction: a refused file is reported
    with its line and reason, and every other file still imports."""
    if source_format == "native":
        if not path.is_dir():
            raise click.ClickException(f"{path} is not a directory written by `flask export`.")
        with quick_commits():
            summary = import_files(read_files(path))
    else:
        files = public.source_files(path, source_format)
        summary = ImportSummary()
        bar = click.progressbar(files, label=f"Importing {source_format}", file=None)
        with bar, quick_commits():
            for file in bar:
                public.import_file(file, source_format, summary)
    report(summary)
    if summary.failed:
        raise click.exceptions.Exit(1)


# From this many files skipped for the same reason, they are named in one line.
GROUP_SKIPS_FROM = 6


def report(summary: ImportSummary) -> None:
    for where, why in summary.failed:
        click.echo(f"{where}: {why}", err=True)
    by_reason: dict[str, list[str]] = {}
    for where, why in summary.skipped:
        by_reason.setdefault(why, []).append(where)
    for why, names in by_reason.items():
        if len(names) < GROUP_SKIPS_FROM:
            for where in names:
                click.echo(f"skipped {where}: {why}")
        else:
            click.echo(f"skipped {len(names)} files: {why} ({', '.join(names)})")
    failed = f", failed {len(summary.failed)}" if summary.failed else ""
    click.echo(f"{summary.line()}{failed}")


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the live SQLite database into FILE with SQLite's online backup (consistent while
    the app keeps writing). On PostgreSQL use pg_dump instead."""
    try:
        pages = backup.backup_sqlite(current_app.config["DATABASE_URL"], file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the database to {file} ({pages} pages).")
