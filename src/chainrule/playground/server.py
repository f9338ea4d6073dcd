"""Running the playground: ``serve`` starts the application under uvicorn.

The application itself is ``app.create_app`` (routes and handlers, with the API listed in its
module docstring); the names other modules and tests import from here are re-exported.
"""

from __future__ import annotations

import threading

from .app import STREAM_SECONDS, UPDATE_INTERVAL, create_app
from .request_body import MAX_JSON_BYTES, MAX_JSON_DIGITS, RequestError
from .security import LOCAL_HOSTS, SECURITY_HEADERS, allowed_hosts_for
from .store import IDLE_TIMEOUT, MAX_SESSIONS, SessionStore


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


__all__ = ["IDLE_TIMEOUT", "LOCAL_HOSTS", "MAX_JSON_BYTES", "MAX_JSON_DIGITS", "MAX_SESSIONS", "RequestError",
           "SECURITY_HEADERS", "STREAM_SECONDS", "SessionStore", "UPDATE_INTERVAL", "allowed_hosts_for",
           "create_app", "serve"]
