"""Forms for an incident and each of its parts. They only parse what was typed into the plain
values the services take (`values()`); the rules live in the services."""

from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in stubs
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    GuardKind,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentStatus,
    LessonGroup,
    Severity,
    Team,
    User,
)
from postmortems.cache import cached
from postmortems.db import session
from postmortems.forms import (
    EnumSelectField,
    ExactDecimalField,
    Form,
    LocalDateTimeField,
    MultiCheckboxField,
    OptionalIdSelectField,
    QuickSelectField,
    parse_tags,
)
from postmortems.incidents.counting import Counting
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    NewGuard,
    PartValues,
    TimelineEventValues,
)
from postmortems.incidents.service import (
    FIRST_YEAR,
    LAST_YEAR,
    PLAIN_FIELDS,
    IncidentFilters,
    IncidentValues,
    list_tags,
)
from postmortems.search.picker import IncidentKeyField
from postmortems.teams.service import list_stages

NO_CHOICE: tuple[int | str, str] = ("", "—")
MARKDOWN_HINT = "Markdown: **bold**, lists, tables, ```code```."


class IncidentForm(Form):
    title = StringField("Title", [DataRequired(), Length(max=200)])
    summary = StringField("One-line summary", [Optional(), Length(max=300)])
    severity = EnumSelectField("Severity", Severity, default=Severity.SEV3)
    team_id = OptionalIdSelectField("Team")
    affected_system = StringField("Affected system", [Optional(), Length(max=200)])
    environment = StringField(
        "Environment", [Optional(), Length(max=60)], description="e.g. production, staging"
    )
    started_at = LocalDateTimeField("Started", [DataRequired(message="When did it start?")])
    started_is_estimated = BooleanField("Start time is an estimate")
    detected_at = LocalDateTimeField("Detected", [Optional()])
    detected_is_estimated = BooleanField("Detection time is an estimate")
    mitigated_at = LocalDateTimeField("Mitigated", [Optional()])
    mitigated_is_estimated = BooleanField("Mitigation time is an estimate")
    resolved_at = LocalDateTimeField("Resolved", [Optional()])
    resolved_is_estimated = BooleanField("Resolution time is an estimate")
    what_happened_md = TextAreaField("What happened")
    analysis_md = TextAreaField("Analysis")
    detection_md = TextAreaField("Detection")
    response_md = TextAreaField("Response and recovery")
    went_well_md = TextAreaField("What went well")
    got_lucky_md = TextAreaField("Where we got lucky")
    tags = StringField("Tags", [Optional(), Length(max=500)], description="Comma-separated.")
    is_near_miss = BooleanField("Near miss (caught before it did harm)")
    exclude_from_metrics = BooleanField("Exclude from metrics (listed, not counted)")
    recurrence_of_id = IncidentKeyField(
        "Recurrence of", description="The key of the earlier postmortem this one repeats."
    )
    owner_id = OptionalIdSelectField("Owner", description="The person who drives the follow-up.")
    owner_name = StringField(
        "Owner without an account",
        [Optional(), Length(max=120)],
        description="When the owner has no account here.",
    )
    is_restricted = BooleanField(
        "Restricted: only the people named here, the team's members and admins see it"
    )
    access_user_ids = MultiCheckboxField("People who may see it", coerce=int)
    version = HiddenField()

    def __init__(
        self, *args: Any, viewer: User, incident: Incident | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, obj=incident, **kwargs)
        self.incident = incident
        self._viewer = viewer
        if incident is not None and incident.is_external:
            # Another organisation's incident may state no start: left empty, it stays unknown.
            self.started_at.validators = [Optional()]
            self.started_at.flags.required = False
        self.team_id.choices = [NO_CHOICE, *team_choices()]
        people = user_choices()
        self.owner_id.choices = [NO_CHOICE, *people]
        self.access_user_ids.choices = people
        if incident is not None and not self.is_submitted():
            self.fill_from(incident)

    def values(self) -> IncidentValues:
        """What was typed, as the values the incident service takes."""
        data = {name: self[name].data for name in PLAIN_FIELDS}
        for name in ("title", "summary", "affected_system", "environment", "owner_name"):
            data[name] = (data[name] or "").strip()
        return IncidentValues(
            **data,
            tags=tuple(parse_tags(self.tags.data or "")),
            access_user_ids=tuple(self.access_user_ids.data or ()),
        )

    def expected_version(self) -> int | None:
        """The version of the incident the form was opened on."""
        text = str(self.version.data or "")
        return int(text) if text.isdigit() else None

    def differences(self, saved: Form) -> list[tuple[str, str, str]]:
        """As for any form, but tags are a set: "ops, disk" is the same as "disk, ops"."""
        same_tags = parse_tags(self.tags.data or "") == parse_tags(saved.tags.data or "")
        return [
            row
            for row in super().differences(saved)
            if not (same_tags and row[0] == self.tags.label.text)
        ]

    def saved_version(self, incident: Incident) -> "IncidentForm":
        """This form filled from the incident as it is saved now, to compare with."""
        saved = IncidentForm(formdata=None, viewer=self._viewer, incident=incident)
        saved.fill_from(incident)
        return saved

    def fill_from(self, incident: Incident) -> None:
        """Show the incident's tags and access list, which are not plain columns."""
        self.tags.data = ", ".join(t.name for t in incident.tags)
        self.access_user_ids.data = [u.id for u in incident.access_users]


