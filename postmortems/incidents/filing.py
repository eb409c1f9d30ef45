"""Filing or saving a whole postmortem, the incident and new parts together, as one change
with one revision: what the one-page form sends, and what the API will send."""

from collections.abc import Sequence

from models import Incident, IncidentStatus, User
from postmortems.domain import Problems
from postmortems.incidents import history
from postmortems.incidents.parts import PartValues, save_part
from postmortems.incidents.service import IncidentError, IncidentValues, create_incident
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


def save_postmortem(
    incident: Incident,
    values: IncidentValues,
    new_parts: Sequence[tuple[str, PartValues]],
    *,
    editor: User | None,
    expected_version: int | None = None,
) -> None:
    """Save the incident's fields and add new parts, as one revision."""
    update_fields(incident, values, editor=editor, expected_version=expected_version, record=False)
    _add_parts(incident, new_parts)
    history.record_change(incident, "edited the postmortem")


def _add_parts(incident: Incident, new_parts: Sequence[tuple[str, PartValues]]) -> None:
    problems = Problems()
    for name, part_values in new_parts:
        try:
            save_part(incident, part_values, record=False)
        except IncidentError as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    problems.add(f"{name}-{field}", message)
            if not exc.fields:
                problems.add(name, exc.message)
    problems.raise_if_any(IncidentError, "Some parts could not be saved; see below.")
