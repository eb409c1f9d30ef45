"""Demo data: the three postmortems of the founding story (DESIGN.md), retold in our words.

The story gives months, rough durations and a few figures, never hours: every time here is
marked as an estimate, and nothing is added that the story does not say.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from models import (
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GrowthStage,
    GuardCheck,
    GuardKind,
    GuardRun,
    GuardStatus,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentStatus,
    LessonGroup,
    ReadingPath,
    Severity,
    Team,
)
from postmortems.db import session
from postmortems.guards.runs import record_run
from postmortems.guards.service import GuardValues, create_guard
from postmortems.incidents import history
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    PartValues,
    TimelineEventValues,
    save_part,
)
from postmortems.incidents.service import IncidentValues, create_incident
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.taxonomy.service import create_factor
from postmortems.teams import service as teams
from postmortems.timezones import local_date

TEAM = "ML"
HEADCOUNT = [(date(2020, 8, 1), 8), (date(2020, 12, 1), 12), (date(2022, 9, 1), 20)]
STAGES = [
    ("Founding", 0, 10, "A handful of people; everyone knows every system."),
    ("Scaling", 11, 20, "Several teams; contracts between them start to matter."),
    ("Growth", 21, None, "Many teams; process has to carry what memory used to."),
]
GUARDS = {
    "Full test pipeline on every merge": (
        GuardKind.CI_GATE,
        "ci/pipeline.yml: stage `full-tests`",
        "Every change runs every test, the hour-long metrics test included. An override "
        "needs a named critical fix and a second person.",
    ),
    "Predictions unchanged on the reference studies": (
        GuardKind.AUTOMATED_TEST,
        "tests/regression/test_reference_predictions.py",
        "Runs the model on a fixed set of studies and fails when any prediction changes "
        "beyond tolerance without an approved baseline update.",
    ),
    "Config keys mean one thing": (
        GuardKind.REVIEW_RULE,
        "docs/review-checklist.md#config",
        "A config key names one quantity in one place; reviewers reject keys reused for "
        "two purposes.",
    ),
    "Prediction distribution monitor": (
        GuardKind.MONITOR,
        "monitoring/alerts/prediction-drift.yaml",
        "Alerts when the share of positive predictions or the score distribution moves "
        "away from the last two weeks' range after a release.",
    ),
    "End-to-end test of the client response": (
        GuardKind.AUTOMATED_TEST,
        "tests/e2e/test_client_response.py",
        "Sends a study through the whole service and checks the probabilities the client "
        "receives: type, range and scale.",
    ),
    "Model output contract review": (
        GuardKind.REVIEW_RULE,
        "docs/contracts/model-output.md",
        "Any change to what the model returns is reviewed by the ML and backend teams "
        "against the written contract.",
    ),
    "Release checklist: validate on the client's data": (
        GuardKind.CHECKLIST_ITEM,
        "docs/release-checklist.md",
        "Before a release to a client, metrics are computed on a sample of that client's data.",
    ),
    "Runbook: internal and external metrics disagree": (
        GuardKind.RUNBOOK,
        "docs/runbooks/metric-divergence.md",
        "Reproduce the external evaluation step by step on our side before changing the model.",
    ),
}


# Runs of some demo guards, so that the guard pages show each state: (status, days ago), the
# newest last; relative to when the demo is loaded, so a demo left for a week goes stale.
GUARD_RUNS: dict[str, list[tuple[str, float]]] = {
    "Full test pipeline on every merge": [("pass", d + 0.2) for d in range(13, -1, -1)],
    "End-to-end test of the client response": [("pass", 15), ("pass", 8), ("pass", 1)],
    # Passed for a while, then started failing: a failing guard.
    "Predictions unchanged on the reference studies": [
        ("pass", 6),
        ("pass", 4),
        ("pass", 2),
        ("fail", 1),
        ("fail", 0.1),
    ],
    # Nobody has looked at it for three weeks: a stale guard.
    "Prediction distribution monitor": [("pass", 35), ("fail", 28), ("pass", 21)],
}
GUARD_RUN_URL = "https://ci.example.com/guards/{slug}/{number}"


def _t(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


INCIDENTS: list[dict[str, Any]] = [
    {
        "title": "Threshold change broke breast masks: three days of wrong predictions",
        "summary": "A tuning change to one threshold silently changed another; 1,500 images "
        "were processed wrongly.",
        "severity": Severity.SEV1,
        "affected_system": "Mammography inference pipeline",
        "environment": "production",
        "started_at": _t(2020, 8, 17, 9, 30),
        "started_is_estimated": True,
        "detected_at": _t(2020, 8, 20, 11, 0),
        "detected_is_estimated": True,
        "tags": ["config", "preprocessing", "release"],
        "what_happened_md": (
            "A change meant to tune the **pathology/normal decision threshold** also changed "
            "the threshold used to binarise the image and find the breast mask in "
            "preprocessing: both read the config key `bin_threshold`.\n\n"
            "The hour-long test pipeline, which holds the metrics test, was skipped with an "
            "override to ship the change faster. For about three days the service returned "
            "garbage predictions."
        ),
        "analysis_md": (
            "- One config key meant several things, so a change to one meaning changed the other.\n"
            "- The slow pipeline invited overrides; one was used for a non-critical change.\n"
            "- The decision to skip the tests was taken by an exhausted team."
        ),
        "detection_md": (
            "The engineer who made the change noticed the garbage predictions himself a few "
            "days later, while watching the production stream."
        ),
        "response_md": "The change was undone and the client was told at once.",
        "went_well_md": "Telling the client at once kept their trust.",
        "got_lucky_md": "All processed studies had already been paid for, so no money was lost.",
        "timeline": [
            (_t(2020, 8, 17, 9, 30), "Change to `bin_threshold` merged with the test override."),
            (
                _t(2020, 8, 20, 11, 0),
                "The engineer who made the change sees garbage predictions in the production "
                "stream.",
            ),
        ],
        "factors": [
            (
                "TECH_DEBT_CULTURE",
                "Tangled code and configs",
                True,
                "`bin_threshold` named two different thresholds.",
            ),
            (
                "PERSONAL",
                "Rules not followed",
                False,
                "The full test pipeline was skipped with an override for a non-critical change.",
            ),
            (
                "PERSONAL",
                "Fatigue",
                False,
                "The decision to skip the tests was taken by an exhausted team.",
            ),
            (
                "TECH_DEBT_CULTURE",
                "Missing tests",
                False,
                "No test checked that results stay unchanged for a fixed input.",
            ),
            (
                "TECH_DEBT_CULTURE",
                "No monitoring or alerts",
                False,
                "Nothing watched the predictions after the release.",
            ),
        ],
        "impacts": [
            (
                ImpactKind.ITEMS_PROCESSED_WRONGLY,
                "1500",
                "1500",
                "1500",
                None,
                "images",
                None,
                "As the story gives it.",
            ),
            (
                ImpactKind.TIME_UNDETECTED,
                "3",
                "3",
                "3",
                None,
                "days",
                None,
                "About three days, from the merge to the engineer noticing.",
            ),
            (
                ImpactKind.LOST_REVENUE,
                "0",
                "0",
                "0",
                "RUB",
                "",
                None,
                "All processed studies had been paid for.",
            ),
            (
                ImpactKind.REPUTATION,
                None,
                None,
                None,
                None,
                "",
                ImpactLevel.NONE,
                "Kept by telling the client at once.",
            ),
        ],
        "lessons": [
            (
                LessonGroup.TECHNICAL,
                "Run every test on every change; make slow tests fast instead of skipping them.",
            ),
            (LessonGroup.TECHNICAL, 'Keep a "result unchanged" test on a fixed set of studies.'),
            (LessonGroup.TECHNICAL, "Name config keys so that each means exactly one thing."),
            (
                LessonGroup.PROCESS_COMMUNICATION,
                "Override tests only for critical fixes; the "
                "rules bind everyone, founders included.",
            ),
            (
                LessonGroup.PROCESS_COMMUNICATION,
                "After a release, watch closely with a tool built for it.",
            ),
            (LessonGroup.PERSONAL, "No big decisions when exhausted."),
        ],
        "actions": [
            (
                "Require the full test pipeline before merge",
                LessonGroup.PROCESS_COMMUNICATION,
                ActionType.PREVENTIVE,
                ["Full test pipeline on every merge"],
            ),
            (
                "Add a regression test on reference studies",
                LessonGroup.TECHNICAL,
                ActionType.PREVENTIVE,
                ["Predictions unchanged on the reference studies"],
            ),
            (
                "Split `bin_threshold` into two named keys",
                LessonGroup.TECHNICAL,
                ActionType.CORRECTIVE,
                ["Config keys mean one thing"],
            ),
            (
                "Alert on prediction drift after releases",
                LessonGroup.TECHNICAL,
                ActionType.DETECTIVE,
                ["Prediction distribution monitor"],
            ),
        ],
    },
    {
        "title": "Probabilities rounded to integers: external ROC-AUC 0.53",
        "summary": "The backend rounded a 0–1 probability onto a 1–100 scale, so almost every "
        "answer became 1.",
        "severity": Severity.SEV2,
        "affected_system": "Backend API: model response",
        "environment": "pre-release",
        "started_at": _t(2020, 12, 1, 10, 0),
        "started_is_estimated": True,
        "detected_at": _t(2020, 12, 8, 15, 0),
        "detected_is_estimated": True,
        "is_near_miss": False,
        "tags": ["contract", "backend", "calibration"],
        "what_happened_md": (
            "The model returns a probability as a float between 0 and 1. The backend converted "
            "it to an integer on a 1–100 scale by rounding the float first, so almost every "
            "answer became 1.\n\n"
            "Our calibration on 100 external studies (50 with pathology) gave a ROC-AUC of "
            "**0.53**, against more than 0.9 in our internal validation."
        ),
        "analysis_md": (
            "| side | believed the value was |\n|---|---|\n| ML | a probability in 0–1 |\n"
            "| backend | a percentage in 1–100 |\n\nNo written contract said which."
        ),
        "detection_md": (
            "Our own calibration on 100 external studies, before the release, caught it; the "
            "client never received the wrong numbers."
        ),
        "response_md": "The conversion was fixed and the release went out two weeks late.",
        "went_well_md": "The calibration step before release caught it.",
        "got_lucky_md": "The client had not used the service yet, so no reputational loss.",
        "timeline": [
            (_t(2020, 12, 8, 15, 0), "Our calibration on 100 external studies: ROC-AUC 0.53."),
        ],
        "factors": [
            (
                "PROCESS_COMMUNICATION",
                "Misunderstanding between teams",
                True,
                "ML and backend read the same number on different scales.",
            ),
            (
                "TECH_DEBT_CULTURE",
                "Missing tests",
                False,
                "No end-to-end test checked what the client receives.",
            ),
            (
                "TECH_DEBT_CULTURE",
                "Poor or outdated test datasets",
                False,
                "We had not tested on the client's data before release.",
            ),
        ],
        "impacts": [
            (
                ImpactKind.LOST_REVENUE,
                None,
                "400000",
                None,
                "RUB",
                "",
                None,
                "About 400,000 RUB of lost profit from the late release, as the story gives it.",
            ),
            (
                ImpactKind.RELEASE_DELAY,
                "14",
                "14",
                "14",
                None,
                "days",
                None,
                "Two weeks late, as the story gives it.",
            ),
            (
                ImpactKind.REPUTATION,
                None,
                None,
                None,
                None,
                "",
                ImpactLevel.NONE,
                "Found in testing.",
            ),
        ],
        "lessons": [
            (LessonGroup.TECHNICAL, "Test end to end what the client actually receives."),
            (
                LessonGroup.PROCESS_COMMUNICATION,
                "Keep a clear, written contract between the ML "
                "and backend teams: type, range and scale of every value.",
            ),
            (LessonGroup.PROCESS_COMMUNICATION, "Test on the client's data before release."),
            (
                LessonGroup.PERSONAL,
                "A growing company adds failure points between teams: look beyond your own area.",
            ),
        ],
        "actions": [
            (
                "End-to-end test of the probabilities the client receives",
                LessonGroup.TECHNICAL,
                ActionType.PREVENTIVE,
                ["End-to-end test of the client response"],
            ),
            (
                "Write the model output contract",
                LessonGroup.PROCESS_COMMUNICATION,
                ActionType.PREVENTIVE,
                ["Model output contract review"],
            ),
            (
                "Add client-data validation to the release checklist",
                LessonGroup.PROCESS_COMMUNICATION,
                ActionType.PREVENTIVE,
                ["Release checklist: validate on the client's data"],
            ),
        ],
    },
    {
        "title": "External evaluator scored every pathology with the overall maximum",
        "summary": "Six of eight pathologies showed ROC-AUC ≈ 0.5 because the overall score "
        "was used in place of each pathology's own.",
        "severity": Severity.SEV2,
        "affected_system": "External evaluation of the chest X-ray service",
        "environment": "client evaluation",
        "started_at": _t(2022, 9, 5, 9, 0),
        "started_is_estimated": True,
        "detected_at": _t(2022, 9, 19, 12, 0),
        "detected_is_estimated": True,
        "resolved_at": _t(2023, 3, 1, 12, 0),
        "resolved_is_estimated": True,
        "tags": ["evaluation", "external", "metrics"],
        "what_happened_md": (
            "Our service returned eight per-pathology probabilities and an overall one, their "
            "maximum. The external evaluator scored every pathology with the overall maximum, "
            "so six of the eight pathologies showed a ROC-AUC of about 0.5."
        ),
        "analysis_md": (
            "An aggregate was used in place of per-category figures. The fault sat outside "
            "the company, but our output format made the mistake easy."
        ),
        "detection_md": (
            "The external report disagreed wildly with our internal validation. The cause was "
            "found only months later, when we reproduced the external evaluation step by step."
        ),
        "response_md": (
            "We searched for an error on our side, asked the evaluation's organisers and "
            "re-labelled data, and found nothing. We then went into months of model "
            "improvement. Only months later did we reproduce the external evaluation and see "
            "that every pathology had been scored with the overall maximum."
        ),
        "went_well_md": "Reproducing the external evaluation step by step found the cause.",
        "got_lucky_md": "",
        "timeline": [
            (_t(2022, 9, 19, 12, 0), "External report: six pathologies near ROC-AUC 0.5."),
            (
                _t(2022, 10, 3, 12, 0),
                "No error found on our side, none known to the organisers; relabelling changes "
                "nothing. Months of model improvement begin.",
            ),
            (
                _t(2023, 3, 1, 12, 0),
                "External evaluation reproduced: the overall maximum was used for every pathology.",
            ),
        ],
        "factors": [
            (
                "PROCESS_COMMUNICATION",
                "Misunderstanding between teams",
                True,
                "The evaluator read the overall score as every pathology's score.",
            ),
            (
                "CHANCE",
                "Everything lined up against us",
                False,
                "The mistake sat in another organisation's pipeline.",
            ),
        ],
        "impacts": [
            (
                ImpactKind.LOST_REVENUE,
                "6",
                "6",
                "6",
                None,
                "months of profit",
                None,
                "Half a year of lost profit, as the story gives it (no amount in money).",
            ),
            (
                ImpactKind.REPUTATION,
                None,
                None,
                None,
                None,
                "",
                ImpactLevel.MODERATE,
                "Illustrative estimate: the story names no reputational harm.",
            ),
        ],
        "lessons": [
            (LessonGroup.PROCESS_COMMUNICATION, "The fault can sit outside the company."),
            (
                LessonGroup.TECHNICAL,
                "When internal and external metrics diverge wildly, trust a "
                "sound internal validation and find out why.",
            ),
            (LessonGroup.PERSONAL, "Trust your team."),
        ],
        "actions": [
            (
                "Runbook for diverging internal and external metrics",
                LessonGroup.PROCESS_COMMUNICATION,
                ActionType.DETECTIVE,
                ["Runbook: internal and external metrics disagree"],
            ),
            (
                "Document the per-pathology output for evaluators",
                LessonGroup.PROCESS_COMMUNICATION,
                ActionType.CORRECTIVE,
                ["Model output contract review"],
            ),
        ],
    },
]


def load_demo_data() -> int:
    """Add whatever part of the demo data is missing; return how many postmortems were added.

    Everything goes through the same services as the forms, so the demo obeys every rule.
    """
    team = session.scalar(select(Team).where(Team.name == TEAM)) or teams.create_team(
        name=TEAM, description="Machine learning."
    )
    known_dates = {s.on_date for s in team.snapshots}
    for on_date, headcount in HEADCOUNT:
        if on_date not in known_dates:
            teams.add_snapshot(team, on_date=on_date, headcount=headcount)
    known_stages = set(session.scalars(select(GrowthStage.name)))
    for name, low, high, description in STAGES:
        if name not in known_stages:
            teams.create_stage(teams.StageValues(name, low, high, description))
    guards = {guard.name: guard.id for guard in session.scalars(select(GuardCheck))}
    for name, (kind, location, text) in GUARDS.items():
        if name not in guards:
            guard = create_guard(
                GuardValues(name, kind, location, text, owner=TEAM, status=GuardStatus.ACTIVE)
            )
            guards[name] = guard.id
    _add_guard_runs(guards)
    existing = set(session.scalars(select(Incident.title)))
    added = 0
    for data in INCIDENTS:
        if data["title"] not in existing:
            _add_incident(dict(data), team, guards)
            added += 1
    _add_reading_path()
    return added


PATH_TITLE = "Start here: the founding story"
PATH_DESCRIPTION = (
    "The three postmortems that shaped how we work, and why this product exists. Each is "
    "about a number that was silently wrong. Read them in order in your first week."
)
# The founding incidents by title, each with why a newcomer should read it.
PATH_NOTES = [
    (
        INCIDENTS[0]["title"],
        "Why we run every test on every change: one config key meant two things, and the "
        "hour-long test pipeline was skipped by an override. Read how the engineer who made "
        "the change noticed it himself, and why we told the client at once.",
    ),
    (
        INCIDENTS[1]["title"],
        "A probability rounded to an integer between two teams. Our own calibration caught it "
        "before release. Read it for why the ML and backend teams keep a written contract and "
        "test end to end what the client receives.",
    ),
    (
        INCIDENTS[2]["title"],
        "The fault sat outside the company, and it took months to see it. Read it for why we "
        "trust a sound internal validation when internal and external metrics diverge, and "
        "reproduce an external evaluation before changing the model.",
    ),
]


def _add_reading_path() -> None:
    """The onboarding path over the founding incidents, unless a path of that title exists."""
    if session.scalar(select(ReadingPath.id).where(ReadingPath.title == PATH_TITLE)):
        return
    path = create_path(PathValues(PATH_TITLE, PATH_DESCRIPTION, for_new_users=True), by=None)
    for title, note in PATH_NOTES:
        key = session.scalar(select(Incident.key).where(Incident.title == title))
        if key is not None:  # someone may have deleted a demo postmortem
            add_item(path, key, note, curator=None)


def _add_incident(data: dict[str, Any], team: Team, guards: dict[str, int]) -> Incident:
    timeline = data.pop("timeline")
    factors = data.pop("factors")
    impacts = data.pop("impacts")
    lessons = data.pop("lessons")
    actions = data.pop("actions")
    values = IncidentValues(team_id=team.id, tags=tuple(data.pop("tags")), **data)
    incident = create_incident(values, author=None, status=IncidentStatus.PUBLISHED, record=False)
    part_values: list[PartValues] = [TimelineEventValues(at, text) for at, text in timeline]
    part_values += [
        FactorValues(factor_id=_factor_id(category, name), note=note, is_primary=primary)
        for category, name, primary, note in factors
    ]
    part_values += [
        ImpactValues(
            kind=kind,
            low=_dec(low),
            likely=_dec(likely),
            high=_dec(high),
            currency=currency or "",
            unit=unit,
            level=level,
            method_note=note,
            estimated_by="Head of ML",
        )
        for kind, low, likely, high, currency, unit, level, note in impacts
    ]
    part_values += [LessonValues(group, text) for group, text in lessons]
    part_values += [
        ActionItemValues(
            title=title,
            group=group,
            type=action_type,
            owner="ML team lead",
            status=ActionStatus.DONE,
            completed_on=local_date(incident.resolved_at or incident.started_at),
            guard_ids=tuple(guards[name] for name in guard_names),
        )
        for title, group, action_type, guard_names in actions
    ]
    for values_of_part in part_values:
        save_part(incident, values_of_part, record=False)
    history.record_change(incident, "loaded as demo data")
    return incident


def _add_guard_runs(guards: dict[str, int]) -> None:
    """Runs for the demo guards that have none yet, through the same service as the CLI."""
    with_runs = set(session.scalars(select(GuardRun.guard_check_id).distinct()))
    now = datetime.now(UTC)
    for name, runs in GUARD_RUNS.items():
        guard_id = guards[name]
        if guard_id in with_runs:
            continue
        slug = name.lower().split(":")[0].replace(" ", "-")[:40]
        for number, (status, days_ago) in enumerate(runs, start=1):
            record_run(
                guard_id,
                status=status,
                ran_at=now - timedelta(days=days_ago),
                url=GUARD_RUN_URL.format(slug=slug, number=number),
                details="Demo run." if status == "pass" else "Demo run: failed.",
                reporter=None,
                now=now,
            )


def _factor_id(category: str, name: str) -> int:
    factor = session.scalar(
        select(ContributingFactor).where(
            ContributingFactor.category == CauseCategory[category], ContributingFactor.name == name
        )
    )
    if factor is None:  # the seed migration was changed or a factor renamed
        factor = create_factor(category=CauseCategory[category], name=name)
    return factor.id


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
