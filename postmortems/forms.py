"""Form fields shared by every feature: team-local datetimes, exact decimals, enums, checkboxes."""

import enum
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in stubs
from wtforms.widgets import CheckboxInput, ListWidget, Select

from postmortems.domain import DomainError
from postmortems.incidents.parts import read_amount
from postmortems.markdown import MARKDOWN_FIELD_NAMES, markdown_problem
from postmortems.timezones import from_local, to_local


class Form(FlaskForm):
    """The base of every form. Text fields left out of a submission read as "" (not None), and
    NUL characters are dropped: PostgreSQL refuses them in text, and no one types them."""

    def validate(self, extra_validators: Any = None) -> bool:
        for field in self:
            if type(field) in (StringField, TextAreaField):
                field.data = (field.data or "").replace("\x00", "")
        valid = bool(super().validate(extra_validators))
        for field in _all_fields(self):
            # Markdown over the limits is refused beside its field (rows' fields too), before
            # anything renders it.
            markdown = type(field) is TextAreaField and field.short_name in MARKDOWN_FIELD_NAMES
            if markdown and (problem := markdown_problem(field.data)) is not None:
                field.errors = [*field.errors, problem]
                valid = False
        return valid

    def show_errors(self, error: DomainError) -> None:
        """Put a refused change's messages beside the fields they name (a row's fields by their
        full name, "timeline-0-at"), the rest on top."""
        by_name = {field.name: field for field in _all_fields(self)}
        for name, messages in error.fields.items():
            field = by_name.get(name)
            if field is not None and field.type not in ("HiddenField", "CSRFTokenField"):
                field.errors = [*field.errors, *messages]
            else:
                self.form_errors.extend(messages)
        if not error.fields:
            self.form_errors.append(error.message)

    def differences(self, saved: "Form") -> list[tuple[str, str, str]]:
        """(label, saved, typed) for each field where this submission differs from `saved`,
        the same form filled from what is in the database now."""
        rows = []
        for name, field in self._fields.items():
            if name in ("version", "csrf_token") or isinstance(field, FieldList):
                continue  # rows add new parts: there is no saved version of them
            theirs, ours = shown(saved[name]), shown(field)
            if theirs != ours:
                rows.append((str(field.label.text), theirs, ours))
        return rows


def _all_fields(form: Any) -> Iterator[Any]:
    """Every field of a form, those inside lists of rows (FieldList of FormField) included."""
    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                yield from _all_fields(entry.form) if isinstance(entry, FormField) else [entry]
        elif isinstance(field, FormField):
            yield from _all_fields(field.form)
        else:
            yield field


def shown(field: Any) -> str:
    """A field's value as a person reads it: choice labels, yes/no, or the text."""
    if isinstance(field, BooleanField):
        return "yes" if field.data else "no"
    if isinstance(field, SelectField):  # multiple selects and checkbox lists included
        return ", ".join(str(label) for _, label, selected, *_ in field.iter_choices() if selected)
    return str(field._value())


class LocalDateTimeField(DateTimeLocalField):
    """A datetime typed in the team's zone; `data` is an aware UTC datetime."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, datetime):
            self.data = from_local(self.data)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            return to_local(self.data).strftime("%Y-%m-%dT%H:%M")
        return ""


class ExactDecimalField(StringField):
    """A decimal number kept exactly as typed: no float, no rounding, no exponent notation."""

    data: Decimal | None  # type: ignore[assignment]

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            self.data = read_amount(text)  # the service's rule; its ValueError shows here

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else format(self.data.normalize(), "f")


class QuickSelect(Select):
    """WTForms' select with a fast path for plain options: the list's filters render over a
    hundred options, and WTForms' generic attribute rendering of each cost more than every
    query of the page together."""

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:  # type: ignore[override]
        if choice.render_kw or kwargs:
            return Markup(super().render_option(choice, **kwargs))
        value = str(choice.value)
        label = escape(choice.label or value)
        selected = " selected" if choice.selected else ""
        return Markup(f'<option value="{escape(value)}"{selected}>{label}</option>')


class QuickSelectField(SelectField):
    widget = QuickSelect()


class EnumSelectField(SelectField):
    """A select over an enum's members by name; `data` is the member (None when left blank)."""

    widget = QuickSelect()

    def __init__(
        self, label: str, enum_class: type[enum.Enum], *, blank: str | None = None, **kwargs: Any
    ) -> None:
        choices = [SelectChoice(m.name, str(getattr(m, "label", m.name))) for m in enum_class]
        if blank is not None:
            choices.insert(0, SelectChoice("", blank))
        self._enum_class = enum_class
        kwargs.setdefault("invalid_value_message", "Not one of the choices.")
        super().__init__(label, choices=choices, coerce=self._coerce, **kwargs)

    def _coerce(self, value: Any) -> Any:
        if value in ("", None) or isinstance(value, self._enum_class):
            return value or None
        try:
            return self._enum_class[str(value)]
        except KeyError as exc:  # WTForms turns a ValueError into "Not one of the choices."
            raise ValueError(str(value)) from exc


class OptionalIdSelectField(SelectField):
    """A select of database ids with a blank first choice; `data` is an int or None."""

    widget = QuickSelect()

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, coerce=_int_or_none, validate_choice=True, **kwargs)


def _int_or_none(value: Any) -> int | None:
    if value in ("", None, "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: easier to use on a phone than a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_tags(text: str) -> list[str]:
    """Split "ml, Config , ml" into ["config", "ml"]: trimmed, lower-case, unique, sorted."""
    return sorted({t.strip().lower() for t in text.split(",") if t.strip()})
