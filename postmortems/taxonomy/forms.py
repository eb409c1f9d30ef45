"""The contributing factor form: it parses, the taxonomy service decides."""

from typing import Any

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from models import CauseCategory, ContributingFactor
from postmortems.forms import EnumSelectField, Form


class ContributingFactorForm(Form):
    category = EnumSelectField("Cause category", CauseCategory)
    name = StringField("Name", [DataRequired(), Length(max=120)])
    description = TextAreaField("Description")

    def __init__(self, *args: Any, factor: ContributingFactor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=factor, **kwargs)
        self.factor = factor

    def fields(self) -> dict[str, Any]:
        """What was typed, as the taxonomy service's keyword arguments."""
        return {
            "category": self.category.data,
            "name": self.name.data or "",
            "description": self.description.data or "",
        }
