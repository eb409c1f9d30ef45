"""The guard check form."""

from typing import Any

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from models import GuardCheck, GuardKind, GuardStatus
from postmortems.forms import EnumSelectField, Form, is_taken


class GuardCheckForm(Form):
    name = StringField("Name", [DataRequired(), Length(max=200)])
    kind = EnumSelectField("Kind", GuardKind)
    location = StringField(
        "Where it lives",
        [Optional(), Length(max=500)],
        description="A path in a repository, a URL, a checklist's name.",
    )
    description_md = TextAreaField("What it checks", description="Markdown.")
    owner = StringField("Owner", [Optional(), Length(max=120)])
    status = EnumSelectField("Status", GuardStatus, default=GuardStatus.PROPOSED)

    def __init__(self, *args: Any, guard: GuardCheck | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=guard, **kwargs)
        self.guard = guard

    def validate_name(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if is_taken(GuardCheck, self.guard, name=field.data):
            raise ValidationError("Another guard check has this name.")
