"""The admin's user form."""

from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from models import Role, User
from postmortems.auth.service import MIN_PASSWORD_LENGTH, get_user_by_email, normalise_email
from postmortems.db import session
from postmortems.forms import EnumSelectField, Form, OptionalIdSelectField
from postmortems.teams.service import list_teams


class UserForm(Form):
    # A light shape check: the real test of an address is that mail reaches it.
    email = EmailField(
        "Email",
        [
            DataRequired(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Invalid email address."),
            Length(max=254),
        ],
    )
    name = StringField("Name", [Optional(), Length(max=120)])
    role = EnumSelectField("Role", Role, default=Role.READER)
    team_id = OptionalIdSelectField(
        "Team", description="Members see their team's restricted postmortems."
    )
    is_active = BooleanField("Active (may sign in)", default=True)
    password = PasswordField(
        "Password",
        [Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description="Leave empty to keep the current one.",
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=user, **kwargs)
        self.user = user
        self.team_id.choices = [("", "—")] + [(t.id, t.name) for t in session.scalars(list_teams())]
        if user is None:
            self.password.validators = [DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
            self.password.description = f"At least {MIN_PASSWORD_LENGTH} characters."

    def validate_email(self, field: EmailField) -> None:
        field.data = normalise_email(field.data or "")
        other = get_user_by_email(field.data)
        if other is not None and other is not self.user:
            raise ValidationError("Another account has this email.")

    def apply(self, user: User) -> None:
        for name in ("email", "name", "role", "team_id", "is_active"):
            setattr(user, name, getattr(self, name).data)
        if self.password.data:
            user.set_password(self.password.data)