def user_choices() -> list[tuple[int, str]]:
    """Active accounts as select choices: kept until the data changes (every form shows them,
    several times; they are not worth a query per request)."""

    def read() -> tuple[tuple[int, str], ...]:
        users = session.execute(
            select(User.id, User.name, User.email)
            .where(User.is_active)
            .order_by(User.name, User.email)
        )
        return tuple((i, name or email) for i, name, email in users)

    return list(cached(("user_choices",), read, viewer=None))


def team_choices() -> list[tuple[int, str]]:
    """The teams as select choices (their names only: not their headcount history)."""

    def read() -> tuple[tuple[int, str], ...]:
        teams = session.execute(select(Team.id, Team.name).order_by(Team.name))
        return tuple((i, name) for i, name in teams)

    return list(cached(("team_choices",), read, viewer=None))


class PartForm(Form):
    """A form for one part of an incident: `incident` owns it, `part` is None when adding."""

    version = HiddenField()

    def __init__(self, *args: Any, incident: Incident, part: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=part, **kwargs)
        self.incident = incident
        self.part = part

    def saved_version(self, part: Any) -> "PartForm":
        """This form filled from the part as it is saved now, to compare with."""
        saved = type(self)(formdata=None, incident=self.incident, part=part)
        saved.fill_from(part)
        return saved

    def fill_from(self, part: Any) -> None:
        """Show what is not a plain column of the part (nothing, for most kinds)."""

    def values(self) -> PartValues:
        raise NotImplementedError

    def expected_version(self) -> int | None:
        """The version of the part the form was opened on (None when adding)."""
        text = self.version.data or ""
        return int(text) if text.isdigit() else None


class TimelineEventForm(PartForm):
    at = LocalDateTimeField("Time", [DataRequired(message="When did it happen?")])
    text_md = TextAreaField("What happened", [DataRequired()], description=MARKDOWN_HINT)

    def values(self) -> TimelineEventValues:
        assert self.at.data is not None  # DataRequired
        return TimelineEventValues(at=self.at.data, text_md=self.text_md.data or "")


class IncidentFactorForm(PartForm):
    factor_id = SelectField("Contributing factor", coerce=int)
    note = TextAreaField("Note", description="How this factor played its part.")
    is_primary = BooleanField("Primary factor")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        factors = session.scalars(
            select(ContributingFactor).order_by(
                ContributingFactor.category, ContributingFactor.name
            )
        )
        grouped: dict[str, list[tuple[int, str]]] = {c.label: [] for c in CauseCategory}
        for factor in factors:
            grouped[factor.category.label].append((factor.id, factor.name))
        self.factor_id.choices = grouped

    def values(self) -> FactorValues:
        return FactorValues(
            factor_id=self.factor_id.data,
            note=self.note.data or "",
            is_primary=bool(self.is_primary.data),
        )


class ImpactEstimateForm(PartForm):
    kind = EnumSelectField("Kind of impact", ImpactKind)
    low = ExactDecimalField("Low")
    likely = ExactDecimalField("Likely")
    high = ExactDecimalField("High")
    currency = StringField(
        "Currency",
        [Optional(), Length(max=3)],
        description="ISO 4217 code, e.g. USD, EUR, RUB; money only.",
    )
    unit = StringField(
        "Unit", [Optional(), Length(max=40)], description="e.g. images, days, hours, people."
    )
    level = EnumSelectField(
        "Level", ImpactLevel, blank="—", description="For reputation, legal, health and safety."
    )
    method_note = TextAreaField("How it was estimated")
    estimated_by = StringField("Estimated by", [Optional(), Length(max=120)])

    def values(self) -> ImpactValues:
        return impact_values(self)


class LessonForm(PartForm):
    group = EnumSelectField("Group", LessonGroup)
    text_md = TextAreaField("Lesson", [DataRequired()], description=MARKDOWN_HINT)

    def values(self) -> LessonValues:
        return LessonValues(group=self.group.data, text_md=self.text_md.data or "")


