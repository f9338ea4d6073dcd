"""The playground's HTTP server: a Starlette app serving the page and a small JSON API.

Each browser tab creates its own session (``POST /api/sessions``) and keeps the random id in
memory, so tabs never share a network. The page follows its session through server-sent
events (``GET /api/sessions/{id}/events``): a fresh snapshot whenever something changed, at
most every ``UPDATE_INTERVAL`` seconds. Every request body is size-capped and validated; a bad
value answers 400 with ``{"error": message}``, which the page shows as it is.

API (all JSON unless said otherwise)::

    GET  /api/options                      choices and bounds of every setting
    GET  /api/preview?dataset=&noise=&classes=&seed=   100 points of a built-in dataset
    POST /api/sessions                     {"config": {...}} -> {"id", "state"}
    GET  /api/sessions/{id}/state          the snapshot (see ``views.state``)
    GET  /api/sessions/{id}/data           the training and test points
    GET  /api/sessions/{id}/events         text/event-stream of snapshots
    PUT  /api/sessions/{id}/config         {setting: value, ...}
    POST /api/sessions/{id}/play|pause|step|reset|close
    POST /api/sessions/{id}/upload         raw CSV body; ?problem=classification|regression&filename=
    PUT  /api/sessions/{id}/weight         {"layer", "kind": "W"|"b", "row", "col", "value"}
    POST /api/sessions/{id}/explain        {"split": "train"|"test", "index"}
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import secrets
import socket
import threading
import time
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .config import DATASETS, options, parse_config
from .datasets import GENERATORS, MAX_UPLOAD_BYTES, generate, parse_csv
from .explain import explain_point
from .session import Session
from .views import state

MAX_JSON_BYTES = 64_000
MAX_SESSIONS = 32
IDLE_TIMEOUT = 15 * 60.0
UPDATE_INTERVAL = 0.15
STREAM_SECONDS = 120.0
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
MAX_JSON_DIGITS = 1000  # longer integers are far outside every setting's range
#: headers on every answer: the page may not be framed by another site (clickjacking)
SECURITY_HEADERS = [(b"content-security-policy", b"frame-ancestors 'none'"), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff")]


class RequestError(Exception):
    """A request the server refuses, with the HTTP status and the message for the page."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def allowed_hosts_for(host: str) -> list[str]:
    """The ``Host`` names a server listening on ``host`` accepts: the loopback names, and for
    any other address also that address and this machine's own names. IP addresses are always
    accepted (see ``_Guard``): a DNS-rebinding page reaches the server under its own domain name,
    never under an address."""
    names = list(LOCAL_HOSTS)
    if host not in ("127.0.0.1", "localhost", "::1"):
        for name in (host, socket.gethostname(), socket.getfqdn()):
            name = name.strip().lower()
            if name and name not in ("0.0.0.0", "::") and name not in names:
                names.append(f"[{name}]" if ":" in name else name)
    return names


class _Guard:
    """ASGI middleware in front of every route.

    - ``Host`` must be one of ``allowed_hosts`` (or an IP address when ``allow_addresses``):
      a DNS-rebinding page, whose own domain now resolves to this machine, is refused.
    - A request that changes something (POST, PUT, PATCH, DELETE) is refused when the browser
      says it comes from another site: an ``Origin`` that is not this server's own, or
      ``Sec-Fetch-Site: cross-site`` / ``same-site``. Any web page could otherwise create
      sessions until the page's own tab is locked out, or drive a session.
    - Every answer forbids framing (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``).
    """

    UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self, app, allowed_hosts, allow_addresses: bool = False):
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = {h.lower() for h in allowed_hosts}
        self.allow_addresses = allow_addresses

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message = refusal
            await JSONResponse({"error": message}, status_code=status, headers=_security_headers())(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope, headers):
        host = headers.get("host", "").strip().lower()
        if not self._host_ok(host):
            return 400, (f"this server answers only to {', '.join(sorted(self.hosts))} (got Host {host[:60]!r}); "
                         "open the playground by the address it printed")
        if scope["method"] not in self.UNSAFE:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return 403, f"refused a {scope['method']} request from another site (Sec-Fetch-Site: {site[:30]})"
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{host}"
            if origin.strip().lower() != own:
                return 403, (f"refused a {scope['method']} request from another site (Origin {origin[:60]!r}; "
                             f"this server is {own})")
        return None

    def _host_ok(self, host: str) -> bool:
        if self.any_host:
            return True
        name = re.sub(r":\d+$", "", host)  # the port, if any
        if name in self.hosts:
            return True
        if self.allow_addresses:
            try:
                ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
                return True
            except ValueError:
                return False
        return False


def _security_headers() -> dict:
    return {k.decode(): v.decode() for k, v in SECURITY_HEADERS}


