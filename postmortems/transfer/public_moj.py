"""Reading the ministryofjustice/cloud-platform incident log (`source/incidents/*.html.md.erb`):
bullets of key events in London time and labelled blocks, into an ExternalRecord."""

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from postmortems.transfer.files import ImportProblem, Record, load_yaml, split_front_matter
from postmortems.transfer.public_record import ExternalRecord, shown

LONDON = ZoneInfo("Europe/London")
MOJ_ORGANISATION = "UK Ministry of Justice"
MOJ_URL = "https://github.com/ministryofjustice/cloud-platform/blob/main/source/incidents/{}"


MOJ_LABELS = {
    "key events",
    "time to repair",
    "time to resolve",
    "identified",
    "impact",
    "context",
    "resolution",
    "review actions",
    "actions following review",
    "background",
    "status",
    "context/resolution/review actions",
}
BLOCK = re.compile(r"^ {0,2}- \*\*(?P<label>[^*]+?)\*\*:?[ \t]*(?P<rest>.*)$")
EVENT = re.compile(
    r"^- (?P<label>.+?):?\s+(?P<day>\d{4}-\d{2}-\d{2})(?:[ T]+(?P<h>\d{1,2})[:.](?P<m>\d{2}))?"
    r"(?P<after>.*)$"
)
STARTS = ("fault occurs", "first detected", "fault detected", "team aware", "incident declared")
DETECTS = ("first detected", "fault detected", "team aware", "incident declared")


def read_moj(name: str, text: str) -> ExternalRecord:
    front, body, body_line = _moj_front_matter(text)
    external_id = name.removesuffix(".html.md.erb").removesuffix(".md")
    title = str(front.get("title") or external_id)
    blocks: dict[str, str] = {}
    order: list[str] = []
    extra: list[str] = []
    label: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        heading = re.match(r"^# (.+)$", line)
        block = BLOCK.match(line)
        if heading and label is None and not extra:
            title = heading.group(1).strip()
        elif block and block.group("label").strip().lower() in MOJ_LABELS and not extra:
            if label is not None:
                blocks[label] = "\n".join(lines).strip("\n")
            label = block.group("label").strip().lower()
            if label in blocks:
                raise ImportProblem(f"'{block.group('label')}' appears twice", body_line)
            order.append(label)
            lines = [block.group("rest")] if block.group("rest") else []
        elif line.startswith("#") or extra:
            extra.append(line)  # headings after the bullets: kept as written
        elif label is not None:
            lines.append(line[2:] if line.startswith("  ") else line)
        elif line.strip():
            extra.append(line)
    if label is not None:
        blocks[label] = "\n".join(lines).strip("\n")
    if "key events" not in blocks:
        raise ImportProblem("no 'Key events' list: not an incident of this log", body_line)
    events = _key_events(blocks["key events"])
    details: list[str] = []
    times = _moj_times(events, blocks.get("status", ""), details)
    if "started" not in times:
        details.append("- Start time: no key event states a date; none is made up")
    impact = blocks.get("impact", "")
    what_happened = []
    for key, caption in (
        ("background", "Background"),
        ("impact", "Impact"),
        ("context", "Context"),
        ("context/resolution/review actions", "Context, resolution and review actions"),
    ):
        if blocks.get(key):
            what_happened.append(f"**{caption}**\n\n{blocks[key]}")
    if extra:
        what_happened.append("\n".join(extra).strip())
    for key, label_text in (
        ("time to repair", "Time to repair"),
        ("time to resolve", "Time to resolve"),
        ("status", "Status"),
    ):
        if blocks.get(key):
            details.append(f"- {label_text} (as the source states it): {blocks[key]}")
    details.append("- Key events as the source states them (London time):")
    details += [f"  - {event}" for _, event in events]
    details.append(
        "- Review actions: the source states no owner, group, type or status; they are "
        "listed as open preventive technical items"
    )
    details.append("- From the ministryofjustice/cloud-platform incident log (MIT)")
    actions_text = blocks.get("review actions") or blocks.get("actions following review", "")
    return ExternalRecord(
        collection="moj",
        external_id=external_id,
        organisation=MOJ_ORGANISATION,
        url=MOJ_URL.format(name),
        title=title,
        started_at=times.get("started", (None, False))[0],
        started_is_estimated=times.get("started", (None, False))[1],
        detected_at=times.get("detected", (None, False))[0],
        mitigated_at=times.get("mitigated", (None, False))[0],
        resolved_at=times.get("resolved", (None, False))[0],
        summary=impact.split("\n")[0] if impact else blocks.get("identified", ""),
        affected_system="Cloud Platform",
        what_happened=what_happened,
        detection=blocks.get("identified", ""),
        response=blocks.get("resolution", ""),
        details=details,
        timeline=[(at, text) for at, text in events if at is not None],
        actions=_bullets(actions_text),
    )


