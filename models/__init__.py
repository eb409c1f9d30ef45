"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.api_token import ApiToken
from models.audit import AuditEvent
from models.base import Base, utcnow
from models.data_version import DataVersion, FigurePiece, FigureVersion
from models.guard import EscapedGuard, GuardCheck, GuardKind, GuardRun, GuardStatus, RunStatus
from models.incident import (
    ActionItem,
    ImpactEstimate,
    Incident,
    IncidentFactor,
    IncidentKeyCounter,
    IncidentRevision,
    Lesson,
    ReviewComment,
    Tag,
    TimelineEvent,
)
from models.incident_terms import (
    ActionStatus,
    ActionType,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    ReviewAction,
    Severity,
)
from models.reading_path import ReadingPath, ReadingPathItem, ReadingProgress
from models.report import FrozenReport
from models.search import SearchDocument
from models.taxonomy import CauseCategory, ContributingFactor
from models.team import GrowthStage, HeadcountSnapshot, Team
from models.user import ApiRequestCount, Role, SignInFailure, User, UserSession

__all__ = [
    "ActionItem",
    "ActionStatus",
    "ActionType",
    "ApiRequestCount",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CauseCategory",
    "ContributingFactor",
    "DataVersion",
    "FigurePiece",
    "FigureVersion",
    "EscapedGuard",
    "FrozenReport",
    "GrowthStage",
    "GuardCheck",
    "GuardKind",
    "GuardRun",
    "GuardStatus",
    "HeadcountSnapshot",
    "ImpactEstimate",
    "ImpactKind",
    "ImpactLevel",
    "Incident",
    "IncidentFactor",
    "IncidentKeyCounter",
    "IncidentRevision",
    "IncidentStatus",
    "Lesson",
    "LessonGroup",
    "ReadingPath",
    "ReadingPathItem",
    "ReadingProgress",
    "ReviewAction",
    "ReviewComment",
    "Role",
    "RunStatus",
    "SearchDocument",
    "Severity",
    "SignInFailure",
    "Tag",
    "Team",
    "TimelineEvent",
    "User",
    "UserSession",
    "utcnow",
]
