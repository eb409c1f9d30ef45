"""A minimal browser for load tests: one HTTP connection, a cookie jar, and forms sent the way
a browser sends them (every control's current value, then what the user typed).

Standard library only, so that many can run as threads in one process without a dependency.
"""

import http.client
import select
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

# Input types a browser submits with their `value` (checkboxes and radios only when checked).
VALUE_INPUTS = {
    "",
    "text",
    "hidden",
    "email",
    "password",
    "search",
    "url",
    "tel",
    "number",
    "date",
    "datetime-local",
    "time",
    "month",
    "week",
    "color",
    "range",
}


@dataclass
class Form:
    """One <form> of a page: where it goes and what a browser would send untouched."""

    action: str
    method: str
    values: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    options: dict[str, list[str]] = field(default_factory=dict)

    def payload(self, typed: dict[str, str]) -> list[tuple[str, str]]:
        """The form's own values with the typed fields replacing theirs."""
        kept = [(name, value) for name, value in self.values if name not in typed]
        return kept + list(typed.items())


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_chosen: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._form.names.add(name)
            kind = a.get("type", "").lower()
            if kind in VALUE_INPUTS:
                self._form.values.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio") and "checked" in a:
                self._form.values.append((name, a.get("value", "on")))
        elif tag == "select" and name:
            self._form.names.add(name)
            self._form.options[name] = []
            self._select, self._select_chosen = name, None
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._option = value
            if value is not None:
                self._form.options[self._select].append(value)
                if "selected" in a and self._select_chosen is None:
                    self._select_chosen = value
        elif tag == "textarea" and name:
            self._form.names.add(name)
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            options = self._form.options[self._select]
            chosen = self._select_chosen
            if chosen is None and options:
                chosen = options[0]  # a single select sends its first option when none is marked
            if chosen is not None:
                self._form.values.append((self._select, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # The HTML parser drops one newline right after <textarea>; so do we.
            text = "".join(self._text).replace("\r\n", "\n")  # as browsers normalise it
            self._form.values.append((self._textarea, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def find_form(html: str, field_name: str) -> Form | None:
    """The first form on the page that has a control named `field_name`."""
    parser = _FormParser()
    parser.feed(html)
    return next((f for f in parser.forms if field_name in f.names), None)


@dataclass(frozen=True)
class Response:
    status: int  # 0: no answer (connection refused, reset or timed out)
    location: str  # the Location header's path, "" without one
    fragment: str
    text: str
    seconds: float
    finished: float  # time.perf_counter() when the body was read


class Browser:
    """One user's browser: a keep-alive connection and the cookies the site set."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.conn.close()

    def get(self, path: str) -> Response:
        return self._request("GET", path, None)

    def post(self, path: str, data: list[tuple[str, str]]) -> Response:
        return self._request("POST", path, urlencode(data))

    def _request(self, method: str, path: str, body: str | None) -> Response:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self._drop_if_closed()
        began = time.perf_counter()
        try:
            self.conn.request(method, path, body, headers)
            answer = self.conn.getresponse()
            raw = answer.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            now = time.perf_counter()
            return Response(0, "", "", "", now - began, now)
        finished = time.perf_counter()
        for header in answer.headers.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        target = urlsplit(answer.getheader("Location") or "")
        return Response(
            answer.status,
            target.path,
            target.fragment,
            raw.decode("utf-8", "replace"),
            finished - began,
            finished,
        )

    def _drop_if_closed(self) -> None:
        """Reconnect when the server closed an idle keep-alive connection, as browsers do,
        instead of sending a request into a socket that is already at its end."""
        sock = self.conn.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            self.conn.close()

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        attributes = attributes.lower().replace(" ", "")
        if not value or "max-age=0" in attributes or "expires=thu,01jan1970" in attributes:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value
