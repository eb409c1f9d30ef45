"""The account rules, checked by the service whoever calls it: admin pages, CLI, later the API."""

import pytest

from models import Role
from postmortems.auth.service import AccountError, create_user, update_user
from postmortems.domain import DomainError
from tests.conftest import make_user

PASSWORD = "long enough pw"


def refused_fields(change) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(AccountError) as refused:
        change()
    return refused.value.fields


def test_an_account_error_is_a_domain_error() -> None:
    assert issubclass(AccountError, DomainError)


def test_create_user_names_every_field_it_refuses(db) -> None:
    fields = refused_fields(
        lambda: create_user("not an email", "short", Role.READER, name="x" * 121, team_id=999)
    )
    assert set(fields) == {"email", "password", "name", "team_id"}


def test_create_user_refuses_an_email_that_differs_only_in_case(db) -> None:
    create_user("ana@example.com", PASSWORD, Role.READER)
    fields = refused_fields(lambda: create_user(" ANA@example.com", PASSWORD, Role.READER))
    assert fields == {"email": ["Another account has this email."]}


def test_an_admin_cannot_deactivate_their_own_account(db) -> None:
    admin = make_user(Role.ADMIN)
    fields = refused_fields(
        lambda: update_user(
            admin,
            by=admin,
            email=admin.email,
            name="",
            role=Role.ADMIN,
            team_id=None,
            is_active=False,
        )
    )
    assert fields == {"is_active": ["You cannot deactivate your own account."]}
    assert admin.is_active


def test_update_user_keeps_the_email_of_the_account_being_edited(db) -> None:
    admin, user = make_user(Role.ADMIN), make_user(Role.READER)
    update_user(
        user,
        by=admin,
        email=user.email.upper(),
        name="Renamed",
        role=Role.AUTHOR,
        team_id=None,
        is_active=True,
    )
    assert (user.name, user.role) == ("Renamed", Role.AUTHOR)
