"""Who may do what: one question, `can(user, action, target)`, asked by views and templates.

The rules about which incidents a user may see or change live in `auth/access.py` (they are
SQL conditions as well); this module names every action a page offers and answers for it.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_login import current_user

from models import Incident, IncidentStatus, Role, User
from postmortems.auth.access import can_edit, can_read, can_review, may_see

F = TypeVar("F", bound=Callable[..., Any])


def _may_delete(user: User, incident: Incident) -> bool:
    """Its author while it is a draft, or an admin."""
    own_draft = incident.status is IncidentStatus.DRAFT and incident.author_id == user.id
    return can_read(user, incident) and (own_draft or user.can(Role.ADMIN))


def _may_archive(user: User, incident: Incident) -> bool:
    return user.can(Role.REVIEWER) and can_read(user, incident)


INCIDENT_ACTIONS: dict[str, Callable[[User, Incident], bool]] = {
    "read": can_read,
    "edit": can_edit,
    "delete": _may_delete,
    "submit": can_edit,
    "publish": can_review,
    "send-back": can_review,
    "archive": _may_archive,
}
# Actions without a target, by the least role that may take them.
ROLE_ACTIONS = {
    "file_incident": Role.AUTHOR,
    "add_guard": Role.AUTHOR,
    "edit_guard": Role.AUTHOR,
    "record_guard_run": Role.REVIEWER,
    "manage_teams": Role.ADMIN,
    "manage_taxonomy": Role.ADMIN,
    "manage_users": Role.ADMIN,
    "read_audit_log": Role.ADMIN,
    "export_data": Role.ADMIN,
    "read_reports": Role.READER,
    "freeze_reports": Role.REVIEWER,
    "curate_paths": Role.REVIEWER,
    "see_path_readers": Role.ADMIN,
}


def can(user: Any, action: str, target: Incident | None = None) -> bool:
    """Whether `user` may take `action` (on `target`, for the incident actions)."""
    if user is None or not user.is_authenticated:
        return False
    if action in INCIDENT_ACTIONS:
        if target is None:
            raise ValueError(f"{action!r} needs the incident it applies to")
        return INCIDENT_ACTIONS[action](user, target)
    return bool(user.can(ROLE_ACTIONS[action]))


def requires(action: str) -> Callable[[F], F]:
    """Allow the view only to users who `can(action)`; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def init_policy(app: Flask) -> None:
    """Templates ask `can("edit", incident)` for the signed-in user."""
    app.jinja_env.globals["can"] = lambda action, target=None: can(current_user, action, target)
    # Every template that names another postmortem asks whether the reader may see it.
    app.jinja_env.globals["may_see"] = lambda incident: may_see(current_user, incident)
