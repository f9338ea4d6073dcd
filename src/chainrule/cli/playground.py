"""``chainrule playground``: start the local web playground (a Starlette app under uvicorn)."""

from __future__ import annotations

import sys

from .. import kernels_cpu

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "playground",
        help="start the local web playground",
        description="Serve the chainrule playground: train small networks on 2-D data in the browser, "
        "with chainrule's own backpropagation running in this process. Binds to 127.0.0.1 unless "
        "--host says otherwise. Stop it with Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on, 1-65535 (default: 8000)")
    parser.add_argument("--open", action="store_true", help="open the page in the default web browser")
    parser.set_defaults(handler=run)


def run(args) -> int:
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535, got {args.port}")
    host = args.host.strip()
    if not host:
        raise ValueError("--host must not be empty")
    kernels_cpu.check_setting()
    try:
        from ..playground import serve
    except ImportError as exc:  # starlette/uvicorn are the optional "playground" extra
        raise OSError(f"the playground needs starlette and uvicorn (pip install 'chainrule[playground]'): {exc}") from None
    sock = listen(host, args.port)  # before the banner: a port in use is one line, not uvicorn's ERROR
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    print(f"chainrule playground: http://{shown}:{args.port}/  (Ctrl-C to stop)", file=sys.stderr)
    if host not in LOOPBACK:
        print(f"chainrule playground: listening on {host}: other machines can reach this server", file=sys.stderr)
    serve(host=host, port=args.port, open_browser=args.open, sock=sock)
    return 0


def listen(host: str, port: int):
    """A socket listening on ``host:port``, bound as uvicorn binds one (IPv6 for an address
    with ':'; the address reusable), or a ValueError saying what stands in the way."""
    import errno
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        sock.set_inheritable(True)
    except socket.gaierror as exc:
        sock.close()
        raise ValueError(f"--host {host}: not a known host name or address ({exc.strerror})") from None
    except OSError as exc:
        sock.close()
        reasons = {errno.EADDRINUSE: f"--port {port}: port {port} on {host} is already in use (another playground or "
                                     "server?); choose another --port",
                   errno.EADDRNOTAVAIL: f"--host {host}: not an address of this machine",
                   errno.EACCES: f"--port {port}: permission denied (ports below 1024 need administrator rights)"}
        raise ValueError(reasons.get(exc.errno, f"cannot listen on {host}:{port} ({exc.strerror})")) from None
    return sock
