"""JSON answers, escaped so that no browser reads them as HTML: one function for every endpoint."""

import json
from collections.abc import Mapping
from typing import Any

from flask import Response


def json_response(
    payload: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    sort_keys: bool = False,
    no_store: bool = True,
) -> Response:
    """JSON with <, > and & as \\u escapes, so that no browser can read it as HTML; kept by
    no cache unless `no_store` is False."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=sort_keys)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    response = Response(text + "\n", status=status, mimetype="application/json")
    response.headers.update(headers or {})
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
