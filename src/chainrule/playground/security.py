"""The playground's security checks at the door: ``Host``, ``Origin`` and framing.

``_Guard`` is the ASGI middleware in front of every route: it refuses a ``Host`` the server does
not answer to (a DNS-rebinding page) and a request that changes something when the browser
says it comes from another site, and adds ``SECURITY_HEADERS`` to every answer.
``allowed_hosts_for`` gives the ``Host`` names a server on a given address accepts.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
#: headers on every answer: the page may not be framed by another site (clickjacking)
SECURITY_HEADERS = [(b"content-security-policy", b"frame-ancestors 'none'"), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff")]


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
