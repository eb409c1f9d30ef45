"""The rows of each kind in a generated database, drawn from one seeded random generator
(bench/generate.py)."""

import bisect
import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    text,
)

from bench.shape import (
    ADMIN_EMAIL,
    CHUNK,
    FIRST_DAY,
    GUARDS,
    PART_TABLES,
    PASSWORD,
    READER_EMAIL,
    STAGES,
    TABLE_ORDER,
    TAGS,
    TEAM_ENDS,
    TEAMS,
    TEXT_VARIANTS,
    Shape,
)
from bench.sqlite_writer import Writer
from bench.texts import (
    ACTION_TITLES,
    DETECTORS,
    ENVIRONMENTS,
    FAILURES,
    IMPACT_UNITS,
    METHOD_NOTES,
    REVIEW_TEXTS,
    RU_FAILURES,
    RU_TRIGGERS,
    RUSSIAN_SHARE,
    SECTION_TEXTS,
    SYSTEMS,
    TAG_WORDS,
    TEXTS,
    TRIGGERS,
    UNITS,
    lengthened,
)
from models import (
    ActionStatus,
    ActionType,
    GuardKind,
    GuardStatus,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    ReviewAction,
    Role,
    Severity,
)


class Generator:
    """Everything drawn from one seeded random generator, so the same seed gives the same rows."""

    def __init__(
        self, rng: random.Random, incidents: int, teams: int, years: int, shape: Shape
    ) -> None:
        self.rng, self.shape = rng, shape
        self.incidents = incidents
        self.teams = _team_plan(teams)
        self.days = years * 365 + years // 4
        self.last_day = FIRST_DAY + timedelta(days=self.days - 1)
        self.now = datetime.combine(self.last_day, datetime.min.time(), UTC) + timedelta(days=1)
        variants = min(TEXT_VARIANTS, max(50, incidents // 2))
        self.texts = {name: [make(rng) for _ in range(variants)] for name, make in TEXTS.items()}
        if shape.section_chars:
            for name in SECTION_TEXTS:
                self.texts[name] = [
                    lengthened(rng, text, shape.section_chars, russian=name.endswith("_ru"))
                    for text in self.texts[name]
                ]

    def write(self, conn: Connection, began: float) -> None:
        self.writer = Writer(conn)
        with conn.begin():
            self._reference_data(conn)
        self._incidents(conn, began)
        with conn.begin():
            self.writer.insert(
                "incident_key_counter",
                [{"prefix": p, "last_number": n} for p, n in sorted(self.key_numbers.items())],
            )
        counts = ", ".join(f"{n:,} {t}" for t, n in self.writer.rows.most_common())
        print(f"  rows: {counts}")

    # Teams, stages, people, guards, tags.

    def _reference_data(self, conn: Connection) -> None:
        rng, w = self.rng, self.writer
        w.insert(
            "team",
            [
                {"id": i, "name": name, "description": f"The {name} team."}
                for i, (name, *_rest) in enumerate(self.teams, 1)
            ],
        )
        self.snapshots = self._headcount()
        w.insert("headcount_snapshot", self.snapshots)
        w.insert(
            "growth_stage",
            [
                {
                    "id": i,
                    "name": name,
                    "min_headcount": low,
                    "max_headcount": high,
                    "description": about,
                }
                for i, (name, low, high, about) in enumerate(STAGES, 1)
            ],
        )
        self._users()
        self.factors = list(conn.execute(text("SELECT id, category FROM contributing_factor")))
        # Tech debt is named most often, chance least, as in most companies' postmortems.
        weight = {"TECH_DEBT_CULTURE": 5, "PROCESS_COMMUNICATION": 3, "PERSONAL": 2, "CHANCE": 1}
        self.factor_weights = cumulative([weight.get(c, 1) for _id, c in self.factors])
        w.insert("guard_check", [self._guard(i) for i in range(1, GUARDS + 1)])
        # Zipf: the first guards are linked from thousands of postmortems, most from a few.
        self.guard_weights = cumulative([1 / rank for rank in range(1, GUARDS + 1)])
        tag_names = sorted({f"{a}-{b}" for a in TAG_WORDS for b in TAG_WORDS if a != b})
        tag_names = TAG_WORDS + rng.sample(tag_names, TAGS - len(TAG_WORDS))
        w.insert("tag", [{"id": i, "name": n} for i, n in enumerate(tag_names, 1)])
        self.tag_weights = cumulative([1 / rank for rank in range(1, TAGS + 1)])

    def _headcount(self) -> list[dict[str, Any]]:
        """Quarterly snapshots per team from its first day; one team ends with a 0."""
        rows = []
        for team_id, (name, start_years, first, per_year) in enumerate(self.teams, 1):
            day = FIRST_DAY + timedelta(days=round(start_years * 365))
            end = TEAM_ENDS[1] if name == TEAM_ENDS[0] else None
            while day <= self.last_day:
                years_in = (day - FIRST_DAY).days / 365
                if end is not None and years_in >= end:
                    rows.append({"team_id": team_id, "on_date": day, "headcount": 0})
                    break
                count = first + per_year * (years_in - start_years) + self.rng.uniform(-1, 1)
                rows.append({"team_id": team_id, "on_date": day, "headcount": max(1, round(count))})
                day = _add_months(day, 3)
        return rows

    def _users(self) -> None:
        from werkzeug.security import generate_password_hash

        password_hash = generate_password_hash(PASSWORD)  # scrypt: once, not per account
        people = [
            (ADMIN_EMAIL, "Bench admin", Role.ADMIN, None),
            (READER_EMAIL, "Bench reader", Role.READER, 1),
            ("bench-reviewer@example.com", "Bench reviewer", Role.REVIEWER, 2),
        ] + [
            (f"bench-author{n}@example.com", f"Author {n}", Role.AUTHOR, n % len(self.teams) + 1)
            for n in range(1, 9)
        ]
        self.writer.insert(
            "user_account",
            [
                {
                    "id": i,
                    "email": email,
                    "name": name,
                    "password_hash": password_hash,
                    "role": role,
                    "team_id": team_id,
                    "is_active": True,
                    "created_at": datetime.combine(FIRST_DAY, datetime.min.time(), UTC),
                }
                for i, (email, name, role, team_id) in enumerate(people, 1)
            ],
        )
        self.admin_id, self.reviewer_id = 1, 3
        self.author_ids = list(range(4, len(people) + 1))

    def _guard(self, number: int) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(list(GuardKind))
        system = rng.choice(SYSTEMS)
        return {
            "id": number,
            "name": f"{kind.label}: {system} #{number}",
            "kind": kind,
            "location": f"{system}/checks/{kind.name.lower()}_{number}.yml",
            "description_md": rng.choice(self.texts["guard"]),
            "owner": f"{rng.choice(self.teams)[0]} team",
            "status": rng.choices(list(GuardStatus), weights=[2, 12, 1])[0],
            "created_at": self.now - timedelta(days=rng.randint(30, self.days)),
            "updated_at": self.now - timedelta(days=rng.randint(0, 30)),
        }

    # Postmortems and their parts.

    def _incidents(self, conn: Connection, began: float) -> None:
        rng = self.rng
        # Days weighted by company headcount: more people, more postmortems.
        timeline = Headcount([(s["team_id"], s["on_date"], s["headcount"]) for s in self.snapshots])
        days = [FIRST_DAY + timedelta(days=d) for d in range(self.days)]
        weights = cumulative([max(1, timeline.total(day)) for day in days])
        starts = sorted(
            datetime.combine(day, datetime.min.time(), UTC)
            + timedelta(seconds=rng.randrange(86400))
            for day in rng.choices(days, cum_weights=weights, k=self.incidents)
        )
        self.key_numbers: Counter[str] = Counter()
        part_ids: dict[str, Iterator[int]] = {name: itertools.count(1) for name in PART_TABLES}
        for first in range(0, self.incidents, CHUNK):
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_ORDER}
            for offset, started in enumerate(starts[first : first + CHUNK]):
                self._incident(first + offset + 1, started, rows, part_ids)
            with conn.begin():
                for name in TABLE_ORDER:
                    self.writer.insert(name, rows[name])
            done = min(first + CHUNK, self.incidents)
            elapsed = time.perf_counter() - began
            print(f"  {done:>9,}/{self.incidents:,} postmortems  {elapsed:6.1f} s", flush=True)

    def _incident(
        self,
        incident_id: int,
        started: datetime,
        rows: dict[str, list[dict[str, Any]]],
        part_ids: dict[str, Iterator[int]],
    ) -> None:
        rng, texts = self.rng, self.texts
        age = self.now - started
        status = _status(rng, age)
        near_miss = rng.random() < 0.08
        severity = rng.choices(
            list(Severity), weights=[1, 3, 9, 12] if near_miss else [5, 15, 45, 35]
        )[0]
        self.key_numbers[f"PM-{started.year}"] += 1
        detected = started + timedelta(minutes=rng.lognormvariate(4, 1.6))
        mitigated = detected + timedelta(minutes=rng.lognormvariate(3.5, 1.2))
        resolved: datetime | None = mitigated + timedelta(minutes=rng.lognormvariate(5, 1.3))
        if resolved is not None and resolved > self.now:
            resolved = None  # still being resolved
        team_id = rng.randint(1, len(self.teams)) if rng.random() < 0.95 else None
        author_id = rng.choice(self.author_ids)
        owner = rng.random()
        system = rng.choice(SYSTEMS)
        russian = rng.random() < RUSSIAN_SHARE
        failures, triggers = (RU_FAILURES, RU_TRIGGERS) if russian else (FAILURES, TRIGGERS)
        failure, trigger = rng.choice(failures), rng.choice(triggers)
        after = "после" if russian else "after"
        filed = min(self.now, started + timedelta(hours=rng.uniform(2, 240)))
        restricted = rng.random() < 0.04
        rows["incident"].append(
            {
                "id": incident_id,
                "key": f"PM-{started.year}-{self.key_numbers[f'PM-{started.year}']:03d}",
                "title": f"{system} {failure} {after} {trigger}"[:200],
                "summary": (
                    f"{system} {failure} for {rng.randint(2, 90)} {rng.choice(UNITS)} after "
                    f"{trigger}; found by {rng.choice(DETECTORS)}."
                )[:300],
                "severity": severity,
                "status": status,
                "team_id": team_id,
                "affected_system": system,
                "environment": rng.choice(ENVIRONMENTS),
                "started_at": started,
                "started_is_estimated": rng.random() < 0.2,
                "detected_at": detected,
                "detected_is_estimated": rng.random() < 0.1,
                "mitigated_at": mitigated,
                "mitigated_is_estimated": rng.random() < 0.1,
                "resolved_at": resolved,
                "resolved_is_estimated": rng.random() < 0.1,
                "what_happened_md": rng.choice(
                    texts["what_happened_ru" if russian else "what_happened"]
                ),
                "analysis_md": rng.choice(texts["analysis"]),
                "detection_md": rng.choice(texts["detection"]),
                "response_md": rng.choice(texts["response"]),
                "went_well_md": rng.choice(texts["went_well"]),
                "got_lucky_md": (
                    rng.choice(texts["got_lucky"])
                    if rng.random() < self.shape.got_lucky_share
                    else ""
                ),
                "author_id": author_id,
                "owner_id": author_id if owner < 0.6 else None,
                "owner_name": "" if owner < 0.6 else rng.choice(["Ana", "Bo", "Chen", "Dara"]),
                "is_restricted": restricted,
                "is_near_miss": near_miss,
                "exclude_from_metrics": rng.random() < 0.02,
                "recurrence_of_id": (
                    rng.randint(1, incident_id - 1)
                    if incident_id > 1 and rng.random() < 0.03
                    else None
                ),
                "created_at": filed,
                "updated_at": min(self.now, filed + timedelta(days=rng.uniform(0, 20))),
                "version": rng.randint(1, 6),
            }
        )
        if restricted:
            rows["incident_access"].append(
                {"incident_id": incident_id, "user_id": rng.choice(self.author_ids)}
            )
        end = resolved or self.now
        for _ in range(rng.choice(self.shape.timeline_events)):
            rows["timeline_event"].append(
                {
                    "id": next(part_ids["timeline_event"]),
                    "incident_id": incident_id,
                    "at": started + (end - started) * rng.random(),
                    "text_md": rng.choice(texts["timeline"]),
                }
            )
        for n, factor_index in enumerate(self._distinct(self.factor_weights, 2)):
            rows["incident_factor"].append(
                {
                    "id": next(part_ids["incident_factor"]),
                    "incident_id": incident_id,
                    "factor_id": self.factors[factor_index][0],
                    "note": rng.choice(texts["factor_note"]),
                    "is_primary": n == 0,
                }
            )
        for kind in rng.sample(list(ImpactKind), 2):
            rows["impact_estimate"].append(
                _impact(rng, next(part_ids["impact_estimate"]), incident_id, kind)
            )
        rows["lesson"].append(
            {
                "id": next(part_ids["lesson"]),
                "incident_id": incident_id,
                "group": rng.choice(list(LessonGroup)),
                "text_md": rng.choice(texts["lesson_ru" if russian else "lesson"]),
            }
        )
        for n in range(2):
            action_id = next(part_ids["action_item"])
            rows["action_item"].append(self._action(action_id, incident_id, started, author_id))
            for guard_id in self._guards_of_action(first=n == 0):
                rows["action_item_guard"].append(
                    {"action_item_id": action_id, "guard_check_id": guard_id}
                )
        for tag_index in self._distinct(self.tag_weights, rng.choice([0, 1, 1, 2, 2, 3])):
            rows["incident_tag"].append({"incident_id": incident_id, "tag_id": tag_index + 1})
        steps = {
            IncidentStatus.DRAFT: [],
            IncidentStatus.IN_REVIEW: [ReviewAction.SUBMITTED],
            IncidentStatus.PUBLISHED: [ReviewAction.SUBMITTED, ReviewAction.PUBLISHED],
            IncidentStatus.ARCHIVED: [
                ReviewAction.SUBMITTED,
                ReviewAction.PUBLISHED,
                ReviewAction.ARCHIVED,
            ],
        }[status]
        at = filed
        for step in steps:
            at = min(self.now, at + timedelta(hours=rng.uniform(1, 72)))
            rows["review_comment"].append(
                {
                    "incident_id": incident_id,
                    "user_id": author_id if step is ReviewAction.SUBMITTED else self.reviewer_id,
                    "at": at,
                    "action": step,
                    "text": rng.choice(REVIEW_TEXTS[step]),
                }
            )

    def _action(
        self, action_id: int, incident_id: int, started: datetime, author_id: int
    ) -> dict[str, Any]:
        rng = self.rng
        due = started.date() + timedelta(days=rng.randint(7, 90))
        overdue = due < self.now.date()
        status = rng.choices(
            list(ActionStatus), weights=[1, 1, 7, 1] if overdue else [5, 3, 1, 0.2]
        )[0]
        done = status is ActionStatus.DONE
        return {
            "id": action_id,
            "incident_id": incident_id,
            "title": rng.choice(ACTION_TITLES).format(system=rng.choice(SYSTEMS)),
            "details_md": rng.choice(self.texts["action"]),
            "group": rng.choice(list(LessonGroup)),
            "type": rng.choices(list(ActionType), weights=[5, 3, 2])[0],
            "owner": "" if rng.random() < 0.7 else rng.choice(["Ana", "Bo", "Chen", "Dara"]),
            "owner_id": author_id if rng.random() < 0.5 else None,
            "due_on": due,
            "status": status,
            "wont_do_reason": (
                "Superseded by a wider fix." if status is ActionStatus.WONT_DO else ""
            ),
            "completed_on": min(due, self.now.date()) if done else None,
            "tracker_url": f"https://tracker.example.com/browse/OPS-{action_id}",
        }

    def _guards_of_action(self, *, first: bool) -> list[int]:
        """The guard checks an action item links: none for about half of them."""
        rng, share = self.rng, self.shape.top_guard_share
        if not share:
            if rng.random() >= 0.55:
                return []
            count = 2 if rng.random() < 0.15 else 1
            return [index + 1 for index in self._distinct(self.guard_weights, count)]
        chosen = [1] if first and rng.random() < share else []
        if rng.random() < 0.55:
            chosen.append(rng.randint(2, GUARDS))
        return chosen

    def _distinct(self, cum_weights: list[float], count: int) -> list[int]:
        """`count` different indexes drawn with the given cumulative weights."""
        chosen: list[int] = []
        population = range(len(cum_weights))
        while len(chosen) < count:
            index = self.rng.choices(population, cum_weights=cum_weights)[0]
            if index not in chosen:
                chosen.append(index)
        return chosen


def _team_plan(teams: int) -> list[tuple[str, float, int, float]]:
    plan = TEAMS[:teams]
    for n in range(len(plan), teams):  # more teams than named ones: later, smaller ones
        plan.append((f"Team {n + 1}", 1.0 + n * 0.3, 2, 1.5))
    return plan


def _status(rng: random.Random, age: timedelta) -> IncidentStatus:
    """Recent postmortems are often still drafts or in review; old ones are published."""
    weights = [35, 25, 40, 0] if age < timedelta(days=45) else [3, 3, 87, 7]
    return rng.choices(list(IncidentStatus), weights=weights)[0]


def _impact(
    rng: random.Random, impact_id: int, incident_id: int, kind: ImpactKind
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": impact_id,
        "incident_id": incident_id,
        "kind": kind,
        "low": None,
        "likely": None,
        "high": None,
        "currency": None,
        "unit": "",
        "level": None,
        "method_note": rng.choice(METHOD_NOTES),
        "estimated_by": rng.choice(["Finance", "Team lead", "On-call engineer", "CTO"]),
    }
    if kind.is_qualitative:
        row["level"] = rng.choice(list(ImpactLevel))
        return row
    unit, largest = IMPACT_UNITS[kind]
    step = Decimal("0.01") if kind.is_money else Decimal(1)
    likely = Decimal(rng.randint(1, largest)) * step
    row["low"] = (likely / 2).quantize(step)
    row["likely"] = likely
    row["high"] = likely * rng.choice([1, 2, 3])
    if kind.is_money:
        row["currency"] = rng.choice(["EUR", "USD", "RUB"])
    else:
        row["unit"] = unit
    return row


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Headcount:
    """Company headcount on a day: each team's latest snapshot by then, summed."""

    def __init__(self, snapshots: Sequence[tuple[int, date, int]]) -> None:
        by_team: dict[int, list[tuple[date, int]]] = {}
        for team_id, on_date, headcount in snapshots:
            by_team.setdefault(team_id, []).append((on_date, headcount))
        self._teams = [sorted(points) for points in by_team.values()]
        self._dates = [[d for d, _ in points] for points in self._teams]

    def total(self, day: date) -> int:
        total = 0
        for dates, points in zip(self._dates, self._teams, strict=True):
            i = bisect.bisect_right(dates, day)
            if i:
                total += points[i - 1][1]
        return total
