"""The contributing factor form."""

from typing import Any

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from models import CauseCategory, ContributingFactor
from postmortems.forms import EnumSelectField, Form, is_taken


class ContributingFactorForm(Form):
    category = EnumSelectField("Cause category", CauseCategory)
    name = StringField("Name", [DataRequired(), Length(max=120)])
    description = TextAreaField("Description")

    def __init__(self, *args: Any, factor: ContributingFactor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=factor, **kwargs)
        self.factor = factor

    def validate_name(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if is_taken(ContributingFactor, self.factor, category=self.category.data, name=field.data):
            raise ValidationError("This category already has a factor with this name.")
