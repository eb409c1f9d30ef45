"""The fixed vocabularies of a postmortem: severities, review statuses, kinds and levels of
impact, lesson groups, action item types and statuses, and the steps of a review. Stored by
name (members have name == value); labels are what pages show."""

import enum

from models.base import LabelledEnum


class Severity(LabelledEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    _labels = enum.nonmember(
        {
            "SEV1": "SEV1 — critical",
            "SEV2": "SEV2 — major",
            "SEV3": "SEV3 — moderate",
            "SEV4": "SEV4 — minor",
        }
    )
    _descriptions = enum.nonmember(
        {
            "SEV1": "Wrong results or an outage reaching clients, patients or money; all hands.",
            "SEV2": "Serious harm to part of the clients, or a release blocked; a team drops work.",
            "SEV3": "Limited harm with a workaround; handled in normal working hours.",
            "SEV4": "Minor or internal harm, or caught just in time.",
        }
    )

    @property
    def description(self) -> str:
        return self._descriptions[self.name]


class IncidentStatus(LabelledEnum):
    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"

    _labels = enum.nonmember(
        {
            "DRAFT": "Draft",
            "IN_REVIEW": "In review",
            "PUBLISHED": "Published",
            "ARCHIVED": "Archived",
        }
    )


class ImpactKind(LabelledEnum):
    LOST_REVENUE = "LOST_REVENUE"
    DIRECT_COST = "DIRECT_COST"
    ITEMS_PROCESSED_WRONGLY = "ITEMS_PROCESSED_WRONGLY"
    CUSTOMERS_AFFECTED = "CUSTOMERS_AFFECTED"
    TIME_UNDETECTED = "TIME_UNDETECTED"
    DOWNTIME = "DOWNTIME"
    RELEASE_DELAY = "RELEASE_DELAY"
    ENGINEERING_EFFORT = "ENGINEERING_EFFORT"
    REPUTATION = "REPUTATION"
    LEGAL = "LEGAL"
    HEALTH_SAFETY = "HEALTH_SAFETY"

    _labels = enum.nonmember(
        {
            "LOST_REVENUE": "Lost revenue",
            "DIRECT_COST": "Direct cost",
            "ITEMS_PROCESSED_WRONGLY": "Items processed wrongly",
            "CUSTOMERS_AFFECTED": "Customers affected",
            "TIME_UNDETECTED": "Time undetected",
            "DOWNTIME": "Downtime",
            "RELEASE_DELAY": "Release delay",
            "ENGINEERING_EFFORT": "Engineering effort",
            "REPUTATION": "Reputation",
            "LEGAL": "Legal",
            "HEALTH_SAFETY": "Health and safety",
        }
    )

    @property
    def is_money(self) -> bool:
        return self in (ImpactKind.LOST_REVENUE, ImpactKind.DIRECT_COST)

    @property
    def is_qualitative(self) -> bool:
        return self in (ImpactKind.REPUTATION, ImpactKind.LEGAL, ImpactKind.HEALTH_SAFETY)


class ImpactLevel(LabelledEnum):
    """An ordinal level for the qualitative kinds; members are in increasing order."""

    NONE = "NONE"
    MINOR = "MINOR"
    MODERATE = "MODERATE"
    MAJOR = "MAJOR"
    SEVERE = "SEVERE"


class LessonGroup(LabelledEnum):
    TECHNICAL = "TECHNICAL"
    PROCESS_COMMUNICATION = "PROCESS_COMMUNICATION"
    PERSONAL = "PERSONAL"

    _labels = enum.nonmember(
        {
            "TECHNICAL": "Technical",
            "PROCESS_COMMUNICATION": "Process and communication",
            "PERSONAL": "Personal",
        }
    )


class ActionType(LabelledEnum):
    PREVENTIVE = "PREVENTIVE"
    DETECTIVE = "DETECTIVE"
    CORRECTIVE = "CORRECTIVE"


class ActionStatus(LabelledEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    WONT_DO = "WONT_DO"

    _labels = enum.nonmember(
        {"OPEN": "Open", "IN_PROGRESS": "In progress", "DONE": "Done", "WONT_DO": "Won't do"}
    )


class ReviewAction(LabelledEnum):
    SUBMITTED = "SUBMITTED"
    SENT_BACK = "SENT_BACK"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"
    COMMENTED = "COMMENTED"

    _labels = enum.nonmember(
        {
            "SUBMITTED": "Submitted for review",
            "SENT_BACK": "Sent back",
            "PUBLISHED": "Published",
            "ARCHIVED": "Archived",
            "COMMENTED": "Commented",
        }
    )
