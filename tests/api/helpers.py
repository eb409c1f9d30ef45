"""Calling the API as a script would, and checking every answer against the OpenAPI document."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from models import Role, User
from postmortems.api.openapi import openapi_document
from postmortems.db import session
from postmortems.tokens.service import create_token
from tests.conftest import make_user


def token_for(user: User) -> str:
    """A live token of `user` (made in the test's session and committed)."""
    _, secret = create_token(user, "tests")
    session.commit()
    return secret


def user_with_token(role: Role = Role.AUTHOR, **kwargs: Any) -> tuple[User, str]:
    user = make_user(role, **kwargs)
    return user, token_for(user)


def _operation(method: str, path: str) -> dict[str, Any]:
    paths = openapi_document()["paths"]
    if method.lower() in paths.get(path, {}):  # a literal path wins over a template
        return paths[path][method.lower()]  # type: ignore[no-any-return]
    for template, item in paths.items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            return item[method.lower()]  # type: ignore[no-any-return]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def check_against_openapi(method: str, path: str, response: Any) -> None:
    """The answer's status is documented for the operation, and its body fits the schema."""
    operation = _operation(method, path.split("?", 1)[0])
    answers = operation["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method} {path} answered {status}, not documented"
    content = answers[status].get("content", {})
    media = response.mimetype
    assert media in content, f"{method} {path} answered {media}, documented {list(content)}"
    if media != "application/json":
        return
    schema = {**content[media]["schema"], "components": openapi_document()["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, f"{method} {path}: {[(list(e.path), e.message) for e in errors[:5]]}"


class Api:
    """A client that sends the token and checks every answer against the document."""

    def __init__(self, app: Flask, token: str | None) -> None:
        self.client: FlaskClient = app.test_client()
        self.token = token

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        response = self.client.open(path, method=method, json=json, headers=headers, **kwargs)
        check_against_openapi(method, path, response)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.call("PATCH", path, json, **kwargs)
