"""Reading docs/roles.md's matrix, filling in forms as a browser would, and telling a
refusal from an answer: the pieces tests/accounts/test_role_matrix.py is built from."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.contrib.messages import get_messages
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES_DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
MATRIX_HEADING = "screen or action"
FOOTNOTE_MARKS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
REFUSED_MESSAGE = "Sorry, you do not have permission to access this area."


# The document ---------------------------------------------------------------------------


class MatrixError(AssertionError):
    """docs/roles.md's table is not the shape the test reads."""


@dataclass(frozen=True)
class Matrix:
    roles: tuple[str, ...]
    rows: dict[str, dict[str, str]]  # row label -> role -> cell, footnote marks removed


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def row_label(text: str) -> str:
    """A row's label as the tests write it: the menus' arrow (U+203A, as in "Transactions
    > Search" in docs/roles.md) typed as ">"."""
    return text.replace("\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}", ">")


def cell_text(cell: str) -> str:
    """A cell without its footnote marks: "yes¹" is "yes", "all²" is "all"."""
    return cell.rstrip(FOOTNOTE_MARKS).strip()


def read_matrix(path: Path = ROLES_DOCUMENT) -> Matrix:
    """The first table of ``path`` whose first column is headed "screen or action"."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [
        number
        for number, line in enumerate(lines)
        if line.startswith("|") and _cells(line)[0] == MATRIX_HEADING
    ]
    if not starts:
        raise MatrixError(f"{path.name} has no table headed '{MATRIX_HEADING}'")
    number = starts[0]
    roles = tuple(_cells(lines[number])[1:])
    if not re.fullmatch(r"\|( *-+ *\|)+", lines[number + 1].replace(":", "-").strip()):
        raise MatrixError(f"{path.name}: the matrix's header is not followed by |---|")
    rows: dict[str, dict[str, str]] = {}
    for line in lines[number + 2 :]:
        if not line.startswith("|"):
            break
        label, *cells = _cells(line)
        label = row_label(label)
        if len(cells) != len(roles):
            raise MatrixError(
                f"{path.name}: row '{label}' has {len(cells)} cells for {len(roles)} roles"
            )
        if label in rows:
            raise MatrixError(f"{path.name}: row '{label}' is in the table twice")
        rows[label] = {role: cell_text(cell) for role, cell in zip(roles, cells, strict=True)}
    return Matrix(roles=roles, rows=rows)


def allowed(cell: str, *, label: str, role: str) -> bool:
    """A yes-or-no cell's answer; anything else is a mistake in the document."""
    if cell == "yes":
        return True
    if cell in ("no", "—"):
        return False
    raise MatrixError(f"docs/roles.md, row '{label}', {role}: '{cell}' is neither yes nor no")


# The admin's addresses ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # as Django's resolver writes it, e.g. "admin/funds/fund-codes/edit/<int:pk>/"
    name: str | None  # with its namespaces, e.g. "funds_fundcode:edit"

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0] if self.name else ""


def _joined(route: str, pattern) -> str:
    # As Django's resolver joins them (a ResolverMatch's route): a regular expression's "^"
    # is dropped after the first part.
    part = str(pattern)
    return route + part.removeprefix("^") if route else part


def admin_routes(prefix: str = "admin/") -> list[Route]:
    """Every URL pattern under ``prefix``, as the resolver holds them (shadowed ones too)."""

    def walk(resolver, route, namespace):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern, _joined(route, pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name
                if name and namespace:
                    name = f"{namespace}:{name}"
                yield Route(_joined(route, pattern.pattern), name)

    return [route for route in walk(get_resolver(), "", "") if route.route.startswith(prefix)]


# Answers --------------------------------------------------------------------------------


def messages_of(response) -> list[str]:
    return [str(message).strip() for message in get_messages(response.wsgi_request)]


def is_refusal(response) -> bool:
    """Refused: a 403, or Wagtail's way of saying it, a redirect to the dashboard with
    "Sorry, you do not have permission to access this area"."""
    if response.status_code == 403:
        return True
    return (
        response.status_code == 302
        and response.url == reverse("wagtailadmin_home")
        and REFUSED_MESSAGE in messages_of(response)
    )


def describe(response) -> str:
    """What came back, in a line for a failure message."""
    if response.status_code in (301, 302, 303):
        said = "; ".join(messages_of(response))
        return f"{response.status_code} to {response.url}" + (f" ({said})" if said else "")
    return str(response.status_code)


# Forms, filled in as a browser would -----------------------------------------------------


class _FormReader(HTMLParser):
    """The fields of every form of a page, with the values a browser would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._select_first = None
        self._select_chosen = False
        self._textarea = None

    def _add(self, name, value):
        self._form["fields"].setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
                return
            self._add(name, attrs.get("value") or "")
        elif tag == "select" and name and "disabled" not in attrs:
            self._select = {"name": name, "multiple": "multiple" in attrs}
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self._select_chosen = True
                self._add(self._select["name"], value)
        elif tag == "textarea" and name and "disabled" not in attrs:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and not self._select["multiple"]:
                self._add(self._select["name"], self._select_first or "")
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # A browser drops the one newline that may follow <textarea>.
            self._add(name, text[1:] if text.startswith("\n") else text)
            self._textarea = None


def form_data(response) -> dict:
    """The page's main form (its POST form sent to the page itself), as a browser would send
    it unchanged: {name: value, or a list of values for a field sent more than once}."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    path = response.wsgi_request.path
    candidates = [
        form for form in reader.forms if form["method"] == "post" and form["action"] in ("", path)
    ]
    if not candidates:
        raise AssertionError(f"{path} has no form that posts to itself")
    fields = max(candidates, key=lambda form: len(form["fields"]))["fields"]
    fields.pop("csrfmiddlewaretoken", None)
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}


def as_new(data: dict, **changes) -> dict:
    """An edit form's data made into an add form's: its inline rows become new rows."""
    new = {}
    for name, value in data.items():
        if name.endswith("-INITIAL_FORMS"):
            value = "0"
        elif re.search(r"-\d+-id$", name):
            value = ""
        new[name] = value
    return {**new, **changes}
