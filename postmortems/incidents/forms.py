"""Forms for an incident and each of its parts; each checks its own rules and can `apply` itself."""

from typing import Any

import pycountry
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    GuardKind,
    ImpactEstimate,
    ImpactKind,
    ImpactLevel,
    Incident,
    LessonGroup,
    Severity,
    User,
)
from postmortems.db import session
from postmortems.forms import (
    EnumSelectField,
    ExactDecimalField,
    Form,
    LocalDateTimeField,
    MultiCheckboxField,
    OptionalIdSelectField,
    is_taken,
    parse_tags,
)
from postmortems.incidents.service import recurrence_candidates, set_tags
from postmortems.teams.service import list_teams
from postmortems.timezones import local_date, local_today, to_local

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
    what_happened_md = TextAreaField("What happened", description=MARKDOWN_HINT)
    analysis_md = TextAreaField("Analysis", description=MARKDOWN_HINT)
    detection_md = TextAreaField("Detection", description=MARKDOWN_HINT)
    response_md = TextAreaField("Response and recovery", description=MARKDOWN_HINT)
    went_well_md = TextAreaField("What went well", description=MARKDOWN_HINT)
    got_lucky_md = TextAreaField("Where we got lucky", description=MARKDOWN_HINT)
    tags = StringField("Tags", [Optional(), Length(max=500)], description="Comma-separated.")
    is_near_miss = BooleanField("Near miss (caught before it did harm)")
    exclude_from_metrics = BooleanField("Exclude from metrics (listed, not counted)")
    recurrence_of_id = OptionalIdSelectField("Recurrence of")
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
        self.team_id.choices = [("", "—")] + [(t.id, t.name) for t in session.scalars(list_teams())]
        self.recurrence_of_id.choices = [("", "—")] + [
            (i.id, f"{i.key} {i.title}")
            for i in session.scalars(recurrence_candidates(viewer, incident))
        ]
        people = user_choices()
        self.owner_id.choices = [("", "—")] + people
        self.access_user_ids.choices = people
        if incident is not None and not self.is_submitted():
            self.tags.data = ", ".join(t.name for t in incident.tags)
            self.access_user_ids.data = [u.id for u in incident.access_users]

    def validate_detected_at(self, field: LocalDateTimeField) -> None:
        _not_before(field, self.started_at, "the start")

    def validate_mitigated_at(self, field: LocalDateTimeField) -> None:
        _not_before(field, self.detected_at, "detection")
        _not_before(field, self.started_at, "the start")

    def validate_resolved_at(self, field: LocalDateTimeField) -> None:
        _not_before(field, self.mitigated_at, "mitigation")
        _not_before(field, self.started_at, "the start")

    def validate_tags(self, field: StringField) -> None:
        if any(len(tag) > 60 for tag in parse_tags(field.data or "")):
            raise ValidationError("Each tag can be at most 60 characters.")

    def apply(self, incident: Incident) -> None:
        """Copy the fields onto the incident, tags and access list included."""
        for name, field in self._fields.items():
            if name not in ("tags", "version", "csrf_token", "access_user_ids"):
                setattr(incident, name, field.data)
        set_tags(incident, parse_tags(self.tags.data or ""))
        incident.access_users = list(
            session.scalars(select(User).where(User.id.in_(self.access_user_ids.data or [])))
        )

    def saved_version(self, incident: Incident) -> "IncidentForm":
        """This form filled from the incident as it is saved now, to compare with."""
        return IncidentForm(formdata=None, viewer=self._viewer, incident=incident)


def _not_before(field: LocalDateTimeField, earlier: LocalDateTimeField, what: str) -> None:
    if field.data and earlier.data and field.data < earlier.data:
        shown = to_local(earlier.data).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(f"Cannot be before {what} ({shown}).")


def user_choices() -> list[tuple[int, str]]:
    """Active accounts as select choices."""
    users = session.scalars(select(User).where(User.is_active).order_by(User.name, User.email))
    return [(u.id, u.display_name) for u in users]


class PartForm(Form):
    """A form for one part of an incident: `incident` owns it, `part` is None when adding."""

    version = HiddenField()

    def __init__(self, *args: Any, incident: Incident, part: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=part, **kwargs)
        self.incident = incident
        self.part = part

    def saved_version(self, part: Any) -> "PartForm":
        """This form filled from the part as it is saved now, to compare with."""
        return type(self)(formdata=None, incident=self.incident, part=part)

    def apply(self, part: Any) -> None:
        for name, field in self._fields.items():
            if name not in ("csrf_token", "version"):
                field.populate_obj(part, name)


