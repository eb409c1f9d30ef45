"""The postmortem on one page: the incident's form plus a row per part, saved together. The
saved parts come first, each editable and with a *Remove* box; then new rows. One rule for
every kind of row: a new row with nothing typed is skipped, so the page can always offer one
more; anything typed makes it a row that must be complete. Each row only parses what was typed
into the values `parts.save_part` takes; the rules are the services'."""

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import Length, Optional

from models import (
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    GuardKind,
    ImpactKind,
    ImpactLevel,
    Incident,
    LessonGroup,
)
from postmortems.cache import cached
from postmortems.db import session
from postmortems.domain import ConflictError, DomainError
from postmortems.forms import (
    EnumSelectField,
    ExactDecimalField,
    LocalDateTimeField,
    OptionalIdSelectField,
)
from postmortems.incidents.filing import PartEdit
from postmortems.incidents.forms import NO_CHOICE, IncidentForm, impact_values, user_choices
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    NewGuard,
    Part,
    PartValues,
    TimelineEventValues,
    part_values,
)

REQUIRED = "Fill this in, or leave the whole row empty."
REQUIRED_SAVED = "Fill this in, or tick Remove to delete it."


def _typed(field: Any) -> bool:
    """Whether a person typed into a field of a row: text other than white space, a ticked
    box, a choice other than the one an empty row shows. A field left out was not typed."""
    if field.type in ("HiddenField", "CSRFTokenField") or not field.raw_data:
        return False
    if isinstance(field, BooleanField):
        return bool(field.data)
    if isinstance(field, SelectField):
        return bool(field.data != _preselected(field))
    return bool(str(field.raw_data[0]).strip())


def _preselected(field: SelectField) -> Any:
    """What a select of an empty row holds: its default, or else its first option."""
    if field.default is not None:
        return field.default
    first = next(iter(field.iter_choices()), None)
    return None if first is None else field.coerce(first[0])


class RowForm(PlainForm):
    """One part on the postmortem's page: a saved one (`id` and `version` set) or a new one.
    `REQUIRED_FIELDS` are what a row that is not skipped must have for its values to be made;
    every other rule is the service's."""

    REQUIRED_FIELDS: tuple[str, ...] = ()
    id = HiddenField()
    version = HiddenField()
    remove = BooleanField("Remove when saving")

    def saved_id(self) -> int | None:
        """The id of the saved part this row shows, or None for a new row."""
        text = str(self.id.data or "")
        return int(text) if text.isdigit() else None

    def expected_version(self) -> int | None:
        text = str(self.version.data or "")
        return int(text) if text.isdigit() else None

    def is_blank(self) -> bool:
        """Whether nothing was typed into the row (defaults as the page showed them do not
        count: a preselected choice, an unticked box)."""
        return not any(_typed(field) for field in self if field.short_name != "remove")

    def is_skipped(self) -> bool:
        """A saved row ticked *Remove*, or a new row left empty: not read, whatever it says."""
        if self.saved_id() is not None:
            return bool(self.remove.data)
        return self.is_blank()

    def is_checkable(self) -> bool:
        """Whether the row is read and parsed enough for the service to check its values: its
        required fields are there (other fields refused as typed keep their own answer)."""
        return not self.is_skipped() and not any(self[n].errors for n in self.REQUIRED_FIELDS)

    def validate(self, extra_validators: Any = None) -> bool:
        for field in self:
            if isinstance(field.data, str):
                field.data = field.data.replace("\x00", "")
        if self.is_skipped():
            return True
        super().validate(extra_validators)
        missing = REQUIRED_SAVED if self.saved_id() is not None else REQUIRED
        for name in self.REQUIRED_FIELDS:
            if self[name].data in (None, "") and not self[name].errors:
                self[name].errors = [missing]
        return not any(field.errors for field in self)

    def values(self, saved: Any = None) -> PartValues:
        """What the row says, over `saved` (the part's values now) for what it does not show."""
        raise NotImplementedError

    def fill_from(self, part: Any) -> None:
        """Show what is not a plain column of the part (nothing, for most kinds)."""


