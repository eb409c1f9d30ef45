"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, utcnow
from models.guard import GuardCheck, GuardKind, GuardStatus
from models.incident import (
    ActionItem,
    ActionStatus,
    ActionType,
    ImpactEstimate,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Lesson,
    LessonGroup,
    Severity,
    Tag,
    TimelineEvent,
)
from models.taxonomy import CauseCategory, ContributingFactor
from models.team import GrowthStage, HeadcountSnapshot, Team

__all__ = [
    "ActionItem",
    "ActionStatus",
    "ActionType",
    "Base",
    "CauseCategory",
    "ContributingFactor",
    "GrowthStage",
    "GuardCheck",
    "GuardKind",
    "GuardStatus",
    "HeadcountSnapshot",
    "ImpactEstimate",
    "ImpactKind",
    "ImpactLevel",
    "Incident",
    "IncidentFactor",
    "IncidentStatus",
    "Lesson",
    "LessonGroup",
    "Severity",
    "Tag",
    "Team",
    "TimelineEvent",
    "utcnow",
]
