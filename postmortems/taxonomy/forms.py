"""The contributing factor form."""

from typing import Any

from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from models import CauseCategory, ContributingFactor
from postmortems.db import session
from postmortems.forms import EnumSelectField, Form


class ContributingFactorForm(Form):
    category = EnumSelectField("Cause category", CauseCategory)
    name = StringField("Name", [DataRequired(), Length(max=120)])
    description = TextAreaField("Description")

    def __init__(self, *args: Any, factor: ContributingFactor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=factor, **kwargs)
        self.factor = factor

    def validate_name(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        stmt = select(ContributingFactor.id).where(
            ContributingFactor.category == self.category.data, ContributingFactor.name == field.data
        )
        if self.factor is not None:
            stmt = stmt.where(ContributingFactor.id != self.factor.id)
        if session.scalar(stmt) is not None:
            raise ValidationError("This category already has a factor with this name.")