class TimelineRow(RowForm):
    REQUIRED_FIELDS = ("at", "text_md")
    at = LocalDateTimeField("Time", [Optional()])
    text_md = TextAreaField("Event")

    def values(self, saved: Any = None) -> TimelineEventValues:
        assert self.at.data is not None
        return TimelineEventValues(at=self.at.data, text_md=self.text_md.data or "")


class FactorRow(RowForm):
    REQUIRED_FIELDS = ("factor_id",)
    factor_id = OptionalIdSelectField("Contributing factor")
    note = TextAreaField("Note")
    is_primary = BooleanField("Primary factor")

    def values(self, saved: Any = None) -> FactorValues:
        assert self.factor_id.data is not None
        return FactorValues(self.factor_id.data, self.note.data or "", bool(self.is_primary.data))


class ImpactRow(RowForm):
    REQUIRED_FIELDS = ("kind",)
    kind = EnumSelectField("Kind of impact", ImpactKind, blank="—")
    low = ExactDecimalField("Low")
    likely = ExactDecimalField("Likely")
    high = ExactDecimalField("High")
    currency = StringField("Currency", [Optional(), Length(max=3)], description="Money: ISO 4217.")
    unit = StringField("Unit", [Optional(), Length(max=40)], description="e.g. images, days.")
    level = EnumSelectField(
        "Level", ImpactLevel, blank="—", description="Reputation, legal, health."
    )
    method_note = TextAreaField("How it was estimated")

    def values(self, saved: Any = None) -> ImpactValues:
        typed = impact_values(self)
        return replace(typed, estimated_by=saved.estimated_by) if saved else typed


class LessonRow(RowForm):
    REQUIRED_FIELDS = ("text_md",)
    group = EnumSelectField("Group", LessonGroup)
    text_md = TextAreaField("Lesson")

    def values(self, saved: Any = None) -> LessonValues:
        return LessonValues(group=self.group.data, text_md=self.text_md.data or "")


class ActionRow(RowForm):
    REQUIRED_FIELDS = ("title",)
    title = StringField("Action", [Optional(), Length(max=200)])
    type = EnumSelectField("Type", ActionType)
    group = EnumSelectField("Group", LessonGroup)
    owner_id = OptionalIdSelectField("Owner")
    due_on = DateField("Due date", [Optional()])
    status = EnumSelectField("Status", ActionStatus, default=ActionStatus.OPEN)
    wont_do_reason = TextAreaField("Why it won't be done")
    completed_on = DateField(
        "Completed on", [Optional()], description="Left empty on a done item: today."
    )
    guard_id = OptionalIdSelectField("Guard check it relies on")
    # The guard the row showed when the page was made: an item may rely on several, and the
    # row changes only the one it shows (its own page shows them all).
    guard_shown = HiddenField()
    new_guard_name = StringField(
        "Or a new guard check", [Optional(), Length(max=200)], description="Created with it."
    )
    new_guard_kind = EnumSelectField("Kind of the new guard check", GuardKind)

    def fill_from(self, part: Any) -> None:
        first = min((g.id for g in part.guards), default=None)
        self.guard_id.data = first
        self.guard_shown.data = "" if first is None else str(first)

    def values(self, saved: Any = None) -> ActionItemValues:
        new_name = (self.new_guard_name.data or "").strip()
        typed = {
            "title": (self.title.data or "").strip(),
            "group": self.group.data,
            "type": self.type.data,
            "owner_id": self.owner_id.data,
            "due_on": self.due_on.data,
            "status": self.status.data,
            "wont_do_reason": self.wont_do_reason.data or "",
            "completed_on": self.completed_on.data,
            "guard_ids": self._guard_ids(saved),
            "new_guard": NewGuard(new_name, self.new_guard_kind.data) if new_name else None,
        }
        return replace(saved, **typed) if saved else ActionItemValues(**typed)

    def _guard_ids(self, saved: ActionItemValues | None) -> tuple[int, ...]:
        chosen = self.guard_id.data
        shown = str(self.guard_shown.data or "")
        kept = {g for g in (saved.guard_ids if saved else ()) if str(g) != shown}
        return tuple(sorted(kept | ({chosen} if chosen else set())))