def _moj_front_matter(text: str) -> tuple[Record, str, int]:
    if text.startswith("---"):
        return split_front_matter(text)
    data = load_yaml("{}")
    return data, text, 1


def _key_events(block: str) -> list[tuple[datetime | None, str]]:
    """(instant in UTC, or None when the line gives no date; the line as written)."""
    events: list[tuple[datetime | None, str]] = []
    for line in block.splitlines():
        if not line.startswith("- "):
            continue
        match = EVENT.match(line)
        text = line[2:].strip()
        if match is None:
            events.append((None, text))
            continue
        try:
            local_day = date.fromisoformat(match.group("day"))
            at = time(int(match.group("h")), int(match.group("m"))) if match.group("h") else time()
        except ValueError:
            raise ImportProblem(f"key event '{text}': impossible date or time") from None
        instant = datetime.combine(local_day, at, LONDON).astimezone(UTC)
        events.append((instant, text))
    return events


def _moj_times(
    events: list[tuple[datetime | None, str]], status: str, details: list[str]
) -> dict[str, tuple[datetime, bool]]:
    """The incident's times from its key events: the first event of each kind; a time
    without an hour, or a start taken from detection or declaration, is an estimate. Times
    out of order (a typo in the source) stay in the timeline only, and the details say so."""
    found: dict[str, tuple[datetime, bool]] = {}

    def first(kinds: tuple[str, ...]) -> tuple[datetime, bool, str] | None:
        for kind in kinds:
            for at, text in events:
                if at is not None and text.lower().startswith(kind):
                    return at, not re.search(r"\d[:.]\d\d", text), kind
        return None

    start = first(STARTS)
    if start is not None:
        found["started"] = (start[0], start[1] or start[2] != "fault occurs")
    for name, kinds in (
        ("detected", DETECTS),
        ("mitigated", ("repaired",)),
        ("resolved", ("resolved",)),
    ):
        hit = first(kinds)
        if hit is not None:
            found[name] = (hit[0], hit[1])
    status_match = re.search(r"(\d{4}-\d{2}-\d{2}) (\d{1,2}):(\d{2}) UTC", status)
    if "resolved" not in found and status_match:
        day, hour, minute = status_match.groups()
        try:
            resolved = datetime.combine(date.fromisoformat(day), time(int(hour), int(minute)), UTC)
        except ValueError:
            raise ImportProblem(f"status: no such date or time {status_match.group(0)!r}") from None
        found["resolved"] = (resolved, False)
    previous: datetime | None = None
    for name in ("started", "detected", "mitigated", "resolved"):
        if name not in found:
            continue
        at = found[name][0]
        if previous is not None and at < previous:
            details.append(
                f"- {name.capitalize()} {shown(at)} is before an earlier step as the source "
                "gives it (a typo there?): kept in the timeline only"
            )
            del found[name]
            continue
        previous = at
    return found


def _bullets(block: str) -> list[str]:
    """Top-level bullets of a block, each with its continuation lines."""
    items: list[list[str]] = []
    for line in block.splitlines():
        if line.startswith("- "):
            items.append([line[2:].strip()])
        elif items and line.strip():
            items[-1].append(line.strip())
        elif line.strip():
            items.append([line.strip()])
    return ["\n".join(item) for item in items if item[0]]
