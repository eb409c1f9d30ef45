"""Rows named in a file by what people see (a team's name, an account's email), found."""

from sqlalchemy import select

from models import Team, User
from postmortems.db import session
from postmortems.transfer.files import ImportProblem, Record


def find_team(name: str | None, record: Record) -> int | None:
    if name is None:
        return None
    team_id = session.scalar(select(Team.id).where(Team.name == name))
    if team_id is None:
        raise ImportProblem(f"team: no team named {name!r}", record.key_lines.get("team"))
    return team_id


def find_user(email: str | None, record: Record, name: str) -> int | None:
    if email is None:
        return None
    user_id = session.scalar(select(User.id).where(User.email == email.lower()))
    if user_id is None:
        raise ImportProblem(f"{name}: no account {email}", record.key_lines.get(name))
    return user_id