# The kinds of rows, by the name of their list on the form and in the page's URLs: the
# section's heading and what one row is called in it.
ROW_KINDS = {
    "timeline": ("Timeline", "event"),
    "factors": ("Contributing factors", "factor"),
    "impacts": ("Impact", "impact estimate"),
    "lessons": ("Lessons", "lesson"),
    "actions": ("Action items", "action item"),
}


# Rows of one kind on the page, saved ones included; more saved parts than this are left as
# they are (each still has its own edit page).
MAX_ROWS = 200


class PostmortemForm(IncidentForm):
    """The incident's fields and rows adding each kind of part, saved together."""

    # Each list's label names its rows, numbered from 1 on the page: "Impact 2 — Low: …".
    timeline = FieldList(
        FormField(TimelineRow), "Timeline event", min_entries=1, max_entries=MAX_ROWS
    )
    factors = FieldList(FormField(FactorRow), "Factor", min_entries=1, max_entries=MAX_ROWS)
    impacts = FieldList(FormField(ImpactRow), "Impact", min_entries=1, max_entries=MAX_ROWS)
    lessons = FieldList(FormField(LessonRow), "Lesson", min_entries=1, max_entries=MAX_ROWS)
    actions = FieldList(FormField(ActionRow), "Action item", min_entries=1, max_entries=MAX_ROWS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.incident is not None and not self.is_submitted():
            self.show_saved_parts(self.incident)
        self.fill_row_choices()

    def show_saved_parts(self, incident: Incident) -> None:
        """A row per saved part, filled from it, then one empty row for a new one."""
        for kind in ROW_KINDS:
            rows: FieldList[Any] = self[kind]
            rows.entries, rows.last_index = [], -1
            for part in saved_parts(incident, kind)[: MAX_ROWS - 1]:
                rows.append_entry(part).form.fill_from(part)
            rows.append_entry()

    def add_row(self, kind: str) -> None:
        """One more empty row of a kind ("Add another"), below what was typed."""
        rows: FieldList[Any] = self[kind]
        if len(rows.entries) < MAX_ROWS:
            rows.append_entry()
        self.fill_row_choices()

    def fill_row_choices(self) -> None:
        factors, guards = cached(("part_row_choices",), _row_choices, viewer=None)
        # Copies: what is kept is shared by every request.
        factor_choices = {group: list(choices) for group, choices in factors}
        guard_choices = list(guards)
        people = [NO_CHOICE, *user_choices()]
        for factor_row in self.factors:
            factor_row.form.factor_id.choices = factor_choices
        for action_row in self.actions:
            action_row.form.owner_id.choices = people
            action_row.form.guard_id.choices = guard_choices

    def new_parts(self) -> list[tuple[str, PartValues]]:
        """(row name, values) of every new row that is not empty, in page order (after a
        refused parse: of those the service can check)."""
        return [
            (row.name, row.form.values())
            for kind in ROW_KINDS
            for row in self[kind]
            if row.form.saved_id() is None and row.form.is_checkable()
        ]

    def check_the_rest(self, check: Callable[[], None]) -> None:
        """After a refused parse, ask the services about everything that did parse, so that
        one answer names every problem of the page. A forged request asks nothing."""
        if self.csrf_token.errors:
            return
        # What was refused as typed is not handed on (a 40-digit id is no id to look up); it
        # is put back afterwards, to be shown as typed.
        refused = [field for field in self._every_field() if field.errors]
        typed = [field.data for field in refused]
        for field in refused:
            field.data = "" if isinstance(field.data, str) else None
        try:
            check()
        except DomainError as exc:
            self.show_errors(exc)
        finally:
            for field, data in zip(refused, typed, strict=True):
                field.data = data

    def _every_field(self) -> list[Any]:
        """The incident's fields and those of every row."""
        rows = [field for kind in ROW_KINDS for row in self[kind] for field in row.form]
        return [field for field in self if not isinstance(field, FieldList)] + rows

    def show_errors(self, error: DomainError) -> None:
        """As for any form, with the rows in mind: a field refused as typed keeps that one
        answer; a row's problem that names no field of the row is shown on the row."""
        rows = {row.name: row.form for kind in ROW_KINDS for row in self[kind]}
        fields: dict[str, list[str]] = {}
        for name, messages in error.fields.items():
            row_name, field_name = _row_and_field(name)
            row = rows.get(row_name)
            if row is None:
                if name not in self._fields or not self[name].errors:
                    fields[name] = messages
                continue
            field_name = SHOWN_AS.get(field_name, field_name)
            if field_name not in row._fields or row[field_name].type == "HiddenField":
                row.form_errors.extend(messages)
            elif not row[field_name].errors:
                fields[f"{row_name}-{field_name}"] = messages
        if fields or not error.fields:
            super().show_errors(DomainError(error.message, fields))

    def part_edits(self, incident: Incident) -> list[PartEdit]:
        """The saved parts as their rows came back: changed, removed or as they were. A row
        whose part is gone (removed by someone else meanwhile) is a conflict."""
        edits = []
        for kind in ROW_KINDS:
            saved = {part.id: part for part in saved_parts(incident, kind)}
            for row in self[kind]:
                part_id = row.form.saved_id()
                if part_id is None:
                    continue
                part = saved.get(part_id)
                if part is None:
                    raise ConflictError("Someone removed a part of this postmortem meanwhile.")
                if not row.form.remove.data and not row.form.is_checkable():
                    continue  # refused as typed: its own answer stands
                values = None if row.form.remove.data else row.form.values(part_values(part))
                edits.append(PartEdit(row.name, part, values, row.form.expected_version()))
        return edits


# A row's field the services name otherwise: an action item's guard checks are one choice here.
SHOWN_AS = {"guard_ids": "guard_id"}
ROW_NAME = re.compile(r"([a-z]+-[0-9]+)(?:-(.*))?")


def _row_and_field(name: str) -> tuple[str, str]:
    """("impacts-1", "low") from "impacts-1-low"; ("", name) for a field of the incident."""
    match = ROW_NAME.fullmatch(name)
    return (match.group(1), match.group(2) or "") if match else ("", name)


Choices = tuple[tuple[int | str, str], ...]


def _row_choices() -> tuple[tuple[tuple[str, Choices], ...], Choices]:
    """The factors by category and the guard checks the part rows choose from: kept until the
    data changes, since every form shows them and the guard checks grow with the data."""
    factors = session.execute(
        select(
            ContributingFactor.id, ContributingFactor.category, ContributingFactor.name
        ).order_by(ContributingFactor.category, ContributingFactor.name)
    ).all()
    grouped: dict[str, list[tuple[int | str, str]]] = {"": [NO_CHOICE]}
    grouped.update({c.label: [] for c in CauseCategory})
    for factor_id, category, name in factors:
        grouped[category.label].append((factor_id, name))
    guards = session.execute(select(GuardCheck.id, GuardCheck.name).order_by(GuardCheck.name))
    return (
        tuple((group, tuple(choices)) for group, choices in grouped.items()),
        (NO_CHOICE, *((i, name) for i, name in guards)),
    )


def saved_parts(incident: Incident, kind: str) -> list[Part]:
    """The incident's saved parts of one kind of row, in the order its page shows them."""
    name = "action_items" if kind == "actions" else kind
    return list(getattr(incident, name))