class TimelineEventForm(PartForm):
    at = LocalDateTimeField("Time", [DataRequired(message="When did it happen?")])
    text_md = TextAreaField("What happened", [DataRequired()], description=MARKDOWN_HINT)


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

    def validate_factor_id(self, field: SelectField) -> None:
        for named in self.incident.factors:
            if named.factor_id == field.data and named is not self.part:
                raise ValidationError("This factor is already named on this postmortem.")


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

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        kind: ImpactKind = self.kind.data
        if kind.is_qualitative:
            self._qualitative_rules()
        else:
            self._quantity_rules(kind)
        return not any(field.errors for field in self)

    def _qualitative_rules(self) -> None:
        if self.level.data is None:
            self.level.errors.append(f"Choose a level for {self.kind.data.label.lower()}.")
        for field in (self.low, self.likely, self.high, self.currency, self.unit):
            if field.data:
                field.errors.append("Leave empty: this kind is measured as a level.")

    def _quantity_rules(self, kind: ImpactKind) -> None:
        if self.level.data is not None:
            self.level.errors.append("Leave empty: this kind is measured as a number.")
        if self.likely.data is None:
            self.likely.errors.append("Give the most likely value.")
        low, likely, high = self.low.data, self.likely.data, self.high.data
        if low is not None and likely is not None and low > likely:
            self.low.errors.append("Low cannot be above likely.")
        if likely is not None and high is not None and likely > high:
            self.high.errors.append("High cannot be below likely.")
        if low is not None and high is not None and low > high:
            self.high.errors.append("High cannot be below low.")
        currency = (self.currency.data or "").strip().upper()
        self.currency.data = currency
        unit = (self.unit.data or "").strip()
        if currency and not kind.is_money:
            self.currency.errors.append("Only money impacts have a currency; use the unit.")
        elif currency and pycountry.currencies.get(alpha_3=currency) is None:
            self.currency.errors.append(f"{currency} is not an ISO 4217 currency code.")
        if currency and unit:
            self.unit.errors.append("Give a currency or a unit, not both.")
        if not currency and not unit:
            target = self.currency if kind.is_money else self.unit
            target.errors.append("Give a currency (money) or a unit (anything else).")

    def apply(self, part: ImpactEstimate) -> None:
        super().apply(part)
        part.currency = self.currency.data or None
        part.unit = (self.unit.data or "").strip()


class LessonForm(PartForm):
    group = EnumSelectField("Group", LessonGroup)
    text_md = TextAreaField("Lesson", [DataRequired()], description=MARKDOWN_HINT)


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
        self.owner_id.choices = [("", "—")] + user_choices()
        guards = session.scalars(select(GuardCheck).order_by(GuardCheck.name))
        self.guard_ids.choices = [(g.id, f"{g.name} ({g.kind.label})") for g in guards]
        if self.part is not None and not self.is_submitted():
            self.guard_ids.data = [g.id for g in self.part.guards]

    def validate_due_on(self, field: DateField) -> None:
        started = local_date(self.incident.started_at)
        if field.data and field.data < started:
            raise ValidationError(f"Cannot be before the incident started ({started}).")

    def validate_wont_do_reason(self, field: TextAreaField) -> None:
        if self.status.data is ActionStatus.WONT_DO and not (field.data or "").strip():
            raise ValidationError("Say why it won't be done.")

    def validate_completed_on(self, field: DateField) -> None:
        if field.data and self.status.data is not ActionStatus.DONE:
            raise ValidationError("Only a done item has a completion date.")
        if field.data and field.data < local_date(self.incident.started_at):
            raise ValidationError("Cannot be before the incident started.")

    def validate_tracker_url(self, field: StringField) -> None:
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError("Use an http:// or https:// link.")

    def validate_new_guard_name(self, field: StringField) -> None:
        name = (field.data or "").strip()
        if name and is_taken(GuardCheck, None, name=name):
            raise ValidationError("A guard check with this name exists; tick it above.")

    def apply(self, part: ActionItem) -> None:
        for name in (
            "title",
            "details_md",
            "group",
            "type",
            "owner",
            "due_on",
            "status",
            "wont_do_reason",
            "completed_on",
            "tracker_url",
        ):
            setattr(part, name, getattr(self, name).data)
        if part.status is ActionStatus.DONE and part.completed_on is None:
            part.completed_on = local_today()
        if part.status is not ActionStatus.WONT_DO:
            part.wont_do_reason = ""
        guards = list(
            session.scalars(select(GuardCheck).where(GuardCheck.id.in_(self.guard_ids.data or [])))
        )
        new_name = (self.new_guard_name.data or "").strip()
        if new_name:
            guard = GuardCheck(name=new_name, kind=self.new_guard_kind.data, owner=part.owner_label)
            session.add(guard)
            guards.append(guard)
        part.guards = guards
