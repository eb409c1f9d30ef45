"""Reading path forms: they parse what was typed; the rules are the service's."""

from typing import Any

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired

from models import ReadingPath
from postmortems.db import session
from postmortems.forms import Form, OptionalIdSelectField
from postmortems.paths.service import PathValues
from postmortems.teams.service import list_teams


class PathForm(Form):
    title = StringField("Title", [DataRequired(message="Give the path a title.")])
    description_md = TextAreaField(
        "Description", description="Markdown. Who the path is for and what they will learn."
    )
    team_id = OptionalIdSelectField(
        "For the team", description="Its members see the path on their home page while new."
    )
    for_new_users = BooleanField("For every new user")

    def __init__(self, *args: Any, path: ReadingPath | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=path, **kwargs)
        self.team_id.choices = [("", "—")] + [(t.id, t.name) for t in session.scalars(list_teams())]

    def values(self) -> PathValues:
        return PathValues(
            title=self.title.data or "",
            description_md=self.description_md.data or "",
            team_id=self.team_id.data,
            for_new_users=bool(self.for_new_users.data),
        )


class ItemForm(Form):
    key = StringField(
        "Postmortem key",
        [DataRequired(message="Give the key of a postmortem, such as PM-2020-001.")],
        description="As shown on the postmortem, such as PM-2020-001.",
    )
    note_md = TextAreaField("Why read it", description="Markdown.")


class NoteForm(Form):
    note_md = TextAreaField("Why read it", description="Markdown.")
