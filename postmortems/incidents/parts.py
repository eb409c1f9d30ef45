"""The parts of an incident: timeline events, factors, impacts, lessons, action items.

`save_part` adds or changes one part from plain values after checking its rules; the rules of
each kind live in its `_check_*` function. Everything flushes; the caller commits.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    ContributingFactor,
    GuardCheck,
    GuardKind,
    ImpactEstimate,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentFactor,
    Lesson,
    LessonGroup,
    TimelineEvent,
    User,
)
from models.base import in_stored_range
from postmortems.db import is_taken, session
from postmortems.domain import ConflictError, Problems
from postmortems.incidents import history
from postmortems.incidents.rows import lock_incident
from postmortems.incidents.service import FIRST_YEAR, LAST_YEAR, IncidentError
from postmortems.timezones import local_date, local_today

Part = TimelineEvent | IncidentFactor | ImpactEstimate | Lesson | ActionItem

# Amounts are stored as NUMERIC(24, 6) (models/base.py, ExactDecimal): 18 digits before the
# point and 6 after. A value outside would be rounded by PostgreSQL (and kept as typed by
# SQLite), or refused with a database error; these limits refuse it first, on every path.
MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 6
_PLAIN_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


@dataclass(frozen=True)
class TimelineEventValues:
    at: datetime
    text_md: str


@dataclass(frozen=True)
class FactorValues:
    factor_id: int
    note: str = ""
    is_primary: bool = False


@dataclass(frozen=True)
class ImpactValues:
    kind: ImpactKind
    low: Decimal | None = None
    likely: Decimal | None = None
    high: Decimal | None = None
    currency: str = ""
    unit: str = ""
    level: ImpactLevel | None = None
    method_note: str = ""
    estimated_by: str = ""


@dataclass(frozen=True)
class LessonValues:
    group: LessonGroup
    text_md: str


@dataclass(frozen=True)
class NewGuard:
    """A guard check to create and link from an action item, named in the same change."""

    name: str
    kind: GuardKind = GuardKind.AUTOMATED_TEST


@dataclass(frozen=True)
class ActionItemValues:
    title: str
    group: LessonGroup
    type: ActionType
    details_md: str = ""
    owner_id: int | None = None
    owner: str = ""  # someone without an account
    due_on: date | None = None
    status: ActionStatus = ActionStatus.OPEN
    wont_do_reason: str = ""
    completed_on: date | None = None
    decided_on: date | None = None  # the day it became won't do
    tracker_url: str = ""
    guard_ids: tuple[int, ...] = ()
    new_guard: NewGuard | None = None


PartValues = TimelineEventValues | FactorValues | ImpactValues | LessonValues | ActionItemValues


def save_part(
    incident: Incident,
    values: PartValues,
    part: Part | None = None,
    *,
    expected_version: int | None = None,
    record: bool = True,
    batch: bool = False,
) -> Part:
    """Add a part to the incident (`part` None) or change one of its parts.

    `expected_version` is the part's version the editor started from; a change based on an
    older one is refused with ConflictError rather than applied over someone else's. With
    `batch` (an import adding many parts in one change) the caller has locked the incident and
    flushes after the last part: one lock and one flush instead of one per part.
    """
    if not batch:
        lock_incident(incident)
    kind = KINDS[type(values)]
    if part is not None:
        if part.incident_id != incident.id or not isinstance(part, kind.model):
            raise IncidentError("This part belongs to another postmortem.")
        if expected_version is not None and part.version != expected_version:
            raise ConflictError(f"Someone saved this {kind.label} after you opened it.")
    problems = Problems()
    add_part_problems(problems, incident, values, part)
    problems.raise_if_any(IncidentError)
    if part is None:
        part = kind.model(incident=incident)
        session.add(part)
    kind.apply(part, values)
    if not batch:
        session.flush()
    if record:
        history.record_change(incident, f"saved {kind.label_with_article}")
    return part


def add_part_problems(
    problems: Problems, incident: Incident, values: PartValues, part: Part | None = None
) -> None:
    """Add every rule of its kind that a part's values break to `problems` (give a row's
    `problems.under(name)`): the checks `save_part` makes, collected with the rest of a
    postmortem's."""
    KINDS[type(values)].check(incident, values, part, problems)


def delete_part(incident: Incident, part: Part, *, record: bool = True) -> None:
    """Remove one part of the incident."""
    lock_incident(incident)
    if part.incident_id != incident.id:
        raise IncidentError("This part belongs to another postmortem.")
    session.delete(part)
    session.flush()
    if record:
        history.record_change(incident, f"removed {kind_of(part).label_with_article}")


def part_values(part: Part) -> PartValues:
    """The values a part holds now, in the shape `save_part` takes: what an edit that only
    changes some of them starts from, and what tells an unchanged part from a changed one."""
    values_class = next(v for v, k in KINDS.items() if isinstance(part, k.model))
    names = [f.name for f in fields(values_class)]
    data = {n: getattr(part, n) for n in names if n not in ("guard_ids", "new_guard")}
    if isinstance(part, ActionItem):
        data["guard_ids"] = tuple(sorted(g.id for g in part.guards))
    if isinstance(part, ImpactEstimate):
        data["currency"] = part.currency or ""
    return values_class(**data)  # type: ignore[no-any-return]


