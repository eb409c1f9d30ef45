"""The API's blueprint: the token check before every request, and how the views read a
request and shape an answer (each group of views registers its routes on `bp`)."""

import json
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from models import Incident, User
from postmortems.api import values
from postmortems.api.errors import ApiError
from postmortems.api.limits import RateLimited, RateLimits, count_request, refuse_if_failing
from postmortems.api.schemas.common import markdown_fields
from postmortems.auth.sessions import client_address, set_token_user
from postmortems.db import session
from postmortems.domain import ConflictError, DomainError
from postmortems.extensions import csrf
from postmortems.incidents import workflow
from postmortems.markdown import MarkdownError, check_markdown
from postmortems.policy import can
from postmortems.responses import json_response
from postmortems.tokens.service import TokenOwner, TokenRefused, authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # cookies never authenticate here, so a forged request carries no one's rights

# Endpoints anyone may read: the API's description.
PUBLIC = {"api.openapi", "api.reference"}
M = TypeVar("M", bound=BaseModel)
MAX_NESTING = 20


@bp.before_request
def authenticate_token() -> None:
    """The token's user becomes the current user; without a live token, 401. Every request
    counts against the rate limits of its address and its token (or, without a live token, the
    much lower limit of failures per address): over one, 429 with Retry-After."""
    limits = RateLimits.from_config(current_app)
    address = client_address()
    try:
        if request.endpoint in PUBLIC:
            count_request(address, limits)  # and current_user stays anonymous
            return
        refuse_if_failing(address, limits)
        owner, refusal = _token_owner()
        if owner is None:
            count_request(address, limits, failed=True)
        else:
            count_request(address, limits, token_id=owner.token_id)
    except RateLimited as exc:
        raise ApiError(429, exc.message, headers={"Retry-After": str(exc.retry_after)}) from None
    user = session.get(User, owner.user_id) if owner is not None else None
    if user is None or not user.is_active:
        raise ApiError(401, refusal)
    set_token_user(user)  # Flask-Login's current user (its request loader), for the policy


def _token_owner() -> tuple[TokenOwner | None, str]:
    """The live token of the Authorization header, or None and why (empty: the usual 401)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None, ""
    try:
        return authenticate(secret.strip()), ""
    except TokenRefused as exc:
        return None, str(exc)


def api_user() -> User:
    """The token's user: the current user of every API request past `authenticate_token`."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def require(action: str, target: Incident | None = None) -> None:
    if not can(current_user, action, target):
        raise ApiError(403)


def parse(model: type[M]) -> M:
    """The request body as `model`: 415 unless it is sent as JSON, 400 when it is not JSON, 422
    naming each bad field."""
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "Send the body as JSON, with Content-Type: application/json.",
            {"Content-Type": [f"Use application/json, not {request.mimetype or 'none'}."]},
        )
    raw = request.get_data(cache=False)  # over the size limit: 413
    if not raw.strip():
        raise ApiError(400, "Send a JSON object as the request body.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}.") from None
    data = _clean(data, 0)
    try:
        parsed = model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise ApiError(
            422, "Some fields are missing or not valid; see fields.", _fields(exc)
        ) from None
    try:
        check_markdown(dict(markdown_fields(parsed)))
    except MarkdownError as exc:
        raise ApiError(422, "Some Markdown is over the limits; see fields.", exc.fields) from None
    return parsed


def _clean(value: Any, depth: int) -> Any:
    """Drop NUL characters from strings (PostgreSQL refuses them; nobody types them) and
    refuse text that is not valid Unicode or nesting deeper than any request needs."""
    if depth > MAX_NESTING:
        raise ApiError(400, "The body is nested too deeply.")
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ApiError(400, "The body holds text that is not valid Unicode.") from None
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_clean(k, depth + 1): _clean(v, depth + 1) for k, v in value.items()}
    return value


def _fields(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, []).append(error["msg"])
    return fields


def parse_query(model: type[M], status: int = 422) -> M:
    """The query string as `model`: an empty value is a value (and refused where the schema
    says so), not a parameter left out. The reports answer 400, as they always have."""
    args = {name: value.replace("\x00", "") for name, value in request.args.items()}
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise ApiError(status, "Some parameters are not valid; see fields.", _fields(exc)) from None


def answer(model: type[BaseModel], payload: Any, status: int = 200, **headers: str) -> Response:
    """The payload shaped by its answer model (what the OpenAPI document promises)."""
    body = model.model_validate(payload).model_dump(mode="json")
    return json_response(body, status, headers)


def refused(exc: DomainError) -> ApiError:
    status = 409 if isinstance(exc, ConflictError) else 422
    fields = values.api_fields(exc)
    if isinstance(exc, workflow.WorkflowError) and exc.problems:
        fields["publish"] = list(exc.problems)
    return ApiError(status, exc.message, fields)
