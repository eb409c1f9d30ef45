"""The guard check form: it parses what was typed; the rules are the service's."""

from typing import Any

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in stubs
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from models import GuardCheck, GuardKind, GuardStatus
from models.guard import DEFAULT_FRESHNESS_DAYS, MAX_FRESHNESS_DAYS
from postmortems.forms import EnumSelectField, Form, LocalDateTimeField
from postmortems.guards.service import GuardValues


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
    freshness_days = IntegerField(
        "Must be seen passing every (days)",
        [
            Optional(),
            NumberRange(
                1,
                MAX_FRESHNESS_DAYS,
                f"Give a whole number of days from 1 to {MAX_FRESHNESS_DAYS}.",
            ),
        ],
        default=DEFAULT_FRESHNESS_DAYS,
        description=(
            "Without a passing run in this many days the guard is stale "
            f"({DEFAULT_FRESHNESS_DAYS} when left empty)."
        ),
    )

    def __init__(self, *args: Any, guard: GuardCheck | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=guard, **kwargs)
        self.guard = guard

    def values(self) -> GuardValues:
        return GuardValues(
            name=self.name.data or "",
            kind=self.kind.data,
            location=self.location.data or "",
            description_md=self.description_md.data or "",
            owner=self.owner.data or "",
            status=self.status.data,
            freshness_days=self.freshness_days.data or DEFAULT_FRESHNESS_DAYS,
        )


class GuardRunForm(Form):
    """A run recorded by hand; the rules (time, link, length) are the service's."""

    status = SelectField(
        "Result", choices=[SelectChoice("pass", "Passed"), SelectChoice("fail", "Failed")]
    )
    ran_at = LocalDateTimeField(
        "When it ran",
        [Optional()],
        description="In the team's zone; now when left empty.",
    )
    url = StringField("Link to the run", [Optional()], description="http:// or https://")
    details = TextAreaField("Details", [Optional()], description="At most 2000 characters.")
