"""Error pages: every error a user can cause gets a page that says what happened."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template(
        "errors.html", code=code, name=error.name, description=error.description
    ), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    description = (
        "The form had expired or was sent from another page, so nothing was saved. "
        "Go back, reload the page and send it again."
    )
    return render_template(
        "errors.html", code=400, name="Form not accepted", description=description
    ), 400
