"""What the JSON API accepts and answers, as pydantic models: they parse requests (strictly:
unknown fields, wrong types and out-of-range values are refused, naming the field) and shape
answers, and the OpenAPI document's schemas are generated from them — one source of truth.

Only the form of a value is checked here; the domain rules (a title that is not blank, times in
order, a known currency…) stay in the services, whose errors the API passes on field by field.
Where JSON Schema can say such a rule, the schema states it too (`states`), so that the document
says everything the API enforces; the rules it cannot say are in the operations' descriptions.

The models live by job: `common` (value types and bases), `postmortem_in` (filing and changing
a postmortem, which `flask import` reads files with too), `queries` (steps, guard runs, query
strings) and `answers`; all are importable from here.
"""

from postmortems.api.schemas.answers import *  # noqa: F403
from postmortems.api.schemas.common import *  # noqa: F403
from postmortems.api.schemas.postmortem_in import *  # noqa: F403
from postmortems.api.schemas.queries import *  # noqa: F403
