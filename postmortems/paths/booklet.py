"""A reading path as one booklet: a table of contents, then each postmortem's article in path
order with the curator's note. HTML (standalone, its stylesheet inline), Markdown and PDF.

The caller passes the reader and the items they may see (`service.visible_items`): a booklet
holds nothing its reader could not open on the site, nor names a postmortem they may not see.
"""

import base64
import functools
import hashlib
import re
import unicodedata
from datetime import datetime
from pathlib import Path

from flask import current_app, render_template
from markupsafe import Markup, escape

from models import (
    CauseCategory,
    Incident,
    LessonGroup,
    ReadingPath,
    ReadingPathItem,
    User,
    utcnow,
)
from models.incident import SECTIONS
from postmortems.auth.access import may_see
from postmortems.cache import cached
from postmortems.filters import (
    format_amount,
    format_date,
    format_datetime,
    format_duration,
    format_start,
)
from postmortems.incidents.article import render_article
from postmortems.incidents.service import load_incident_page
from postmortems.pdf import html_to_pdf

STYLESHEET = "booklet.css"  # under static/


def file_name(path: ReadingPath, kind: str) -> str:
    """`reading-path-3-start-here.pdf`: the id, then the title in ASCII letters if it has any."""
    ascii_title = unicodedata.normalize("NFKD", path.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return f"reading-path-{path.id}{'-' + slug if slug else ''}.{kind}"


def article(incident_id: int, viewer: User) -> Markup:
    """The postmortem's article as its page shows it to `viewer` when they may not change it,
    kept per reader until the data changes."""
    return cached(
        ("booklet_article", incident_id),
        lambda: render_article(incident_id, viewer=viewer, editable=False, deletable=False),
        viewer=viewer,
    )


def _stylesheet() -> tuple[str, str]:
    """The booklet's stylesheet and the hash that lets it apply inline."""
    return _read_stylesheet(Path(current_app.static_folder or "static") / STYLESHEET)


@functools.lru_cache(maxsize=4)
def _read_stylesheet(file: Path) -> tuple[str, str]:
    """Read once per process: the file ships with the code and changes only with a deploy."""
    css = file.read_text(encoding="utf-8")
    return css, base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def as_html(
    path: ReadingPath, items: list[ReadingPathItem], *, viewer: User, base_url: str
) -> tuple[str, str]:
    """The booklet as one HTML document, and the Content-Security-Policy that lets its inline
    stylesheet (and nothing else) apply."""
    css, digest = _stylesheet()
    html = render_template(
        "paths/booklet.html",
        path=path,
        entries=[
            (item, _standalone(article(item.incident_id, viewer), f"item-{item.id}-", base_url))
            for item in items
        ],
        css=Markup(css),  # noqa: S704 - our own file from static/
        now=utcnow(),
    )
    policy = (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
        "base-uri 'self'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, policy


ID_ATTRIBUTE = re.compile(r'\b(id|href)="(#?)([A-Za-z][\w-]*)"')
SITE_LINK = re.compile(r'\bhref="/(?!/)')


def _standalone(html: Markup, prefix: str, base_url: str) -> Markup:
    """An article made fit to sit beside others in one file: its ids (and the links to them)
    prefixed so they stay unique, and links into the site made absolute."""

    def scope(match: re.Match[str]) -> str:
        attribute, hash_sign, name = match.groups()
        if attribute == "href" and not hash_sign:
            return match.group(0)
        return f'{attribute}="{hash_sign}{prefix}{name}"'

    scoped = ID_ATTRIBUTE.sub(scope, str(html))
    site = escape(base_url.rstrip("/"))
    return Markup(SITE_LINK.sub(f'href="{site}/', scoped))  # noqa: S704


def as_markdown(path: ReadingPath, items: list[ReadingPathItem], *, viewer: User) -> str:
    """The booklet as one Markdown file. Markdown fields (sections, notes, timeline, lessons)
    are as written; plain text (titles, names, summaries) is escaped, Markdown's characters and
    HTML's alike, since a Markdown file is often rendered to HTML."""
    count = len(items)
    lines = [
        f"# {_text(path.title)}",
        "",
        f"Reading path · {count} postmortem{'' if count == 1 else 's'} · made "
        f"{format_datetime(utcnow())} · times in {current_app.config['TIMEZONE']}",
        "",
    ]
    if path.description_md.strip():
        lines += [path.description_md.strip(), ""]
    lines += ["## Contents", ""]
    lines += [
        f"{n}. [{_text(item.incident.key)} {_text(item.incident.title)}](#item-{item.id})"
        for n, item in enumerate(items, start=1)
    ] or ["No postmortems on this path that you may read."]
    for n, item in enumerate(items, start=1):
        incident = load_incident_page(item.incident_id)
        lines += ["", "---", ""]
        lines += _heading(n, count, item, incident)
        lines += _facts(incident, viewer)
        lines += _sections(incident)
        lines += _parts(incident)
    return "\n".join(lines).rstrip() + "\n"


def _text(text: str, keep: str = "") -> str:
    """Plain text safe on one Markdown line: HTML's characters as entities, Markdown's
    escaped (but those in `keep`)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\|*_`[]#":
        if char not in keep:
            text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def _quoted(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.strip().splitlines()]


def _bullet(text: str) -> list[str]:
    """A list item whose text may run over several lines (indented under the bullet)."""
    first, *rest = text.strip().splitlines() or [""]
    return [f"- {first}".rstrip(), *[f"  {line}".rstrip() for line in rest]]


def _estimated(incident: Incident) -> str:
    return " (estimated)" if incident.started_at and incident.started_is_estimated else ""


def _when(value: datetime | None, estimated: bool) -> str:
    if value is None:
        return "—"
    return format_datetime(value) + (" (estimated)" if estimated else "")


def _heading(number: int, count: int, item: ReadingPathItem, incident: Incident) -> list[str]:
    title = f"## {number}. {_text(incident.key)} {_text(incident.title)}"
    lines = [f'<a id="item-{item.id}"></a>', "", title, "", f"*{number} of {count}*", ""]
    if item.note_md.strip():
        lines += [*_quoted(f"**Why read it.** {item.note_md.strip()}"), ""]
    if incident.summary:
        lines += [_text(incident.summary), ""]
    return lines


def _facts(incident: Incident, viewer: User) -> list[str]:
    facts = [
        ("Status", incident.status.label),
        # Another organisation's incident: its source grades none (stored SEV3, never counted).
        (
            "Severity",
            "not graded by the source" if incident.is_external else incident.severity.label,
        ),
        ("Team", incident.team.name if incident.team else "—"),
        ("Affected system", incident.affected_system or "—"),
        ("Environment", incident.environment or "—"),
        ("Started", format_start(incident.started_at) + _estimated(incident)),
        ("Detected", _when(incident.detected_at, incident.detected_is_estimated)),
        ("Mitigated", _when(incident.mitigated_at, incident.mitigated_is_estimated)),
        ("Resolved", _when(incident.resolved_at, incident.resolved_is_estimated)),
        ("Time to detect", format_duration(incident.time_to_detect)),
        ("Time to mitigate", format_duration(incident.time_to_mitigate)),
        ("Time to resolve", format_duration(incident.time_to_resolve)),
        ("Tags", ", ".join(tag.name for tag in incident.tags) or "—"),
    ]
    if incident.is_near_miss:
        facts.append(("Near miss", "yes"))
    if incident.recurrence_of is not None:
        recurrence = incident.recurrence_of
        shown = may_see(viewer, recurrence)
        facts.append(
            (
                "Recurrence of",
                f"{recurrence.key} {recurrence.title}" if shown else "a restricted postmortem",
            )
        )
    return [f"- **{label}:** {_text(value)}" for label, value in facts] + [""]


def _sections(incident: Incident) -> list[str]:
    lines = []
    for attribute, heading in SECTIONS:
        text = getattr(incident, attribute)
        if text and text.strip():
            lines += [f"### {heading}", "", text.strip(), ""]
    lines += ["### Timeline", ""]
    for event in incident.timeline:
        lines += _bullet(f"{format_datetime(event.at)} — {event.text_md}")
    return lines + ([] if incident.timeline else ["No events yet."]) + [""]


def _parts(incident: Incident) -> list[str]:
    lines = ["### Contributing factors", ""]
    for category in CauseCategory:
        named = [f for f in incident.factors if f.factor.category is category]
        if named:
            lines += [f"**{category.label}**", ""]
            for factor in named:
                primary = " (primary)" if factor.is_primary else ""
                note = f" — {factor.note}" if factor.note else ""
                lines += _bullet(f"{_text(factor.factor.name)}{primary}{note}")
            lines += [""]
    lines += [] if incident.factors else ["No factors named yet.", ""]
    lines += ["### Impact", ""]
    for impact in incident.impacts:
        if impact.level is not None:
            amount = impact.level.label
        else:
            bounds = (impact.low, impact.likely, impact.high)
            amount = " / ".join(format_amount(value, impact.currency) for value in bounds)
            amount += f" {_text(impact.unit_label)} (low / likely / high)"
        how = f" — {_text(impact.method_note)}" if impact.method_note else ""
        by = f" ({_text(impact.estimated_by)})" if impact.estimated_by else ""
        lines += _bullet(f"**{impact.kind.label}:** {amount}{how}{by}")
    lines += ([] if incident.impacts else ["No impact estimated yet."]) + ["", "### Lessons", ""]
    for group in LessonGroup:
        in_group = [lesson for lesson in incident.lessons if lesson.group is group]
        if in_group:
            lines += [f"**{group.label}**", ""]
            for lesson in in_group:
                lines += _bullet(lesson.text_md)
            lines += [""]
    lines += [] if incident.lessons else ["No lessons yet.", ""]
    return lines + ["### Action items", "", *_action_items(incident)]


def _action_items(incident: Incident) -> list[str]:
    lines = []
    for action in incident.action_items:
        owner = _text(action.owner_label) if action.owner_label else "—"
        details = [action.type.label, action.group.label, f"owner: {owner}"]
        if action.due_on:
            details.append(f"due {format_date(action.due_on)}")
        status = action.status.label
        if action.completed_on:
            status += f" {format_date(action.completed_on)}"
        if action.wont_do_reason:
            status += f" ({_text(action.wont_do_reason)})"
        details.append(status)
        if action.guards:
            guards = ", ".join(_text(guard.name) for guard in action.guards)
            details.append(f"guard checks: {guards}")
        # Backticks in an action's title mark code, as on its page.
        lines += _bullet(f"**{_text(action.title, keep='`')}** — " + "; ".join(details))
        details_lines = action.details_md.strip().splitlines()
        if details_lines:
            lines += ["", *[f"  {line}".rstrip() for line in details_lines]]
    return lines or ["No action items yet."]


def as_pdf(
    path: ReadingPath, items: list[ReadingPathItem], *, viewer: User, base_url: str
) -> bytes:
    """The HTML booklet printed: the contents give page numbers, every postmortem starts a
    page, and the PDF's bookmarks list each postmortem with its sections."""
    html, _policy = as_html(path, items, viewer=viewer, base_url=base_url)
    return html_to_pdf(html)  # links into the site are absolute already
