"""How long a text may be, for the limits that no service checks yet: the JSON API's schemas
and `flask import` both ask here, so a file cannot store what a request may not."""

# Markdown written by people (a section, a note, a timeline entry, a lesson): long enough for
# any section anyone writes; the request size cap bounds an API request's whole body.
LONG_TEXT = 100_000
# A name typed as text, for someone or something without a row of its own (who estimated).
NAME_TEXT = 120