def kind_of(part: Part) -> "PartKind":
    return next(k for k in KINDS.values() if isinstance(part, k.model))


# The rule for amounts: every path (form, API, import, demo) reads text with `read_amount`,
# and `save_part` checks every Decimal it is given with `amount_problem`.


def read_amount(text: str) -> Decimal:
    """An amount written as text ("12345.67"), exactly; ValueError with the message to show
    beside the field when it is not a plain number that can be stored as written."""
    text = text.strip()
    if "," in text:
        raise ValueError("Use a point for decimals and no thousands separators (12345.67).")
    if not _PLAIN_NUMBER.fullmatch(text):
        try:
            Decimal(text)
        except InvalidOperation:
            raise ValueError("Not a number.") from None
        if "_" in text or not text.isascii():
            raise ValueError("Not a number.")
        raise ValueError("Write the number out in digits (12345.67).")  # 1E+30, NaN, Infinity
    value = Decimal(text)
    problem = amount_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def amount_problem(value: Decimal) -> str | None:
    """Why an amount cannot be stored exactly as it is, or None when it can."""
    if not value.is_finite():
        return "Write the number out in digits (12345.67)."
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    fraction_digits = max(0, -exponent)
    if fraction_digits > MAX_FRACTION_DIGITS:
        return f"At most {MAX_FRACTION_DIGITS} digits after the point."
    if len(digits) + exponent > MAX_INTEGER_DIGITS:
        return f"At most {MAX_INTEGER_DIGITS} digits before the point."
    return None


# The rules of each kind.


def _check_timeline_event(
    incident: Incident, values: TimelineEventValues, part: Any, problems: Problems
) -> None:
    # Events before the start are allowed: a precursor change made days earlier belongs here.
    if not in_stored_range(values.at):
        problems.add("at", f"Choose a time from {FIRST_YEAR} to {LAST_YEAR}.")
    if not values.text_md.strip():
        problems.add("text_md", "Say what happened.")


def _check_factor(incident: Incident, values: FactorValues, part: Any, problems: Problems) -> None:
    if session.get(ContributingFactor, values.factor_id) is None:
        problems.add("factor_id", "No such contributing factor.")
    if is_taken(IncidentFactor, part, incident_id=incident.id, factor_id=values.factor_id):
        problems.add("factor_id", "This factor is already named on this postmortem.")


def _check_impact(incident: Incident, values: ImpactValues, part: Any, problems: Problems) -> None:
    numbers = {"low": values.low, "likely": values.likely, "high": values.high}
    if values.kind.is_qualitative:
        if values.level is None:
            problems.add("level", f"Choose a level for {values.kind.label.lower()}.")
        for name, value in [*numbers.items(), ("currency", values.currency), ("unit", values.unit)]:
            if value:
                problems.add(name, "Leave empty: this kind is measured as a level.")
        return
    if values.level is not None:
        problems.add("level", "Leave empty: this kind is measured as a number.")
    if values.likely is None:
        problems.add("likely", "Give the most likely value.")
    refused = {name: amount_problem(v) for name, v in numbers.items() if v is not None}
    for name, problem in refused.items():
        if problem is not None:
            problems.add(name, problem)
    if not any(refused.values()):  # NaN cannot be compared; a refused bound is not worth it
        _check_order(values, problems)
    _check_unit(values, problems)


def _check_order(values: ImpactValues, problems: Problems) -> None:
    numbers = {"low": values.low, "likely": values.likely, "high": values.high}
    for name, value in numbers.items():
        if value is not None and value < 0:
            problems.add(name, "Cannot be negative: an estimate of harm is zero or more.")
    low, likely, high = values.low, values.likely, values.high
    if low is not None and likely is not None and low > likely:
        problems.add("low", "Low cannot be above likely.")
    if likely is not None and high is not None and likely > high:
        problems.add("high", "High cannot be below likely.")
    if low is not None and high is not None and low > high:
        problems.add("high", "High cannot be below low.")


def _check_unit(values: ImpactValues, problems: Problems) -> None:
    currency, unit = values.currency, values.unit.strip()
    problems.check_length("unit", unit, 40)
    if currency and not values.kind.is_money:
        problems.add("currency", "Only money impacts have a currency; use the unit.")
    elif currency and pycountry.currencies.get(alpha_3=currency) is None:
        problems.add("currency", f"{currency} is not an ISO 4217 currency code.")
    if currency and unit:
        problems.add("unit", "Give a currency or a unit, not both.")
    if not currency and not unit:
        target = "currency" if values.kind.is_money else "unit"
        problems.add(target, "Give a currency (money) or a unit (anything else).")


def _check_lesson(incident: Incident, values: LessonValues, part: Any, problems: Problems) -> None:
    if not values.text_md.strip():
        problems.add("text_md", "Write the lesson.")


