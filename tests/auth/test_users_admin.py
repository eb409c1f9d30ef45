"""Admins manage accounts in the UI."""

from sqlalchemy import select

from models import Role, User
from tests.conftest import field_errors


def test_an_admin_adds_a_user_who_can_then_sign_in(browser, db, app) -> None:
    response = browser.submit(
        "/users/new",
        {
            "email": "New@Example.com",
            "name": "New Person",
            "role": "AUTHOR",
            "is_active": "y",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.email == "new@example.com")).one()
    assert user.role is Role.AUTHOR and user.check_password("long enough pw")
    from tests.conftest import Browser

    signed_in = Browser(app.test_client()).submit(
        "/auth/login", {"email": "new@example.com", "password": "long enough pw"}
    )
    assert signed_in.status_code == 302
    assert "new@example.com" in browser.get("/users/").get_data(as_text=True)


def test_a_new_user_needs_a_unique_email_and_a_long_password(browser, db, admin) -> None:
    html = browser.submit(
        "/users/new", {"email": admin.email.upper(), "role": "READER", "password": "short"}
    ).get_data(as_text=True)
    assert field_errors(html, "email") == ["Another account has this email."]
    assert field_errors(html, "password")
    html = browser.submit(
        "/users/new", {"email": "not an email", "role": "READER", "password": "long enough pw"}
    ).get_data(as_text=True)
    assert field_errors(html, "email") == ["This is not an email address."]


def test_an_admin_changes_a_role_and_keeps_the_password_when_left_empty(browser, db) -> None:
    from tests.conftest import make_user

    user = make_user(Role.READER, password="long enough pw")
    db.commit()
    browser.submit(
        f"/users/{user.id}/edit",
        {"email": user.email, "role": "REVIEWER", "is_active": "y", "password": ""},
    )
    db.refresh(user)
    assert user.role is Role.REVIEWER and user.check_password("long enough pw")


def test_an_admin_cannot_take_away_their_own_admin_rights(browser, db, admin) -> None:
    html = browser.submit(
        f"/users/{admin.id}/edit", {"email": admin.email, "role": "READER", "is_active": "y"}
    ).get_data(as_text=True)
    assert field_errors(html, "role") == ["You cannot take away your own admin rights."]
    assert db.get(User, admin.id).role is Role.ADMIN
