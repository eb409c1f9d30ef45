"""Writing a new postmortem read from a file, and the parts and external source it carries."""

from collections.abc import Iterable

from sqlalchemy import select

from models import Incident, User
from postmortems.db import session
from postmortems.domain import DomainError
from postmortems.incidents.filing import file_postmortem
from postmortems.incidents.parts import PartValues
from postmortems.incidents.service import ExternalSource, IncidentValues
from postmortems.transfer.files import ImportProblem, Record, at_line, refused
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


def refusal(exc: DomainError, record: Record, lines: dict[str, int]) -> ImportProblem:
    """The service's refusal as a file's problem: the incident's own fields at the record's
    line, else the first refused part's fields at that part's line, each message as the
    service words it for one field ("low: ...")."""
    own = {name: msgs for name, msgs in exc.fields.items() if "-" not in name}
    if own or not exc.fields:
        return refused(record, DomainError(fields=own) if own else exc)
    first = next(iter(exc.fields)).split("-", 1)[0]
    prefix = f"{first}-"
    fields = {n.removeprefix(prefix): m for n, m in exc.fields.items() if n.startswith(prefix)}
    return ImportProblem(f"refused: {DomainError(fields=fields).message}", lines.get(first))


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
