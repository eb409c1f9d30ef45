"""The OpenAPI 3.1 document of /api/v1: the paths written here as data, every schema generated
from the pydantic models in schemas.py (the same ones that parse requests and shape answers).

A test checks that every route of the API blueprint is here and nothing else is.
"""

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from postmortems.api import schemas
from postmortems.db import MAX_ID

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "The body is not JSON (or is nested too deeply).",
    "401": "No live token: missing, unknown, expired, revoked, or its account deactivated.",
    "403": "The token's user may not do this.",
    "404": "No such thing, or not shared with the token's user.",
    "409": "A conflict: someone saved first, or the postmortem's status does not allow it.",
    "413": "The body is larger than the limit (MAX_CONTENT_LENGTH, 2 MB by default).",
    "414": "The URL is longer than the server in front takes (gunicorn: a 4094-byte request "
    "line); it answers before the app does, so not in JSON.",
    "415": "A body sent without `Content-Type: application/json`.",
    "422": "A field is missing, unknown, of the wrong type or breaks a rule; `fields` names it.",
}
# What each kind of operation can answer besides success (and 429: see _with_rate_limit).
EVERYWHERE = ("401", "414")
READ = (*EVERYWHERE, "422")  # a query string
WRITE = (*EVERYWHERE, "400", "403", "409", "413", "415", "422")  # a JSON body
# Rules of the postmortem a schema cannot state: they compare fields, or name rows.
POSTMORTEM_RULES = (
    "Rules the schema cannot state (422 naming the field): `detected_at`, `mitigated_at` and "
    "`resolved_at` not before the start nor the one before; `team`, `recurrence_of`, factors "
    "(by category and name, once each) and `owner_email` must exist and be yours to see; an "
    "impact's `low` ≤ `likely` ≤ `high`; an action item's `due_on` and `completed_on` not "
    "before the start; an action item may name one guard check that does not exist yet, and "
    "only one action item may name it."
)
INPUTS: list[type[BaseModel]] = [
    schemas.PostmortemIn,
    schemas.PostmortemPatch,
    schemas.StepIn,
    schemas.SendBackIn,
    schemas.GuardRunIn,
    schemas.PostmortemQuery,
    schemas.SearchQuery,
    schemas.TrendQuery,
    schemas.QuarterlyQuery,
]
OUTPUTS: list[type[BaseModel]] = [
    schemas.Error,
    schemas.Created,
    schemas.Postmortem,
    schemas.PostmortemPage,
    schemas.Taxonomy,
    schemas.GuardList,
    schemas.GuardDetail,
    schemas.GuardRunOut,
    schemas.GuardsHealth,
    schemas.SearchResults,
    schemas.TeamList,
    schemas.TeamOut,
    schemas.StageList,
    schemas.Report,
]


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": REF.format(model=name)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null choice and its default."""
    choices = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default", "title")}
    if len(choices) == 1:
        return {**choices[0], **rest}
    return {k: v for k, v in schema.items() if k != "title"} if not choices else rest


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    properties = model.model_json_schema(ref_template=REF)["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": _without_null(schema)}
        for name, schema in properties.items()
    ]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    summary: str,
    tag: str,
    answer: type[BaseModel],
    *,
    status: str = "200",
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    headers: dict[str, Any] | None = None,
    description: str = "",
    errors: tuple[str, ...] = EVERYWHERE,
    error_text: dict[str, str] | None = None,
) -> dict[str, Any]:
    texts = {**ERRORS, **(error_text or {})}
    if any(p["in"] == "path" for p in parameters or []):
        errors = (*errors, "404")
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "parameters": parameters or [],
        "responses": {
            status: {"description": "Done.", "content": _json(ref(answer))},
            **{
                code: _error(texts[code]) if code != "414" else {"description": texts[code]}
                for code in sorted(set(errors))
            },
        },
    }
    if description:
        operation["description"] = description
    if headers:
        operation["responses"][status]["headers"] = headers
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(ref(body))}
    return operation


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": _json(ref(schemas.Error))}


def _path(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "path", "required": True, "schema": schema}
    return {**parameter, "description": description} if description else parameter


