"""Forms for teams, headcount snapshots and growth stages."""

from typing import Any

from sqlalchemy import select
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from models import GrowthStage, HeadcountSnapshot, Team
from postmortems.db import session
from postmortems.forms import Form, is_taken
from postmortems.teams.service import overlapping_stage

# Far above any company, far below the database's integer limits.
MAX_HEADCOUNT = 1_000_000


class TeamForm(Form):
    name = StringField("Name", [DataRequired(), Length(max=120)])
    description = TextAreaField("Description")

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=team, **kwargs)
        self.team = team

    def validate_name(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if is_taken(Team, self.team, name=field.data):
            raise ValidationError("Another team has this name.")


class HeadcountSnapshotForm(Form):
    on_date = DateField("As of", [DataRequired(message="Give the date of the count.")])
    headcount = IntegerField(
        "Headcount",
        [DataRequired(message="Give a whole number."), NumberRange(min=1, max=MAX_HEADCOUNT)],
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team

    def validate_on_date(self, field: DateField) -> None:
        stmt = select(HeadcountSnapshot.id).where(
            HeadcountSnapshot.team_id == self.team.id, HeadcountSnapshot.on_date == field.data
        )
        if session.scalar(stmt) is not None:
            raise ValidationError("This team already has a count for this date; remove it first.")


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

    def validate_name(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if is_taken(GrowthStage, self.stage, name=field.data):
            raise ValidationError("Another stage has this name.")

    def validate_max_headcount(self, field: IntegerField) -> None:
        low, high = self.min_headcount.data, field.data
        if low is None:
            return
        if high is not None and high < low:
            raise ValidationError("Cannot be below the lower bound.")
        other = overlapping_stage(low, high, exclude_id=self.stage.id if self.stage else None)
        if other is not None:
            raise ValidationError(f"Overlaps the stage “{other.name}” ({other.band}).")
