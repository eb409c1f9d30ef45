"""A postmortem chosen by its key: a plain text field (works without JavaScript) that htmx turns
into search-as-you-type, suggestions filled into a <datalist> from /search/incidents.

It replaces a select of every postmortem, whose options grew with the database (1.3 MB of
HTML at 20,000): the form now renders in the same time whatever their number.
"""

import re
from typing import Any

from flask import url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field, StringField
from wtforms.widgets import TextInput

from models import Incident, User
from postmortems.auth.access import reference_key, visible_incidents
from postmortems.db import session
from postmortems.search.service import search

KEY = re.compile(r"[A-Za-z]+-\d{4}-\d+")
PICKS = 10


class IncidentPickerInput(TextInput):
    """A text input asking for suggestions as the person types, and the list they go into."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        options = f"{field.id}-options"
        kwargs.update(
            {
                "list": options,
                "autocomplete": "off",
                "placeholder": "A key such as PM-2020-001, or words from its title",
                "hx-get": url_for("search.pick_incident"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#{options}",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )
        return super().__call__(field, **kwargs) + Markup(
            f'<datalist id="{escape(options)}"></datalist>'
        )


class IncidentKeyField(StringField):
    """`data` is the chosen postmortem's id (or None); the box shows and takes its key.

    The typed text may be a key, a key followed by its title (as the suggestions read), or a
    bare id; whether the person may link to it is the incident service's rule."""

    widget = IncidentPickerInput()

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.typed: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.typed = str(valuelist[0]).replace("\x00", "").strip() if valuelist else ""
        found: int | None = None
        if self.typed:
            first = self.typed.split()[0]
            if first.isdigit() and len(first) < 10:
                found = int(first)
            elif KEY.fullmatch(first):
                found = session.scalar(select(Incident.id).where(Incident.key == first.upper()))
        self.data = found  # type: ignore[assignment]  # an id, not the text
        if self.typed and found is None:
            raise ValueError("No postmortem has this key: type one such as PM-2020-001.")

    def _value(self) -> str:
        if self.typed is not None:
            return self.typed
        if self.data is None:
            return ""
        chosen = session.get(Incident, self.data)
        if chosen is None:
            return ""
        # One the editor may not see keeps its link (the bare id), never shows its key.
        return reference_key(current_user, chosen) or str(chosen.id)


def pick_incidents(viewer: User, text: str) -> list[tuple[str, str]]:
    """(key, title) of up to PICKS postmortems `viewer` sees: by key prefix when the text
    starts like a key, else by the words of the text."""
    text = text.strip()[:200]
    first = text.split()[0] if text else ""
    if re.fullmatch(r"[A-Za-z]+-[\d-]*", first):
        like = first.upper().replace("%", "").replace("_", "") + "%"
        rows = session.execute(
            select(Incident.key, Incident.title)
            .where(Incident.key.like(like), visible_incidents(viewer))
            .order_by(Incident.key)
            .limit(PICKS)
        )
        return [(key, title) for key, title in rows]
    results = search(viewer, text, kind="incident", per_page=PICKS)
    return [(hit.incident_key or "", Markup(hit.title).striptags()) for hit in results.hits]
