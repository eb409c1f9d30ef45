"""Errors on /api/ paths are JSON, never an HTML page: `{"error", "message", "fields"}`.

The app's error handlers (postmortems/errors.py) ask `is_api_request()` first and answer with
`error_response`; the API's own views raise `ApiError`.
"""

from collections.abc import Mapping

from flask import Response, has_request_context, request

from postmortems.responses import json_response

API_PREFIX = "/api/"
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}
MESSAGES = {
    400: "The request could not be read.",
    401: "Send a live API token as `Authorization: Bearer …` (make one on the API tokens page).",
    403: "Your account's role may not do this.",
    404: "There is nothing at this address, or it is not shared with you.",
    405: "This address does not take that method.",
    409: "Someone else changed the same thing first; nothing of this request was saved.",
    413: "The request is too large.",
    415: "Send the body as JSON, with Content-Type: application/json.",
    429: "Too many requests; wait as long as Retry-After says and try again.",
    500: "Something went wrong on our side and nothing was saved.",
}


class ApiError(Exception):
    """An answer other than success, raised anywhere in an API view."""

    def __init__(
        self,
        status: int,
        message: str = "",
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or MESSAGES.get(status, ""))
        self.status = status
        self.message = message or MESSAGES.get(status, "")
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def is_api_request() -> bool:
    return has_request_context() and request.path.startswith(API_PREFIX)


def error_response(
    status: int,
    message: str = "",
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if status not in CODES:  # an HTTP error we do not name: a bad request
        status = 400 if status < 500 else 500
    body = {
        "error": CODES[status],
        "message": message or MESSAGES.get(status, ""),
        "fields": {name: list(messages) for name, messages in (fields or {}).items()},
    }
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="postmortems"')
    return json_response(body, status, all_headers)


def api_error_response(error: ApiError) -> Response:
    return error_response(error.status, error.message, error.fields, error.headers)
