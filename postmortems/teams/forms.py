"""Forms for teams, headcount snapshots and growth stages: they parse, the service decides."""

from datetime import date
from typing import Any

from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from models import GrowthStage, Team
from postmortems.forms import Form
from postmortems.teams.service import MAX_HEADCOUNT, StageValues


class TeamForm(Form):
    name = StringField("Name", [DataRequired(), Length(max=120)])
    description = TextAreaField("Description")

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=team, **kwargs)
        self.team = team


class HeadcountSnapshotForm(Form):
    on_date = DateField("As of", [DataRequired(message="Give the date of the count.")])
    headcount = IntegerField(
        "Headcount",
        [
            InputRequired(message="Give a whole number (0 when the team ended)."),
            NumberRange(min=0, max=MAX_HEADCOUNT),
        ],
        description="0 when the team ended on that date.",
    )

    def values(self) -> tuple[date, int]:
        """The date and the count, once the form has validated."""
        assert self.on_date.data is not None and self.headcount.data is not None
        return self.on_date.data, self.headcount.data


class GrowthStageForm(Form):
    name = StringField("Name", [DataRequired(), Length(max=120)])
    min_headcount = IntegerField(
        "From headcount",
        [InputRequired(), NumberRange(min=0, max=MAX_HEADCOUNT)],
        description="The smallest company headcount in this stage.",
    )
    max_headcount = IntegerField(
        "To headcount",
        [Optional(), NumberRange(min=0, max=MAX_HEADCOUNT)],
        description="The largest; leave empty for no upper bound.",
    )
    description = TextAreaField("Description")

    def __init__(self, *args: Any, stage: GrowthStage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=stage, **kwargs)
        self.stage = stage

    def values(self) -> StageValues:
        return StageValues(
            name=self.name.data or "",
            min_headcount=self.min_headcount.data or 0,
            max_headcount=self.max_headcount.data,
            description=self.description.data or "",
        )
