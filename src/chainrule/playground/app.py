"""The playground's Starlette application: the routes and handlers of the page and its JSON API.

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

The checks in front of the routes are ``security``'s, request bodies are read by
``request_body``, the sessions are kept by ``store``, and ``server.serve`` runs the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .config import DATASETS, options, parse_config
from .datasets import GENERATORS, MAX_UPLOAD_BYTES, generate, parse_csv
from .explain import explain_point
from .request_body import RequestError, _body, _json, _require_type
from .security import LOCAL_HOSTS, _Guard
from .store import IDLE_TIMEOUT, MAX_SESSIONS, SessionStore
from .views import state

UPDATE_INTERVAL = 0.15
STREAM_SECONDS = 120.0


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
