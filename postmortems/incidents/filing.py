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
    delete_part,
    kind_of,
    part_values,
    save_part,
)
from postmortems.incidents.service import (
    IncidentError,
    IncidentValues,
    check_action_item_days,
    create_incident,
)
from postmortems.incidents.service import update_incident as update_fields


def file_postmortem(
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    author: User | None,
    status: IncidentStatus = IncidentStatus.DRAFT,
) -> Incident:
    """File a postmortem with its parts. `new_parts` are (name, values); the errors of a part
    come back under "<name>-<field>", so a form can show them beside the row they belong to."""
    incident = create_incident(values, author=author, status=status, record=False)
    _add_parts(incident, new_parts)
    history.record_change(incident, f"filed {incident.key}")
    return incident


@dataclass(frozen=True)
class PartEdit:
    """A saved part as the one page sends it back: `values` None removes it. `name` names its
    row for errors; `expected_version` is the part's version the editor started from."""

    name: str
    part: Part
    values: PartValues | None
    expected_version: int | None = None


def save_postmortem(
    incident: Incident,
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    editor: User | None,
    expected_version: int | None = None,
    part_edits: Sequence[PartEdit] = (),
) -> None:
    """Save the incident's fields, change or remove saved parts and add new ones, as one
    revision. A saved part that someone changed since the editor opened it is a conflict."""
    update_fields(
        incident,
        values,
        editor=editor,
        expected_version=expected_version,
        record=False,
        check_action_items=False,  # asked below, once the items are as this change leaves them
    )
    problems = Problems()
    for edit in part_edits:
        if edit.expected_version is not None and edit.part.version != edit.expected_version:
            label = kind_of(edit.part).label
            raise ConflictError(f"Someone saved this {label} after you opened it.")
        if edit.values is None:
            delete_part(incident, edit.part, record=False)
        elif edit.values != part_values(edit.part):
            _save_row(problems, edit.name, incident, edit.values, edit.part)
    _add_parts(incident, new_parts, problems)
    check_action_item_days(incident, incident.started_at)
    history.record_change(incident, "edited the postmortem")


def _add_parts(
    incident: Incident,
    new_parts: Sequence[tuple[str, PartValues]],
    problems: Problems | None = None,
) -> None:
    """Add the new parts; every row's errors, and those already in `problems`, are raised."""
    problems = problems if problems is not None else Problems()
    for name, values in new_parts:
        _save_row(problems, name, incident, values)
    problems.raise_if_any(IncidentError, "Some parts could not be saved; see below.")


def _save_row(
    problems: Problems, name: str, incident: Incident, values: PartValues, part: Part | None = None
) -> None:
    """Save one row; its errors are kept under "<name>-<field>" and the next row goes on."""
    try:
        save_part(incident, values, part, record=False)
    except IncidentError as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                problems.add(f"{name}-{field}", message)
        if not exc.fields:
            problems.add(name, exc.message)
