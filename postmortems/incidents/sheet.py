"""The postmortem on one page: the incident's form plus rows that add its parts in the same
save. Each row only parses what was typed into the values `parts.save_part` takes; a row left
empty is ignored, so the page can always offer one more."""

from typing import Any

from sqlalchemy import select
from wtforms import BooleanField, DateField, FieldList, FormField, StringField, TextAreaField
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
    LessonGroup,
)
from postmortems.db import session
from postmortems.forms import (
    EnumSelectField,
    ExactDecimalField,
    LocalDateTimeField,
    OptionalIdSelectField,
)
from postmortems.incidents.forms import NO_CHOICE, IncidentForm, impact_values, user_choices
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    NewGuard,
    PartValues,
    TimelineEventValues,
)

REQUIRED = "Fill this in, or leave the whole row empty."


def _typed(value: Any) -> bool:
    return bool(value.strip()) if isinstance(value, str) else value not in (None, False)


class RowForm(PlainForm):
    """One new part typed on the postmortem's page. `CONTENT` names the fields whose being
    empty makes the row empty (selects with defaults do not count)."""

    CONTENT: tuple[str, ...] = ()
    REQUIRED_FIELDS: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        """Whether nothing that counts was typed (white space does not count)."""
        return not any(_typed(self[name].data) for name in self.CONTENT)

    def validate(self, extra_validators: Any = None) -> bool:
        for field in self:
            if isinstance(field.data, str):
                field.data = field.data.replace("\x00", "")
        if self.is_blank():
            return True  # an empty row is skipped whatever its selects say
        if not super().validate(extra_validators):
            return False
        for name in self.REQUIRED_FIELDS:
            if self[name].data in (None, ""):
                self[name].errors = [*self[name].errors, REQUIRED]
        return not any(field.errors for field in self)

    def values(self) -> PartValues:
        raise NotImplementedError


class TimelineRow(RowForm):
    CONTENT = REQUIRED_FIELDS = ("at", "text_md")
    at = LocalDateTimeField("Time", [Optional()])
    text_md = TextAreaField("Event")

    def values(self) -> TimelineEventValues:
        assert self.at.data is not None
        return TimelineEventValues(at=self.at.data, text_md=self.text_md.data or "")


class FactorRow(RowForm):
    CONTENT = REQUIRED_FIELDS = ("factor_id",)
    factor_id = OptionalIdSelectField("Contributing factor")
    note = TextAreaField("Note")
    is_primary = BooleanField("Primary factor")

    def values(self) -> FactorValues:
        assert self.factor_id.data is not None
        return FactorValues(self.factor_id.data, self.note.data or "", bool(self.is_primary.data))


class ImpactRow(RowForm):
    CONTENT = REQUIRED_FIELDS = ("kind",)
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

    def values(self) -> ImpactValues:
        return impact_values(self)


class LessonRow(RowForm):
    CONTENT = REQUIRED_FIELDS = ("text_md",)
    group = EnumSelectField("Group", LessonGroup)
    text_md = TextAreaField("Lesson")

    def values(self) -> LessonValues:
        return LessonValues(group=self.group.data, text_md=self.text_md.data or "")


class ActionRow(RowForm):
    CONTENT = REQUIRED_FIELDS = ("title",)
    title = StringField("Action", [Optional(), Length(max=200)])
    type = EnumSelectField("Type", ActionType)
    group = EnumSelectField("Group", LessonGroup)
    owner_id = OptionalIdSelectField("Owner")
    due_on = DateField("Due date", [Optional()])
    guard_id = OptionalIdSelectField("Guard check it relies on")
    new_guard_name = StringField(
        "Or a new guard check", [Optional(), Length(max=200)], description="Created with it."
    )
    new_guard_kind = EnumSelectField("Kind of the new guard check", GuardKind)

    def values(self) -> ActionItemValues:
        new_name = (self.new_guard_name.data or "").strip()
        return ActionItemValues(
            title=(self.title.data or "").strip(),
            group=self.group.data,
            type=self.type.data,
            owner_id=self.owner_id.data,
            due_on=self.due_on.data,
            status=ActionStatus.OPEN,
            guard_ids=(self.guard_id.data,) if self.guard_id.data else (),
            new_guard=NewGuard(new_name, self.new_guard_kind.data) if new_name else None,
        )


# The kinds of rows, by the name of their list on the form and in the page's URLs.
ROW_KINDS = {
    "timeline": ("Timeline", "event"),
    "factors": ("Contributing factors", "factor"),
    "impacts": ("Impact", "impact estimate"),
    "lessons": ("Lessons", "lesson"),
    "actions": ("Action items", "action item"),
}


class PostmortemForm(IncidentForm):
    """The incident's fields and rows adding each kind of part, saved together."""

    timeline = FieldList(FormField(TimelineRow), min_entries=1, max_entries=50)
    factors = FieldList(FormField(FactorRow), min_entries=1, max_entries=50)
    impacts = FieldList(FormField(ImpactRow), min_entries=1, max_entries=50)
    lessons = FieldList(FormField(LessonRow), min_entries=1, max_entries=50)
    actions = FieldList(FormField(ActionRow), min_entries=1, max_entries=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fill_row_choices()

    def add_row(self, kind: str) -> None:
        """One more empty row of a kind ("Add another"), below what was typed."""
        rows: FieldList[Any] = self[kind]
        if len(rows.entries) < (rows.max_entries or 50):
            rows.append_entry()
        self.fill_row_choices()

    def fill_row_choices(self) -> None:
        factors = session.scalars(
            select(ContributingFactor).order_by(
                ContributingFactor.category, ContributingFactor.name
            )
        ).all()
        grouped: dict[str, list[tuple[int | str, str]]] = {c.label: [] for c in CauseCategory}
        for factor in factors:
            grouped[factor.category.label].append((factor.id, factor.name))
        factor_choices = {"": [NO_CHOICE], **grouped}
        people = [NO_CHOICE, *user_choices()]
        guards = session.execute(select(GuardCheck.id, GuardCheck.name).order_by(GuardCheck.name))
        guard_choices = [NO_CHOICE, *((i, name) for i, name in guards)]
        for factor_row in self.factors:
            factor_row.form.factor_id.choices = factor_choices
        for action_row in self.actions:
            action_row.form.owner_id.choices = people
            action_row.form.guard_id.choices = guard_choices

    def new_parts(self) -> list[tuple[str, PartValues]]:
        """(row name, values) of every row that is not empty, in page order."""
        return [
            (row.name, row.form.values())
            for kind in ROW_KINDS
            for row in self[kind]
            if not row.form.is_blank()
        ]
