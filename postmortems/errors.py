"""Error pages: every error a user can cause gets a page that says what happened.

Every handler rolls the request's transaction back first, so that the page itself (which may
read the signed-in user) renders on a clean session, with the security headers.
"""

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from postmortems.api.errors import ApiError, api_error_response, error_response, is_api_request
from postmortems.db import rollback_if_open
from postmortems.domain import ConflictError

Page = tuple[str, int] | Response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # A race lost where no form could show it (a form shows its own ConflictError).
    for race in (ConflictError, StaleDataError, IntegrityError):
        app.register_error_handler(race, _conflict)
    app.register_error_handler(InternalServerError, _server_error)


def _page(code: int, name: str, description: str) -> Page:
    return render_template("errors.html", code=code, name=name, description=description), code


# Our own words for the errors people meet; Werkzeug's wording for the rest.
FRIENDLY = {
    403: ("Not allowed", "Your account may not do this. Ask an admin if you need to."),
    404: (
        "Not found",
        "There is nothing at this address, or it is not shared with you. Check the link, or "
        "start again from the postmortems.",
    ),
    405: ("Not here", "This address does not take that kind of request."),
}


def _api_error(error: ApiError) -> Response:
    rollback_if_open()
    return api_error_response(error)


def _http_error(error: HTTPException) -> Page:
    rollback_if_open()
    code = error.code or 500
    if is_api_request():  # the API answers in JSON, whatever went wrong
        headers = {}
        if code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return error_response(code, _api_description(error), headers=headers)
    name, description = FRIENDLY.get(code, (error.name, error.description or ""))
    return _page(code, name, description)


def _csrf_error(error: CSRFError) -> Page:
    rollback_if_open()
    description = (
        "The form had expired or was sent from another page, so nothing was saved. "
        "Go back, reload the page and send it again."
    )
    return _page(400, "Form not accepted", description)


def _api_description(error: HTTPException) -> str:
    """Werkzeug's own words only where we raised the error with a message of our own."""
    default = type(error).description
    return "" if not error.description or error.description == default else error.description


def _conflict(error: Exception) -> Page:
    rollback_if_open()
    if is_api_request():
        return error_response(409)
    description = (
        "Someone else changed the same thing at the same moment, so nothing was saved. "
        "Go back, reload the page and try again."
    )
    return _page(409, "Changed by someone else", description)


def _server_error(error: InternalServerError) -> Page:
    rollback_if_open()
    if is_api_request():
        return error_response(500)
    description = (
        "Something went wrong on our side and nothing was saved. It has been logged; "
        "go back and try again."
    )
    return _page(500, "Something went wrong", description)
