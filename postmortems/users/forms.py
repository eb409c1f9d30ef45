"""The admin's user form: it parses what was typed; the service checks the rules."""

from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, StringField

from models import Role, User
from postmortems.auth.service import MIN_PASSWORD_LENGTH
from postmortems.db import session
from postmortems.forms import EnumSelectField, Form, OptionalIdSelectField
from postmortems.teams.service import list_teams


class UserForm(Form):
    email = EmailField("Email")
    name = StringField("Name")
    role = EnumSelectField("Role", Role, default=Role.READER)
    team_id = OptionalIdSelectField(
        "Team", description="Members see their team's restricted postmortems."
    )
    is_active = BooleanField(
        "Active (may sign in)",
        default=True,
        description="Making an account inactive signs it out everywhere and revokes its API "
        "tokens; making it active again does not bring them back.",
    )
    password = PasswordField(
        "Password",
        description="Leave empty to keep the current one. A new one signs the account out "
        "everywhere and revokes its API tokens.",
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=user, **kwargs)
        self.team_id.choices = [("", "—")] + [(t.id, t.name) for t in session.scalars(list_teams())]
        if user is None:
            self.password.description = f"At least {MIN_PASSWORD_LENGTH} characters."
