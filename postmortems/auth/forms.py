"""Sign-in and password forms: they parse what was typed; the service checks it."""

from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from postmortems.auth.service import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from postmortems.forms import Form


class LoginForm(Form):
    email = EmailField("Email", [DataRequired(), Length(max=254)])
    password = PasswordField("Password", [DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", [DataRequired()])
    new_password = PasswordField(
        "New password", [DataRequired()], description=f"At least {MIN_PASSWORD_LENGTH} characters."
    )
    confirm = PasswordField(
        "New password again", [DataRequired(), EqualTo("new_password", "Passwords differ.")]
    )
