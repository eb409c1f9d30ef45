"""Updating a postmortem found again (same key) whose file changed."""

from models import Incident
from postmortems.domain import DomainError
from postmortems.incidents import history
from postmortems.incidents.parts import Part as StoredPart
from postmortems.incidents.parts import delete_part
from postmortems.incidents.service import update_incident
from postmortems.transfer.files import ImportProblem, refused
from postmortems.transfer.front_matter import ParsedPostmortem
from postmortems.transfer.names import find_user
from postmortems.transfer.write_postmortem import (
    add_parts,
    incident_values,
    keep_stamps,
    set_source,
)


def update_postmortem(incident: Incident, parsed: ParsedPostmortem) -> None:
    """Bring an existing postmortem (same key) in line with its file: its fields, status,
    author, source and parts; one revision records the change (the caller commits)."""
    record = parsed.record
    if (parsed.source is None) != (not incident.is_external):
        raise ImportProblem(
            "source: an external reference and one of our own postmortems cannot share a key",
            record.key_lines.get("source"),
        )
    values = incident_values(parsed)
    try:
        # The file's action items replace the saved ones and are checked against its start.
        update_incident(incident, values, editor=None, record=False, check_action_items=False)
    except DomainError as exc:
        raise refused(record, exc) from exc
    if parsed.source is not None:
        set_source(incident, parsed.source)
    # As the file says: an import restores a state, it does not walk the review workflow.
    incident.status = parsed.status
    incident.author_id = find_user(parsed.author, record, "author")
    old_parts: list[StoredPart] = [
        *incident.timeline,
        *incident.factors,
        *incident.impacts,
        *incident.lessons,
        *incident.action_items,
    ]
    for part in old_parts:
        delete_part(incident, part, record=False)
    add_parts(incident, parsed.parts)
    history.record_change(incident, "updated from an import")
    keep_stamps(incident, parsed)
