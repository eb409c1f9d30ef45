"""Sign-in and password forms."""

from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from postmortems.auth.service import MIN_PASSWORD_LENGTH
from postmortems.forms import Form


class LoginForm(Form):
    email = EmailField("Email", [DataRequired(), Length(max=254)])
    password = PasswordField("Password", [DataRequired(), Length(max=200)])
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", [DataRequired()])
    new_password = PasswordField(
        "New password",
        [DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        "New password again", [DataRequired(), EqualTo("new_password", "Passwords differ.")]
    )

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field: PasswordField) -> None:
        if not self.user.check_password(field.data or ""):  # type: ignore[attr-defined]
            raise ValidationError("This is not your current password.")
