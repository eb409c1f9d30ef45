"""Filing or saving a whole postmortem, the incident and its parts together, as one change
with one revision: what the one-page form sends, and what the API will send."""

from collections.abc import Sequence
from dataclasses import dataclass

from models import Incident, IncidentStatus, User
from postmortems.domain import ConflictError, Problems
from postmortems.incidents import history
from postmortems.incidents.parts import (
    Part,
    PartValues,
    add_part_problems,
    delete_part,
    kind_of,
    part_values,
    save_part,
)
from postmortems.incidents.service import (
    PLAIN_FIELDS,
    ExternalSource,
    IncidentError,
    IncidentValues,
    add_incident_problems,
    check_action_item_days,
    create_incident,
)
from postmortems.incidents.service import update_incident as update_fields

# What a refusal of the whole says; each problem is named by its field.
REFUSED = "Nothing was saved; each problem is named by its field."


def file_postmortem(
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    author: User | None,
    status: IncidentStatus = IncidentStatus.DRAFT,
    key: str | None = None,
    source: ExternalSource | None = None,
    summary: str | None = None,
) -> Incident:
    """File a postmortem with its parts. `new_parts` are (name, values); the errors of a part
    come back under "<name>-<field>", so a form can show them beside the row they belong to.
    Every problem of the incident and its parts is named in one refusal. An import passes the
    `key` its file keeps, another organisation's `source`, and its revision's `summary`."""
    check_postmortem(values, new_parts, viewer=author, external=source is not None)
    incident = create_incident(
        values, author=author, status=status, record=False, key=key, source=source
    )
    _add_parts(incident, new_parts)
    history.record_change(incident, summary or f"filed {incident.key}")
    return incident


@dataclass(frozen=True)
class PartEdit:
    """A saved part as the one page sends it back: `values` None removes it. `name` names its
    row for errors; `expected_version` is the part's version the editor started from."""

    name: str
    part: Part
    values: PartValues | None
    expected_version: int | None = None


def check_postmortem(
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    viewer: User | None,
    incident: Incident | None = None,
    part_edits: Sequence[PartEdit] = (),
    external: bool = False,
) -> None:
    """Raise one IncidentError naming every problem of a whole postmortem, saving nothing:
    the incident's own fields, then each part's under "<name>-<field>". The parts are checked
    against the incident as `values` would make it. The rules are the services' own: a new one
    in `add_incident_problems` or in a kind's check is collected here with no change.
    `external`: a new external reference (a saved one is known by its source)."""
    problems = Problems()
    external = external or (incident is not None and incident.is_external)
    add_incident_problems(problems, values, incident=incident, viewer=viewer, external=external)
    as_saved = _as_saved(values, incident)
    for edit in part_edits:
        if edit.values is not None:
            add_part_problems(problems.under(edit.name), as_saved, edit.values, edit.part)
    for name, part in new_parts:
        add_part_problems(problems.under(name), as_saved, part)
    problems.raise_if_any(IncidentError, REFUSED)


def _as_saved(values: IncidentValues, incident: Incident | None) -> Incident:
    """The incident as `values` would make it, for the rules of its parts to read (its id, its
    times); a stand-in never added to the session."""
    stand_in = Incident(**{name: getattr(values, name) for name in PLAIN_FIELDS})
    if incident is not None:
        stand_in.id = incident.id
        stand_in.source_collection = incident.source_collection
    return stand_in


def save_postmortem(
    incident: Incident,
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    editor: User | None,
    expected_version: int | None = None,
    part_edits: Sequence[PartEdit] = (),
    summary: str = "edited the postmortem",
) -> None:
    """Save the incident's fields, change or remove saved parts and add new ones, as one
    revision (`summary`: what it says). A saved part that someone changed since the editor
    opened it is a conflict. The incident's problems and every part's are named in one
    refusal: each part is still checked (against the incident as saved) when the incident's
    own fields are refused."""
    problems = Problems()
    with problems.collecting():
        update_fields(
            incident,
            values,
            editor=editor,
            expected_version=expected_version,
            record=False,
            check_action_items=False,  # asked below, once the items are as this change leaves them
        )
    for edit in part_edits:
        if edit.expected_version is not None and edit.part.version != edit.expected_version:
            label = kind_of(edit.part).label
            raise ConflictError(f"Someone saved this {label} after you opened it.")
        if edit.values is None:
            delete_part(incident, edit.part, record=False)
        elif edit.values != part_values(edit.part):
            _save_row(problems, edit.name, incident, edit.values, edit.part)
    for name, new in new_parts:
        _save_row(problems, name, incident, new)
    with problems.collecting():
        check_action_item_days(incident, incident.started_at)
    problems.raise_if_any(IncidentError, REFUSED)
    history.record_change(incident, summary)


def _add_parts(
    incident: Incident,
    new_parts: Sequence[tuple[str, PartValues]],
    problems: Problems | None = None,
) -> None:
    """Add the new parts; every row's errors, and those already in `problems`, are raised."""
    problems = problems if problems is not None else Problems()
    for name, values in new_parts:
        _save_row(problems, name, incident, values)
    problems.raise_if_any(IncidentError, REFUSED)


def _save_row(
    problems: Problems, name: str, incident: Incident, values: PartValues, part: Part | None = None
) -> None:
    """Save one row; its errors are kept under "<name>-<field>" and the next row goes on."""
    with problems.under(name).collecting():
        save_part(incident, values, part, record=False)
