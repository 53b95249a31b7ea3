"""coopledger's read-only web view: the relationships, one relationship's state as of a day (as
known at a time), its history with sources and retractions, its timeline picture, one event.

Every page has a stable URL and its data as JSON under /api/ on the same path, the objects the
command line prints with --json. The ledger is opened read-only (the database refuses writes on
the connection) and read through `Queries`, one request at a time. Everything printed is escaped
by the templates; links to sources are followed only for http(s) URLs.
"""

from __future__ import annotations

import socket
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from . import render as view
from .events import DateError, Edtf, parse_asked
from .events.dates import today
from .ledger.errors import LedgerError, NotFound, Unavailable
from .ledger.queries import Queries, known_at
from .ledger.store import Location
from .projections.membership import relationship_id
from .projections.summary import ordinal, summary

TEMPLATES = Path(__file__).resolve().parent / "templates"
# No script runs on these pages, and nothing is loaded from elsewhere.
SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# What a browser asks for beside a page it opens by itself (the timeline picture): a small mark.
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#123c5a"/>'
    '<path d="M3 11h10M3 5h6" stroke="#fff" stroke-width="2"/></svg>'
)


class Refused(Exception):
    """A request the page cannot answer: its status and what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def link(path: str, **params: Any) -> str:
    """A URL of this site: a path (quoted) and the query parameters that have a value."""
    given = {name: value for name, value in params.items() if value not in (None, "", False)}
    return quote(path, safe="/~") + (f"?{urlencode(given)}" if given else "")


def web_url(url: Any) -> str | None:
    """A source's URL when it is one a browser may follow (http or https), else None."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def date_param(request: Request, name: str) -> Edtf | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_asked(text)
    except DateError as error:
        raise Refused(400, f"{name}: {error}") from None


def known_param(request: Request) -> str | None:
    """known_at: an ISO 8601 date or timestamp; the '+' of an offset, a space in a URL, read back."""
    text = request.query_params.get("known_at", "").strip().replace(" ", "+")
    if not text:
        return None
    try:
        return known_at(text)
    except LedgerError as error:
        raise Refused(400, str(error).replace("--known-at", "known_at")) from None


def exact_param(request: Request) -> bool:
    return request.query_params.get("exact", "").lower() in ("1", "on", "true", "yes")