KEY = _path("key", {"type": "string", "maxLength": 20}, "A postmortem's key, e.g. PM-2020-001.")
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
REPORT_400 = {
    "400": "A parameter that is not valid; `fields` names it.",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": r'^\s*(W/)?"?[0-9]{1,10}"?\s*$'},
    "description": 'The version you read, e.g. `"3"` (or send `version` in the body).',
}
STEP_TEXT = {
    "submit": "Submit a draft for review.",
    "publish": "Publish a postmortem in review (a reviewer, not its author); 422 lists what "
    "publishing still needs.",
    "send-back": "Send a postmortem in review back to draft; needs a comment.",
    "archive": "Archive a published postmortem.",
}


def _paths() -> dict[str, Any]:
    postmortem_answer = {
        "ETag": {"description": "The version, quoted.", "schema": {"type": "string"}}
    }
    paths: dict[str, Any] = {
        "/api/v1/postmortems": {
            "get": _operation(
                "List the postmortems you may see",
                "postmortems",
                schemas.PostmortemPage,
                parameters=_query_parameters(schemas.PostmortemQuery),
                description="Newest first; the filters and pages of the postmortems page.",
                errors=READ,
            ),
            "post": _operation(
                "File a postmortem with all its parts",
                "postmortems",
                schemas.Created,
                status="201",
                body=schemas.PostmortemIn,
                headers={"Location": {"required": True, "schema": {"type": "string"}}},
                description="One transaction: the draft and every part are stored, or nothing. "
                + POSTMORTEM_RULES,
                errors=WRITE,
            ),
        },
        "/api/v1/postmortems/{key}": {
            "get": _operation(
                "Read a postmortem",
                "postmortems",
                schemas.Postmortem,
                parameters=[KEY],
                headers=postmortem_answer,
            ),
            "patch": _operation(
                "Change a postmortem's fields and add parts",
                "postmortems",
                schemas.Postmortem,
                parameters=[KEY, IF_MATCH],
                body=schemas.PostmortemPatch,
                headers=postmortem_answer,
                description="The fields given change, the parts given are added. The version "
                "you read is required, as `version` or as If-Match: the schema cannot require "
                "one of the two (422 naming `version`). `started_at` may be null only on another "
                "organisation's postmortem (422). " + POSTMORTEM_RULES,
                errors=WRITE,
            ),
        },
    }
    for step, text in STEP_TEXT.items():
        paths[f"/api/v1/postmortems/{{key}}/{step}"] = {
            "post": _operation(
                text.split(";")[0].split(" (")[0],
                "workflow",
                schemas.Postmortem,
                parameters=[KEY],
                body=schemas.SendBackIn if step == "send-back" else schemas.StepIn,
                body_required=step == "send-back",
                headers=postmortem_answer,
                description=text,
                errors=WRITE,
            )
        }
    paths.update(
        {
            "/api/v1/search": {
                "get": _operation(
                    "Search postmortems, lessons, action items and guard checks",
                    "postmortems",
                    schemas.SearchResults,
                    parameters=[
                        {**p, "required": p["name"] == "q"}
                        for p in _query_parameters(schemas.SearchQuery)
                    ],
                    description="Best first, among what you may see; each hit names its "
                    "postmortem's key.",
                    errors=READ,
                )
            },
            "/api/v1/taxonomy": {
                "get": _operation("Cause categories and factors", "reference", schemas.Taxonomy)
            },
            "/api/v1/guards": {"get": _operation("List guard checks", "guards", schemas.GuardList)},
            "/api/v1/guards/{guard_id}": {
                "get": _operation(
                    "Read a guard check",
                    "guards",
                    schemas.GuardDetail,
                    parameters=[_path("guard_id", ID_SCHEMA)],
                )
            },
            "/api/v1/guards/{guard_id}/runs": {
                "post": _operation(
                    "Report a run of a guard check",
                    "guards",
                    schemas.GuardRunOut,
                    status="201",
                    body=schemas.GuardRunIn,
                    parameters=[_path("guard_id", ID_SCHEMA)],
                    headers={"Location": {"required": True, "schema": {"type": "string"}}},
                    description=(
                        "What a CI job sends after the check ran: pass or fail, when, a link. "
                        "A reviewer's (or admin's) token. Not in the schema (422 naming "
                        "`ran_at`): a time more than 5 minutes from now."
                    ),
                    errors=WRITE,
                )
            },
            "/api/v1/guards/health": {
                "get": _operation(
                    "Failing and stale guards, overdue action items",
                    "guards",
                    schemas.GuardsHealth,
                    description="The same as `flask guards check`; `clean` is false when it "
                    "would exit non-zero.",
                )
            },
            "/api/v1/teams": {
                "get": _operation("List teams and their headcount", "reference", schemas.TeamList)
            },
            "/api/v1/teams/{team_id}": {
                "get": _operation(
                    "Read a team",
                    "reference",
                    schemas.TeamOut,
                    parameters=[_path("team_id", ID_SCHEMA)],
                )
            },
            "/api/v1/growth-stages": {
                "get": _operation("List growth stages", "reference", schemas.StageList)
            },
            "/api/v1/reports/trends": {
                "get": _operation(
                    "The trend report",
                    "reports",
                    schemas.Report,
                    parameters=_query_parameters(schemas.TrendQuery),
                    description="The same payload as /reports/trends.json (see the README). "
                    "`to` must not be before `from` (or their defaults): a rule the schema "
                    "cannot state, answered 400 naming `to`.",
                    errors=(*EVERYWHERE, "400", "403"),
                    error_text={
                        "400": "A parameter that is not valid, or `to` before `from`; "
                        "`fields` names the parameter."
                    },
                )
            },
            "/api/v1/reports/quarterly/{quarter}": {
                "get": _operation(
                    "The quarterly review",
                    "reports",
                    schemas.Report,
                    parameters=[
                        _path(
                            "quarter",
                            {"type": "string", "pattern": "^" + schemas.YEARS + "Q[1-4]$"},
                            "A calendar quarter from 1970Q1 to 2100Q4, e.g. 2020Q4.",
                        ),
                        *_query_parameters(schemas.QuarterlyQuery),
                    ],
                    description="The same payload as /reports/quarterly/<quarter>.json: its "
                    "postmortems 100 to a page (`page`, `pages`, `postmortems_shown`; a page "
                    "past the last shows the last).",
                    errors=(*EVERYWHERE, "400", "403"),
                    error_text=REPORT_400,
                )
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "tags": ["about"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1.",
                            "content": _json({"type": "object"}),
                        },
                        "414": {"description": ERRORS["414"]},
                    },
                }
            },
            "/api/v1/": {
                "get": {
                    "summary": "This document as a readable page",
                    "tags": ["about"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "HTML.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "414": {"description": ERRORS["414"]},
                    },
                }
            },
        }
    )
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    """The document (built once per process: it depends on the code alone)."""
    models = [(m, "validation") for m in INPUTS] + [(m, "serialization") for m in OUTPUTS]
    _, top = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Postmortems API",
            "version": "1",
            "description": (
                "Blameless postmortems, guard checks, teams and reports. Authenticate with a "
                "personal API token (API tokens page, or `flask tokens create EMAIL --name "
                "NAME`) sent as `Authorization: Bearer …`; cookies are not accepted. Errors are "
                '`{"error", "message", "fields"}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": _with_rate_limit(_paths()),
        "components": {
            "schemas": top["$defs"],
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }


RATE_LIMITED = {
    "description": "Too many requests in this minute from the token or the address (or with a "
    "missing or bad token from the address); wait as long as Retry-After says.",
    "headers": {
        "Retry-After": {
            "description": "Seconds until the next minute's requests are counted.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": _json(ref(schemas.Error)),
}


def _with_rate_limit(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may answer 429: the rate limits (api/limits.py) count every request."""
    for item in paths.values():
        for operation in item.values():
            operation["responses"]["429"] = RATE_LIMITED
    return paths


def describe(schema: dict[str, Any]) -> str:
    """A schema in a few words, for the reference page: "string (date-time) or null"."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " or ".join(describe(choice) for choice in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"list of {describe(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema and "properties" not in schema:
        values = schema["additionalProperties"]
        return f"object of {describe(values)}" if isinstance(values, dict) else "object"
    details = [str(schema[k]) for k in ("format", "pattern") if k in schema]
    limits = [
        f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength", "maxItems") if k in schema
    ]
    extra = ", ".join(details + limits)
    return f"{kind} ({extra})" if extra else kind