def _check_action_item(
    incident: Incident, values: ActionItemValues, part: Any, problems: Problems
) -> None:
    if not values.title.strip():
        problems.add("title", "Give the action item a title.")
    problems.check_length("title", values.title, 200)
    problems.check_length("owner", values.owner, 120)
    # An external reference may have no known start: nothing to compare with then.
    started = local_date(incident.started_at) if incident.started_at else date.min
    if values.due_on and values.due_on < started:
        problems.add("due_on", f"Cannot be before the incident started ({started}).")
    if values.status is ActionStatus.WONT_DO and not values.wont_do_reason.strip():
        problems.add("wont_do_reason", "Say why it won't be done.")
    if values.completed_on and values.status is not ActionStatus.DONE:
        problems.add("completed_on", "Only a done item has a completion date.")
    elif values.completed_on:
        _check_closing_day("completed_on", values.completed_on, started, problems)
    if values.decided_on and values.status is ActionStatus.WONT_DO:
        _check_closing_day("decided_on", values.decided_on, started, problems)
    if values.tracker_url and not values.tracker_url.lower().startswith(("http://", "https://")):
        problems.add("tracker_url", "Use an http:// or https:// link.")
    problems.check_length("tracker_url", values.tracker_url, 500)
    if (
        values.owner_id is not None
        and session.scalar(select(User.id).where(User.id == values.owner_id, User.is_active))
        is None
    ):
        problems.add("owner_id", "No such person.")
    ids = values.guard_ids
    known = (
        set(session.scalars(select(GuardCheck.id).where(GuardCheck.id.in_(ids)))) if ids else set()
    )
    if set(ids) - known:
        problems.add("guard_ids", "Some of these guard checks no longer exist.")
    if values.new_guard is not None:
        _check_new_guard(values.new_guard, problems)


def _check_closing_day(name: str, day: date, started: date, problems: Problems) -> None:
    """A day an item was closed (done or decided won't do): from the start to today."""
    if day < started:
        problems.add(name, f"Cannot be before the incident started ({started}).")
    elif day > local_today():
        problems.add(name, "Cannot be after today.")


def _check_new_guard(guard: NewGuard, problems: Problems) -> None:
    name = guard.name.strip()
    problems.check_length("new_guard_name", name, 200)
    if is_taken(GuardCheck, None, name=name):
        problems.add("new_guard_name", "A guard check with this name exists; tick it above.")


# How each kind's values are copied onto its row.


def _apply_fields(part: Any, values: Any) -> None:
    for f in fields(values):
        setattr(part, f.name, getattr(values, f.name))


def _apply_factor(part: IncidentFactor, values: FactorValues) -> None:
    _apply_fields(part, values)
    if values.is_primary:  # one primary factor per incident
        for other in part.incident.factors:
            other.is_primary = other is part


def _apply_impact(part: ImpactEstimate, values: ImpactValues) -> None:
    _apply_fields(part, values)
    part.currency = values.currency or None
    part.unit = values.unit.strip()


def _apply_action_item(part: ActionItem, values: ActionItemValues) -> None:
    was_wont_do = part.status is ActionStatus.WONT_DO
    for f in fields(values):
        if f.name not in ("guard_ids", "new_guard"):
            setattr(part, f.name, getattr(values, f.name))
    if part.status is ActionStatus.DONE and part.completed_on is None:
        part.completed_on = local_today()
    # Decided now, unless a day is given; an item already won't do whose day was never
    # recorded (before migration 0017) keeps it unknown rather than get a made-up one.
    if part.status is ActionStatus.WONT_DO and part.decided_on is None and not was_wont_do:
        part.decided_on = local_today()
    if part.status is not ActionStatus.WONT_DO:
        part.wont_do_reason = ""
        part.decided_on = None
    ids = list(values.guard_ids)
    guards = list(session.scalars(select(GuardCheck).where(GuardCheck.id.in_(ids)))) if ids else []
    if values.new_guard is not None:
        owner = session.get(User, values.owner_id) if values.owner_id else None
        guard = GuardCheck(
            name=values.new_guard.name.strip(),
            kind=values.new_guard.kind,
            owner=owner.display_name if owner else values.owner,
        )
        session.add(guard)
        guards.append(guard)
    part.guards = guards


@dataclass(frozen=True)
class PartKind:
    model: type[Any]
    label: str
    check: Callable[[Incident, Any, Any, Problems], None]
    apply: Callable[[Any, Any], None]

    @property
    def label_with_article(self) -> str:
        return f"{'an' if self.label[0] in 'aeiou' else 'a'} {self.label}"


KINDS: dict[type[Any], PartKind] = {
    TimelineEventValues: PartKind(
        TimelineEvent, "timeline event", _check_timeline_event, _apply_fields
    ),
    FactorValues: PartKind(IncidentFactor, "contributing factor", _check_factor, _apply_factor),
    ImpactValues: PartKind(ImpactEstimate, "impact estimate", _check_impact, _apply_impact),
    LessonValues: PartKind(Lesson, "lesson", _check_lesson, _apply_fields),
    ActionItemValues: PartKind(ActionItem, "action item", _check_action_item, _apply_action_item),
}
