"""Reading icco/postmortems (github.com/icco/postmortems, `data/*.md`): YAML front matter and a
Markdown description, into an ExternalRecord."""

import re
from datetime import UTC, date, datetime, time
from typing import Any

from models.base import in_reference_range
from postmortems.transfer.files import ImportProblem, Record, split_front_matter
from postmortems.transfer.public_record import SUMMARY_LIMIT, URL, ExternalRecord, cut, shown

# The front matter's fields, each read into a field or a detail line.
ICCO_FIELDS = {
    "uuid",
    "url",
    "title",
    "start_time",
    "end_time",
    "categories",
    "keywords",
    "company",
    "product",
    "summary",
    "source_published_at",
    "source_fetched_at",
    "archive_url",
}


def read_icco(name: str, text: str) -> ExternalRecord:
    fields, body, _ = split_front_matter(text)
    unknown = sorted(set(fields) - ICCO_FIELDS, key=str)
    if unknown:
        raise ImportProblem(f"unknown field {unknown[0]!r}", fields.key_lines.get(str(unknown[0])))
    uuid = _text(fields, "uuid") or name.removesuffix(".md")
    urls = URL.findall(_text(fields, "url"))
    company = _text(fields, "company")
    summary = _text(fields, "summary").strip()
    body = body.strip()
    details: list[str] = []
    start = _instant(fields, "start_time")
    end = _instant(fields, "end_time")
    published = _instant(fields, "source_published_at")
    fetched = _instant(fields, "source_fetched_at")
    archive = _text(fields, "archive_url")
    started_at, estimated = _icco_start(start, published, end, details)
    resolved_at = None
    if end is not None:
        if (
            in_reference_range(end)
            and started_at is not None
            and end >= started_at
            and not estimated
        ):
            resolved_at = end
        else:
            details.append(f"- End time as the source states it: {shown(end)}")
    title = _text(fields, "title") or _first_sentence(summary or body) or f"{company} incident"
    if not _text(fields, "title"):
        details.append("- Title: the source gives none; this one is its summary's first words")
    if len(urls) > 1:
        details.append("- Further links: " + ", ".join(f"<{u}>" for u in urls[1:]))
    if company:
        details.append(f"- Organisation: {company}")
    for label, key in (("Product", "product"), ("Categories", "categories")):
        if fields.get(key):
            details.append(f"- {label}: {_listed(fields[key])}")
    if fields.get("keywords"):
        keywords = _listed(fields["keywords"])
        details.append(f"- Keywords (machine-extracted by the source): {keywords}")
    if published is not None:
        details.append(f"- Published: {shown(published)}")
    if fetched is not None:
        details.append(f"- Fetched by the collection: {shown(fetched)}")
    if archive:
        details.append(f"- Archived copy: <{archive}>")
    details.append(f"- From the icco/postmortems collection (GPL-3.0), record {uuid}")
    what_happened = [body] if body else []
    if summary and (not body or len(" ".join(summary.split())) > SUMMARY_LIMIT):
        what_happened.insert(0, summary)  # the whole summary, where the field cuts it short
    return ExternalRecord(
        collection="icco",
        external_id=uuid,
        organisation=company,
        url=urls[0] if urls else "",
        title=title,
        started_at=started_at,
        started_is_estimated=estimated,
        resolved_at=resolved_at,
        summary=summary or _first_sentence(body),
        affected_system=_text(fields, "product"),
        what_happened=what_happened,
        tags=_as_list(fields.get("categories")),
        details=details,
    )


def _icco_start(
    start: datetime | None, published: datetime | None, end: datetime | None, details: list[str]
) -> tuple[datetime | None, bool]:
    """The start, or the best date the source states, marked as an estimate; None (start
    unknown) when it states none."""
    if start is not None and in_reference_range(start):
        return start, False
    if start is not None:
        details.append(
            f"- Start time as the source states it: {shown(start)}, outside the years this "
            "tracker stores (1000–2100)"
        )
    for label, value in (("publication date", published), ("end time", end)):
        if value is not None and in_reference_range(value):
            details.append(
                f"- Start time: {'not stated' if start is None else 'not storable'}; the "
                f"date shown is the source's {label}, an estimate"
            )
            return value, True
    details.append("- Start time: the source states no date for the incident; none is made up")
    return None, False


def _text(fields: Record, key: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise ImportProblem(f"{key}: expected text", fields.key_lines.get(key))
    return str(value)


def _instant(fields: Record, key: str) -> datetime | None:
    value = fields.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ImportProblem(
            f"{key}: {value!r} is not a date and time", fields.key_lines.get(key)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _listed(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return cut(match.group(1) if match else text, 120)