class ActionItemForm(PartForm):
    title = StringField("Title", [DataRequired(), Length(max=200)])
    details_md = TextAreaField("Details", description=MARKDOWN_HINT)
    group = EnumSelectField("Group", LessonGroup)
    type = EnumSelectField("Type", ActionType)
    owner_id = OptionalIdSelectField("Owner")
    owner = StringField("Owner without an account", [Optional(), Length(max=120)])
    due_on = DateField("Due date", [Optional()])
    status = EnumSelectField("Status", ActionStatus, default=ActionStatus.OPEN)
    wont_do_reason = TextAreaField("Why it won't be done")
    completed_on = DateField(
        "Completed on", [Optional()], description="Left empty on a done item: today."
    )
    decided_on = DateField(
        "Decided on", [Optional()], description="When it became won't do; left empty: today."
    )
    tracker_url = StringField("Tracker link", [Optional(), URL(require_tld=False), Length(max=500)])
    guard_ids = MultiCheckboxField(
        "Guard checks", coerce=int, description="The safeguards this item creates or relies on."
    )
    new_guard_name = StringField(
        "New guard check",
        [Optional(), Length(max=200)],
        description="Name one to create it and link it here.",
    )
    new_guard_kind = EnumSelectField(
        "Kind of the new guard check", GuardKind, default=GuardKind.AUTOMATED_TEST
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [NO_CHOICE, *user_choices()]
        guards = session.scalars(select(GuardCheck).order_by(GuardCheck.name))
        self.guard_ids.choices = [(g.id, f"{g.name} ({g.kind.label})") for g in guards]
        if self.part is not None and not self.is_submitted():
            self.fill_from(self.part)

    def fill_from(self, part: ActionItem) -> None:
        self.guard_ids.data = [g.id for g in part.guards]

    def values(self) -> ActionItemValues:
        new_name = (self.new_guard_name.data or "").strip()
        return ActionItemValues(
            title=(self.title.data or "").strip(),
            details_md=self.details_md.data or "",
            group=self.group.data,
            type=self.type.data,
            owner_id=self.owner_id.data,
            owner=(self.owner.data or "").strip(),
            due_on=self.due_on.data,
            status=self.status.data,
            wont_do_reason=self.wont_do_reason.data or "",
            completed_on=self.completed_on.data,
            decided_on=self.decided_on.data,
            tracker_url=(self.tracker_url.data or "").strip(),
            guard_ids=tuple(self.guard_ids.data or ()),
            new_guard=NewGuard(new_name, self.new_guard_kind.data) if new_name else None,
        )


def impact_values(form: Any) -> ImpactValues:
    """An impact estimate as typed into a form (its own page, or a row of the one page)."""
    estimated_by = form.estimated_by.data if "estimated_by" in form else ""
    return ImpactValues(
        kind=form.kind.data,
        low=form.low.data,
        likely=form.likely.data,
        high=form.high.data,
        currency=(form.currency.data or "").strip().upper(),
        unit=(form.unit.data or "").strip(),
        level=form.level.data,
        method_note=form.method_note.data or "",
        estimated_by=(estimated_by or "").strip(),
    )


ANY: tuple[int | str, str] = ("", "Any")
Choices = tuple[tuple[int, str], ...]


def _filter_choices() -> tuple[Choices, Choices, Choices]:
    """The factors, teams and stages to filter by, as (id, label): kept until data changes."""
    factors = session.scalars(select(ContributingFactor).order_by(ContributingFactor.name))
    stages = session.scalars(list_stages())
    return (
        tuple((f.id, str(f)) for f in factors),
        tuple(
            (i, name) for i, name in session.execute(select(Team.id, Team.name).order_by(Team.name))
        ),
        tuple((s.id, f"{s.name} ({s.band})") for s in stages),
    )


class FilterForm(Form):
    """The list's filters: read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    status = EnumSelectField("Status", IncidentStatus, blank="Any", validators=[Optional()])
    severity = EnumSelectField("Severity", Severity, blank="Any", validators=[Optional()])
    category = EnumSelectField(
        "Cause category", CauseCategory, blank="Any", validators=[Optional()]
    )
    factor = OptionalIdSelectField("Factor")
    team = OptionalIdSelectField("Team")
    stage = OptionalIdSelectField("Growth stage")
    year = IntegerField("Year", [Optional(), NumberRange(min=FIRST_YEAR, max=LAST_YEAR)])
    tag = QuickSelectField("Tag", coerce=lambda value: value or None)
    metrics = QuickSelectField(
        "In reports",
        choices=[SelectChoice("", "Any"), *(SelectChoice(c.value, c.label) for c in Counting)],
        coerce=lambda value: Counting(value) if value else None,
        validators=[Optional()],
    )
    origin = QuickSelectField(
        "Origin",
        choices=[
            SelectChoice("", "Our postmortems"),
            SelectChoice("external", "External references (other organisations')"),
        ],
        validators=[Optional()],
    )
    page = IntegerField("Page", [Optional(), NumberRange(min=1, max=1_000_000)])

    def __init__(self) -> None:
        super().__init__(request.args)
        factors, teams, stages = cached(("list_filter_choices",), _filter_choices, viewer=None)
        self.factor.choices = [ANY, *factors]
        self.team.choices = [ANY, *teams]
        self.stage.choices = [ANY, *stages]
        self.tag.choices = [ANY, *((t, t) for t in list_tags(current_user))]

    def filters(self) -> IncidentFilters:
        return IncidentFilters(
            status=self.status.data,
            severity=self.severity.data,
            category=self.category.data,
            factor_id=self.factor.data,
            team_id=self.team.data,
            stage_id=self.stage.data,
            year=self.year.data,
            tag=self.tag.data or None,
            counting=self.metrics.data,
            external=self.origin.data == "external",
        )
