"""Demo data: the three postmortems of the founding story (DESIGN.md), retold in our words.

The data lives as files in our own export format under `postmortems/demo_data/` (postmortems
as Markdown with YAML front matter; teams and headcount, growth stages and guard checks as
YAML) and is loaded by the importer, through the same services as every form. The story gives
months, rough durations and a few figures, never hours: every time is marked as an estimate,
and whatever the story does not say is either left out or marked as illustrative.

To add to the demo, add files in that format (write them with `flask export` from a database
that holds what you want, then remove users.yaml and the created/updated times), or register
a reader of your own file in `postmortems.transfer.native.EXTRA_IMPORTS`.
"""

from pathlib import Path

from postmortems.domain import DomainError
from postmortems.transfer.native import import_files

DEMO_DATA = Path(__file__).parent / "demo_data"


def demo_files() -> dict[str, str]:
    """The demo's files, by their path relative to the demo folder."""
    return {
        path.relative_to(DEMO_DATA).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(DEMO_DATA.rglob("*"))
        if path.is_file() and path.suffix in (".md", ".yaml")
    }


def load_demo_data() -> int:
    """Add whatever part of the demo data is missing; return how many postmortems were added.

    Each file is imported as its own transaction; what exists already (a team, a guard, a
    postmortem with the same key) is left as it is, so a second run adds nothing.
    """
    summary = import_files(demo_files())
    if summary.failed:
        where, why = summary.failed[0]
        raise DomainError(f"{where}: {why}")
    return summary.postmortems
