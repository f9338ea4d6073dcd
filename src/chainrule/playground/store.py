"""The playground's open sessions (one per browser tab): creating, finding and closing them.

``SessionStore`` holds at most ``MAX_SESSIONS`` sessions under random ids and closes idle ones
(``IDLE_TIMEOUT``) when room is needed.
"""

from __future__ import annotations

import secrets
import threading
import time

from .config import parse_config
from .request_body import RequestError
from .session import Session

MAX_SESSIONS = 32
IDLE_TIMEOUT = 15 * 60.0


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
