"""`flask users ...` and the demo admin."""

from sqlalchemy import select

from models import Role, User


def test_users_create_with_a_password_option(runner, db) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ana@Example.com",
            "--role",
            "reviewer",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.scalars(select(User).where(User.email == "ana@example.com")).one()
    assert user.role is Role.REVIEWER and user.check_password("long enough pw")


def test_users_create_prompts_for_the_password(runner, db) -> None:
    result = runner.invoke(
        args=["users", "create", "bo@example.com", "--role", "admin"],
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "long enough pw" not in result.output
    assert db.scalars(select(User).where(User.email == "bo@example.com")).one().role is Role.ADMIN


def test_users_create_refuses_a_duplicate_or_a_short_password(runner, db) -> None:
    runner.invoke(args=["users", "create", "cy@example.com", "--password", "long enough pw"])
    duplicate = runner.invoke(
        args=["users", "create", "CY@example.com", "--password", "long enough pw"]
    )
    short = runner.invoke(args=["users", "create", "dee@example.com", "--password", "short"])
    assert duplicate.exit_code != 0 and "Another account has this email" in duplicate.output
    assert short.exit_code != 0 and "at least 10" in short.output


def test_users_create_refuses_an_unknown_role(runner) -> None:
    result = runner.invoke(
        args=["users", "create", "x@example.com", "--role", "king", "--password", "long enough pw"]
    )
    assert result.exit_code != 0


def test_users_set_password(runner, db) -> None:
    runner.invoke(args=["users", "create", "cy@example.com", "--password", "long enough pw"])
    result = runner.invoke(
        args=["users", "set-password", "cy@example.com", "--password", "another long one"]
    )
    assert result.exit_code == 0
    db.expire_all()
    user = db.scalars(select(User).where(User.email == "cy@example.com")).one()
    assert user.check_password("another long one")


def test_demo_load_on_an_empty_database_creates_an_admin_and_says_how_to_sign_in(app) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert "Sign in as admin@example.com with the password " in first.output
    password = first.output.split("with the password ")[1].split()[0]
    second = runner.invoke(args=["demo", "load"])
    assert "Sign in as" not in second.output
    from postmortems.db import session

    with app.app_context():
        admin = session.scalars(select(User).where(User.email == "admin@example.com")).one()
        assert admin.role is Role.ADMIN and admin.check_password(password)
