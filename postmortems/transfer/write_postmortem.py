"""Writing a new postmortem read from a file, and the parts and external source it carries."""

import re
from collections.abc import Iterable

from sqlalchemy import select

from models import Incident, User
from postmortems.db import session
from postmortems.domain import DomainError
from postmortems.incidents.filing import file_postmortem
from postmortems.incidents.parts import PartValues
from postmortems.incidents.service import ExternalSource, IncidentValues
from postmortems.transfer.files import ImportProblem, Record, at_line
from postmortems.transfer.front_matter import ParsedPostmortem, Part
from postmortems.transfer.names import find_team, find_user


def write_postmortem(parsed: ParsedPostmortem) -> Incident:
    """File one parsed postmortem through the filing service, as the form and the API do (the
    caller commits)."""
    record = parsed.record
    values = incident_values(parsed)
    author_id = find_user(parsed.author, record, "author")
    author = session.get(User, author_id) if author_id is not None else None
    source = None if parsed.source is None else external_source(parsed.source)
    parts, lines = part_values(parsed.parts)
    try:
        # The status is the file's: an import restores a state, it does not walk the review
        # workflow; the key is kept so that links and recurrences still point at it.
        incident = file_postmortem(
            values,
            parts,
            author=author,
            status=parsed.status,
            key=parsed.key,
            source=source,
            summary="imported",
        )
    except DomainError as exc:
        raise refusal(exc, record, lines) from exc
    keep_stamps(incident, parsed)
    return incident


def keep_stamps(incident: Incident, parsed: ParsedPostmortem) -> None:
    """When it was filed and last changed are part of the record, as the file gives them."""
    if parsed.created_at is not None:
        incident.created_at = parsed.created_at
    if parsed.updated_at is not None:
        incident.updated_at = parsed.updated_at
    session.flush()


def incident_values(parsed: ParsedPostmortem) -> IncidentValues:
    """The incident's own values, with the teams, accounts and postmortems it names found."""
    record = parsed.record
    recurrence_id = None
    if parsed.recurrence_of is not None:
        by_key = select(Incident.id).where(Incident.key == parsed.recurrence_of)
        recurrence_id = session.scalar(by_key)
        if recurrence_id is None:
            raise ImportProblem(
                f"recurrence_of: no postmortem {parsed.recurrence_of}",
                record.key_lines.get("recurrence_of"),
            )
    access_ids = tuple(
        user_id
        for email in parsed.access_users
        if (user_id := find_user(email, record, "access_users")) is not None
    )
    return IncidentValues(
        **parsed.values,
        team_id=find_team(parsed.team, record),
        recurrence_of_id=recurrence_id,
        owner_id=find_user(parsed.owner, record, "owner"),
        access_user_ids=access_ids,
    )


def part_values(parts: Iterable[Part]) -> tuple[list[tuple[str, PartValues]], dict[str, int]]:
    """The parts as the filing service takes them, named "part<n>", and each name's line. A
    part naming a factor, guard or account that does not exist is refused at its line."""
    named, lines = [], {}
    for index, (line, make) in enumerate(parts, start=1):
        with at_line(line):
            named.append((f"part{index}", make()))
        if line is not None:
            lines[f"part{index}"] = line
    return named, lines


# A part's problems come back under its row's name ("part3-low", or "part3" said of the whole
# row); "old<n>" are the saved parts an update removes.
ROW = re.compile(r"^((?:part|old)[0-9]+)(?:-|$)")


def refusal(exc: DomainError, record: Record, lines: dict[str, int]) -> ImportProblem:
    """The service's refusal as a file's problem: the incident's own fields at the record's
    line, else the first refused part's at that part's line, worded as the service words a
    refusal of one thing ("low: Low cannot be above likely.")."""
    own: dict[str, list[str]] = {}
    rows: dict[str, dict[str, list[str]]] = {}
    for name, messages in exc.fields.items():
        row = ROW.match(name)
        if row is None:
            own[name] = messages
        else:
            rows.setdefault(row.group(1), {})[name[row.end() :]] = messages
    if own or not rows:
        return ImportProblem(f"refused: {_said(own) if own else exc.message}", record.line)
    first, fields = next(iter(rows.items()))
    return ImportProblem(f"refused: {_said(fields)}", lines.get(first))


def _said(fields: dict[str, list[str]]) -> str:
    """Each field's messages after its name, as DomainError says them; one of the whole alone."""
    return "; ".join(
        f"{name}: {' '.join(messages)}" if name else " ".join(messages)
        for name, messages in fields.items()
    )


def external_source(
    source: dict[str, str], *, incident_id: int | None = None, checked: bool = False
) -> ExternalSource:
    """Check an external reference's `source` (collection, external_id, organisation, url):
    an http(s) link, and no other postmortem (than `incident_id`) from the same collection and
    id. `checked`: the caller has just looked for this collection and id and found none."""
    collection, external_id = source["collection"], source["external_id"]
    organisation, url = source["organisation"], source["url"]
    if url and not url.lower().startswith(("http://", "https://")):
        raise ImportProblem(f"source url: use an http:// or https:// link, not {url!r}")
    if not checked:
        stmt = select(Incident.id).where(
            Incident.source_collection == collection, Incident.external_id == external_id
        )
        if incident_id is not None:
            stmt = stmt.where(Incident.id != incident_id)
        if session.scalar(stmt) is not None:
            raise ImportProblem(f"source: {collection} {external_id} is already imported")
    return ExternalSource(collection, external_id, organisation, url)


def set_source(incident: Incident, source: dict[str, str]) -> None:
    """Keep an external reference's source (another organisation's, never counted) as given."""
    checked = external_source(source, incident_id=incident.id)
    incident.source_collection = checked.collection
    incident.external_id = checked.external_id[:200]
    incident.source_organisation = checked.organisation[:200]
    incident.source_url = checked.url[:1000]
