"""Updating a postmortem found again (same key) whose file changed."""

from models import Incident
from postmortems.domain import DomainError
from postmortems.incidents.filing import PartEdit, save_postmortem
from postmortems.incidents.parts import Part
from postmortems.transfer.files import ImportProblem
from postmortems.transfer.front_matter import ParsedPostmortem
from postmortems.transfer.names import find_user
from postmortems.transfer.write_postmortem import (
    incident_values,
    keep_stamps,
    part_values,
    refusal,
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
    # As the file says: an import restores a state, it does not walk the review workflow.
    if parsed.source is not None:
        set_source(incident, parsed.source)
    incident.status = parsed.status
    incident.author_id = find_user(parsed.author, record, "author")
    values = incident_values(parsed)
    parts, lines = part_values(parsed.parts)
    # The file's parts replace the saved ones: every saved part is removed in the same change.
    saved: list[Part] = [
        *incident.timeline,
        *incident.factors,
        *incident.impacts,
        *incident.lessons,
        *incident.action_items,
    ]
    removed = [PartEdit(f"old{index}", part, None) for index, part in enumerate(saved)]
    try:
        save_postmortem(
            incident,
            values,
            parts,
            editor=None,
            part_edits=removed,
            summary="updated from an import",
        )
    except DomainError as exc:
        raise refusal(exc, record, lines) from exc
    keep_stamps(incident, parsed)