class Site:
    """The web view of one ledger."""

    def __init__(self, queries: Queries):
        self.queries = queries
        self.lock = threading.Lock()  # one connection, one request at a time
        self.drawing = threading.Lock()  # matplotlib's settings are global
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=view.in_order
        )
        self.templates = Jinja2Templates(env=environment)
        self.templates.env.globals.update(
            link=link,
            web_url=web_url,
            summary=summary,
            ordinal=ordinal,
            end_passed=view.end_passed,
            END_PASSED=view.END_PASSED,
        )
        self.templates.env.filters["json"] = view.json_text
        pages: list[tuple[str, str, Callable[..., Any]]] = [
            ("/", "relationships", self.relationships),
            ("/r/{pair}", "state", self.state),
            ("/r/{pair}/history", "history", self.history),
            ("/e/{event}", "event", self.event),
        ]
        routes = [Route(path, self._page(answer, template)) for path, template, answer in pages]
        routes += [Route(f"/api{path}", self._api(answer)) for path, _, answer in pages]
        routes.append(Route("/r/{pair}/timeline.svg", self._guarded(self.timeline)))
        routes.append(
            Route("/favicon.ico", self._guarded(lambda _: Response(ICON, media_type="image/svg+xml")))
        )
        self.app = Starlette(routes=routes)

    # --- answers: (template, context) from a request

    def relationships(self, request: Request) -> dict[str, Any]:
        as_of = date_param(request, "as_of")
        party_written = request.query_params.get("party", "").strip()
        exact = exact_param(request)
        with self.lock:
            party = self._party(party_written) if party_written else None
            rows = self.queries.relationships((as_of or today()).day, exact)
        if party:
            rows = [row for row in rows if party in row["relationship"].split("~")]
        form = {"as_of": as_of.text if as_of else "", "party": party_written, "exact": exact}
        return {"answer": rows, "form": form, "party": party}

    def state(self, request: Request, rel: str) -> dict[str, Any]:
        as_of = date_param(request, "as_of")
        known = known_param(request)
        exact = exact_param(request)
        with self.lock:
            a, b = rel.split("~")
            answer = self.queries.state(a, b, as_of or today(), known, exact)
        form = {"as_of": as_of.text if as_of else "", "known_at": known or "", "exact": exact}
        return {"answer": answer, "form": form, "rel": rel}

    def history(self, request: Request, rel: str) -> dict[str, Any]:
        start, end = date_param(request, "from"), date_param(request, "to")
        known = known_param(request)
        exact = exact_param(request)
        if start and end and start.earliest > end.day:
            raise Refused(400, f"from {start.text} is after to {end.text}")
        with self.lock:
            a, b = rel.split("~")
            answer = self.queries.history(
                a, b, start.earliest if start else None, end.day if end else None, known, exact
            )
        form = {
            "from": start.text if start else "",
            "to": end.text if end else "",
            "known_at": known or "",
            "exact": exact,
        }
        return {"answer": answer, "form": form, "rel": rel}

    def event(self, request: Request, event: str) -> dict[str, Any]:
        with self.lock:
            return {"answer": view.shown(*self.queries.show(event))}

    def timeline(self, request: Request) -> Response:
        from .projections.timeline import draw

        rel = self._canonical(request)
        as_of = date_param(request, "as_of")  # None: the query's default, today
        known = known_param(request)
        exact = exact_param(request)
        with self.lock:
            a, b = rel.split("~")
            picture = self.queries.timeline(a, b, as_of, known, exact)
        with self.drawing, tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "timeline.svg"
            draw(picture, path)
            svg = path.read_bytes()
        return Response(svg, media_type="image/svg+xml")

    # --- how answers become pages and JSON

    def _page(self, answer: Callable[..., dict[str, Any]], template: str) -> Callable[[Request], Any]:
        def page(request: Request) -> Response:
            context = self._answer(request, answer)
            if isinstance(context, Response):
                return context
            return self.templates.TemplateResponse(request, f"{template}.html", context)

        return self._guarded(page)

    def _api(self, answer: Callable[..., dict[str, Any]]) -> Callable[[Request], Any]:
        def api(request: Request) -> Response:
            context = self._answer(request, answer)
            if isinstance(context, Response):
                return context
            return Response(view.json_text(context["answer"]) + "\n", media_type="application/json")

        return self._guarded(api, as_json=True)

    def _answer(self, request: Request, answer: Callable[..., dict[str, Any]]) -> dict[str, Any] | Response:
        """The answer's context, or a redirect to the canonical URL of a relationship written otherwise."""
        if "pair" not in request.path_params:
            return answer(request, **request.path_params)
        written = request.path_params["pair"]
        rel = self._canonical(request)
        if rel != written:
            path = request.url.path
            start = path.index("/r/") + 3
            canonical = path[:start] + quote(rel, safe="~") + _rest(path[start:])
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(canonical + query, status_code=302)
        return answer(request, rel)

    def _canonical(self, request: Request) -> str:
        """The relationship A~B a path names, its parties written any way the command line reads."""
        written: str = request.path_params["pair"]
        parts = written.split("~")
        if len(parts) != 2 or not all(part.strip() for part in parts):
            raise Refused(400, f"{written!r}: name a relationship as two parties, A~B (e.g. JPN~KOR)")
        with self.lock:
            a, b = self._party(parts[0].strip()), self._party(parts[1].strip())
        if a == b:
            raise Refused(
                400, f"{written!r}: {parts[0]} and {parts[1]} are the same party; a relationship needs two"
            )
        return relationship_id(a, b)

    def _party(self, written: str) -> str:
        try:
            return self.queries.party(written)
        except LedgerError as error:
            raise Refused(404, str(error)) from None

    def _guarded(
        self, handler: Callable[[Request], Response], as_json: bool = False
    ) -> Callable[[Request], Any]:
        """A handler whose refusals are pages (or JSON) with their status, each with the security headers."""

        def guarded(request: Request) -> Response:
            try:
                _printable(request)
                _given_once(request)
                response = handler(request)
            except Refused as refused:
                response = self._refusal(request, refused.status, str(refused), as_json)
            except NotFound as error:
                response = self._refusal(request, 404, str(error), as_json)
            except Unavailable as error:
                response = self._refusal(request, 503, str(error), as_json)
            except LedgerError as error:
                response = self._refusal(request, 400, str(error), as_json)
            response.headers.update(SECURITY)
            return response

        return guarded

    def _refusal(self, request: Request, status: int, message: str, as_json: bool) -> Response:
        if as_json:
            return Response(view.json_text({"error": message}) + "\n", status, media_type="application/json")
        return self.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )


def _printable(request: Request) -> None:
    """Control characters (a NUL, which PostgreSQL cannot even compare) name no party, event or date."""
    given = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in given:
        if not str(value).isprintable():
            raise Refused(400, f"{name}: {str(value)!r} contains a control character")


def _given_once(request: Request) -> None:
    """A parameter given twice (`as_of=2019&as_of=2020`) asks two questions: refused, not
    answered for whichever came last."""
    given = Counter(name for name, _ in request.query_params.multi_items())
    for name, times in given.items():
        if times > 1:
            raise Refused(400, f"{name}: given {times} times; give it once")


def _rest(path: str) -> str:
    """What follows the pair in a path: '' or '/history'."""
    _, slash, rest = path.partition("/")
    return slash + rest


def app(location: Location) -> Starlette:
    """The web view of the ledger at a location, opened read-only (the store must exist)."""
    queries = Queries(location, read_only=True)
    queries.require()
    return Site(queries).app


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free one), or an error saying why not."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
        sock.listen(128)
    except OSError as error:
        raise LedgerError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror or error})"
        ) from None
    return sock


def serve(location: Location, host: str, port: int, echo: Callable[[str], Any]) -> None:
    """Serve the web view until interrupted."""
    import uvicorn

    site = app(location)
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    echo(f"serving the ledger at {location} read-only on http://{shown}:{bound_port}/ (Ctrl-C to stop)")
    config = uvicorn.Config(site, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