class SessionStore:
    """The open sessions, at most ``max_sessions``; idle ones (no request or event stream for
    ``idle_timeout`` seconds) are closed when room is needed."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, idle_timeout: float = IDLE_TIMEOUT):
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, values: dict) -> Session:
        config = parse_config(values)  # a bad setting fails before a slot is taken
        with self._lock:
            self._reap()
            if len(self._sessions) >= self.max_sessions:
                raise RequestError(f"too many open playground tabs ({self.max_sessions}); close some and reload", 503)
            sid = secrets.token_urlsafe(16)
            session = Session(sid, config)
            self._sessions[sid] = session
        return session

    def get(self, sid: str) -> Session:
        session = self._sessions.get(sid)
        if session is None:
            raise RequestError("this playground session has ended (idle too long or server restarted); reload the page", 404)
        session.touch()
        return session

    def is_open(self, session: Session) -> bool:
        return self._sessions.get(session.id) is session

    def close(self, sid: str) -> None:
        with self._lock:
            session = self._sessions.pop(sid, None)
        if session is not None:
            session.close()

    def close_all(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def __len__(self) -> int:
        return len(self._sessions)

    def _reap(self) -> None:
        now = time.monotonic()
        for sid, session in list(self._sessions.items()):
            if now - session.touched > self.idle_timeout:
                del self._sessions[sid]
                session.close()


def create_app(max_sessions: int = MAX_SESSIONS, idle_timeout: float = IDLE_TIMEOUT, allowed_hosts=None,
               allow_addresses: bool = False) -> Starlette:
    """The playground application.

    Parameters
    ----------
    max_sessions : int
        Open sessions (browser tabs) allowed at once.
    idle_timeout : float
        Seconds after which an unattended session may be closed.
    allowed_hosts : list of str, optional
        Accepted ``Host`` names (default: the loopback names, which blocks DNS-rebinding
        pages from reaching a local server; see ``allowed_hosts_for``); ``["*"]`` accepts any.
    allow_addresses : bool
        Also accept any IP address as ``Host`` (for a server listening on other addresses).

    Requests that change something are refused when they come from another site (see
    ``_Guard``); JSON bodies must be sent as ``application/json`` and uploads as ``text/csv``.
    """
    store = SessionStore(max_sessions, idle_timeout)
    static = resources.files("chainrule.playground") / "static"

    async def index(request):
        with resources.as_file(static / "index.html") as path:
            return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    async def get_options(request):
        return JSONResponse(options())

    async def preview(request):
        """A small sample of a built-in dataset, for the page's dataset buttons."""
        q = request.query_params
        name = q.get("dataset", "")
        if name == "csv" or name not in DATASETS:
            raise RequestError(f"preview needs a built-in dataset ({', '.join(GENERATORS)}); got {name[:30]!r}")
        values = {"dataset": name, "points": 100, "ratio": 90, "loss": "mse", "features": "x1"}
        values.update({k: q[k] for k in ("noise", "classes", "seed") if k in q})
        data = await run_in_threadpool(generate, parse_config(values))
        return JSONResponse({"points": data.points()["train"], "extent": list(data.extent), "task": data.task,
                             "classes": data.classes, "dims": data.dims})

    async def create(request):
        body = await _json(request)
        values = body.get("config", {}) if isinstance(body, dict) else body
        session = await run_in_threadpool(store.create, values)
        return JSONResponse({"id": session.id, "state": await _state(session)})

    async def get_state(request):
        return JSONResponse(await _state(store.get(request.path_params["sid"])))

    async def get_data(request):
        session = store.get(request.path_params["sid"])
        with session.lock:
            payload = {"data_version": session.data_version, **session.data.points()}
        return JSONResponse(payload)

    async def put_config(request):
        session = store.get(request.path_params["sid"])
        await run_in_threadpool(session.apply, await _json(request))
        return JSONResponse(await _state(session))

    async def action(request):
        sid, name = request.path_params["sid"], request.path_params["action"]
        if name == "close":
            store.close(sid)
            return JSONResponse({"closed": True})
        session = store.get(sid)
        handlers = {"play": session.play, "pause": session.pause, "step": session.step, "reset": session.reset}
        if name not in handlers:
            raise RequestError(f"unknown action {name!r}; use play, pause, step, reset or close", 404)
        await run_in_threadpool(handlers[name])
        return JSONResponse(await _state(session))

    async def upload(request):
        session = store.get(request.path_params["sid"])
        problem = request.query_params.get("problem")
        if problem not in (None, "classification", "regression"):
            raise RequestError(f"problem must be classification or regression; got {problem[:30]!r}")
        _require_type(request, ("text/csv",), "the file", "text/csv")
        raw = await _body(request, MAX_UPLOAD_BYTES, "the file")
        upload_obj = await run_in_threadpool(parse_csv, raw, request.query_params.get("filename", "upload.csv"))
        await run_in_threadpool(session.set_upload, upload_obj, problem)
        return JSONResponse({"upload": {**upload_obj.summary(), "problem": session.upload_problem},
                             "state": await _state(session)})

    async def put_weight(request):
        session = store.get(request.path_params["sid"])
        body = await _json(request)
        if not isinstance(body, dict):
            raise RequestError("the weight edit must be a JSON object")
        await run_in_threadpool(session.set_weight, body.get("layer"), body.get("kind", "W"), body.get("row"),
                                body.get("col"), body.get("value"))
        return JSONResponse(await _state(session))

    async def explain(request):
        session = store.get(request.path_params["sid"])
        body = await _json(request)
        if not isinstance(body, dict):
            raise RequestError("the explain request must be a JSON object {split, index}")
        trace = await run_in_threadpool(explain_point, session, body.get("split", "train"), body.get("index", 0))
        return JSONResponse(trace)

    async def events(request):
        session = store.get(request.path_params["sid"])
        try:
            limit = int(request.query_params.get("max_events", "1000000"))
        except ValueError:
            raise RequestError("max_events must be an integer") from None
        if not 1 <= limit <= 1_000_000:
            raise RequestError("max_events must be between 1 and 1000000")

        async def stream():
            yield "retry: 500\n\n"
            last, sent, started, quiet = -1, 0, time.monotonic(), time.monotonic()
            while sent < limit and time.monotonic() - started < STREAM_SECONDS:
                if await request.is_disconnected() or not store.is_open(session):
                    break
                session.touch()
                if session.version != last:
                    snapshot = await _state(session)
                    last = snapshot["version"]
                    sent += 1
                    quiet = time.monotonic()
                    yield f"event: state\ndata: {json.dumps(snapshot)}\n\n"
                elif time.monotonic() - quiet > 10:
                    quiet = time.monotonic()
                    yield ": keep-alive\n\n"
                await asyncio.sleep(UPDATE_INTERVAL)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def refused(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=getattr(exc, "status", 400))

    async def http_error(request, exc):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        store.close_all()

    sid = "/api/sessions/{sid}"
    routes = [
        Route("/", index),
        Route("/api/options", get_options),
        Route("/api/preview", preview),
        Route("/api/sessions", create, methods=["POST"]),
        Route(f"{sid}/state", get_state),
        Route(f"{sid}/data", get_data),
        Route(f"{sid}/events", events),
        Route(f"{sid}/config", put_config, methods=["PUT"]),
        Route(f"{sid}/upload", upload, methods=["POST"]),
        Route(f"{sid}/weight", put_weight, methods=["PUT"]),
        Route(f"{sid}/explain", explain, methods=["POST"]),
        Route(sid + "/{action}", action, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("chainrule.playground", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Guard, allowed_hosts=list(allowed_hosts or LOCAL_HOSTS), allow_addresses=allow_addresses)],
        exception_handlers={RequestError: refused, ValueError: refused, TypeError: refused, HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.store = store
    return app


async def _state(session) -> dict:
    def locked():
        with session.lock:
            return state(session)

    return await run_in_threadpool(locked)


async def _body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"{what} is {int(declared):,} bytes; the limit is {limit:,} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(f"{what} is over the limit of {limit:,} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _require_type(request: Request, accepted, what: str, name: str) -> None:
    """Refuse (415) a body not declared as one of ``accepted`` media types. Browsers let any
    page send text/plain or form bodies to any server without asking; a JSON or CSV type
    needs the server's consent (a CORS preflight), which this server never gives."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";")[0].strip().lower()
    if media not in accepted:
        shown = repr(declared[:60]) if declared else "none"
        raise RequestError(f"{what} must be sent with Content-Type {name}; got {shown}", 415)


class _LongNumber(ValueError):
    def __init__(self, digits: int):
        super().__init__(digits)
        self.digits = digits


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_JSON_DIGITS:
        raise _LongNumber(digits)
    return int(text)


async def _json(request: Request):
    raw = await _body(request, MAX_JSON_BYTES, "the request")
    if not raw.strip():
        return {}
    _require_type(request, ("application/json",), "the request body", "application/json")
    try:
        return json.loads(raw, parse_int=_parse_int)
    except _LongNumber as exc:  # Python's own message would advise sys.set_int_max_str_digits()
        key = re.search(rb'"([^"\\]{1,40})"\s*:\s*-?\d{%d}' % (MAX_JSON_DIGITS + 1), raw)
        where = f"{key.group(1).decode('utf-8', 'replace')}: " if key else ""
        raise RequestError(f"{where}a number with {exc.digits:,} digits is far outside the range of every "
                           "setting; send a value in the setting's range") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:  # e.g. 30,000 nested brackets: under the size cap, over the parser's depth
        raise RequestError("the request body is nested too deeply to be read; send a flat JSON object") from None


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, log_level: str = "warning",
          sock=None) -> None:
    """Run the playground with uvicorn until interrupted; on ``sock`` (a bound socket, so
    that a port in use is found before anything is printed) when given, else on host:port."""
    import uvicorn

    loopback = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(allowed_hosts=allowed_hosts_for(host), allow_addresses=not loopback)
    if open_browser:
        import webbrowser

        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        threading.Timer(1.0, webbrowser.open, args=(f"http://{shown}:{port}/",)).start()
    if sock is None:
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=2)
        return
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # as uvicorn.run: Ctrl-C is the way to stop it
        pass
