"""The JSON API, /api/v1: the same services as the pages, authenticated by personal tokens.

Only `Authorization: Bearer <token>` authenticates here; a session cookie is ignored, so a
page on another site cannot make a signed-in browser call the API, and no CSRF token is
needed. The token's user is the current user for everything the views call: their role and
the postmortems they may see apply as on the pages.

The blueprint and its token check are in blueprint.py; each group of views registers its
routes on it when imported here: postmortems and the taxonomy, guard checks, reports with
teams and growth stages.
"""

from flask import render_template
from flask.typing import ResponseReturnValue

from postmortems.api.blueprint import bp
from postmortems.api.openapi import describe, openapi_document
from postmortems.responses import json_response

# Imported for their routes, in the order they have always been registered on `bp` (tests walk
# url_map in that order).
from postmortems.api import postmortem_views  # isort: skip
from postmortems.api import guard_views  # isort: skip
from postmortems.api import report_views  # isort: skip

__all__ = ["bp", "guard_views", "postmortem_views", "report_views"]


# The description of all of the above.


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    return json_response(openapi_document())


@bp.get("/")
def reference() -> ResponseReturnValue:
    """A readable reference, rendered from the OpenAPI document."""
    return render_template("api/reference.html", doc=openapi_document(), describe=describe)
