"""One record of a public postmortem collection (icco, moj), read into the values of an
external reference postmortem and its parts, whichever collection it came from."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models import ActionStatus, ActionType, LessonGroup, Severity
from postmortems.incidents.parts import ActionItemValues, PartValues, TimelineEventValues
from postmortems.incidents.service import IncidentValues

URL = re.compile(r"https?://[^\s)\]>\"']+")
TITLE_LIMIT, SUMMARY_LIMIT = 200, 300


@dataclass
class ExternalRecord:
    """One source file read into the values of an incident and its parts."""

    collection: str
    external_id: str
    organisation: str
    url: str
    title: str
    started_at: datetime | None  # None: the source states no date at all
    started_is_estimated: bool = False
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    affected_system: str = ""
    what_happened: list[str] = field(default_factory=list)
    detection: str = ""
    response: str = ""
    tags: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # lines of the "Source details" part
    timeline: list[tuple[datetime, str]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def values(self) -> IncidentValues:
        sections = [part for part in self.what_happened if part.strip()]
        if self.details:
            sections.append("### Source details\n\n" + "\n".join(self.details))
        return IncidentValues(
            title=cut(self.title, TITLE_LIMIT),
            summary=cut(self.summary, SUMMARY_LIMIT),
            severity=Severity.SEV3,  # the sources grade none; external references never count
            affected_system=cut(self.affected_system, 200),
            started_at=self.started_at,
            started_is_estimated=self.started_is_estimated,
            detected_at=self.detected_at,
            mitigated_at=self.mitigated_at,
            resolved_at=self.resolved_at,
            what_happened_md="\n\n".join(sections),
            detection_md=self.detection,
            response_md=self.response,
            tags=tuple(sorted({cut(t, 60).lower() for t in self.tags if t.strip()})),
        )

    def parts(self) -> list[PartValues]:
        parts: list[PartValues] = [TimelineEventValues(at, text) for at, text in self.timeline]
        for text in self.actions:
            title = cut(text.splitlines()[0], TITLE_LIMIT)
            parts.append(
                ActionItemValues(
                    title=title,
                    details_md=text if title != text else "",
                    # The source states none of these; they say "not stated" as best they can.
                    group=LessonGroup.TECHNICAL,
                    type=ActionType.PREVENTIVE,
                    status=ActionStatus.OPEN,
                )
            )
        return parts


def cut(text: str, limit: int) -> str:
    """The text on one line, cut to `limit` with an ellipsis where it is longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def shown(value: datetime) -> str:
    """An instant as a detail line shows it, in UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
