"""Reading a request's body for the playground's API: size caps, Content-Type and JSON.

A body is refused (413) as soon as it passes its limit, (415) when it is not declared with the
media type the route expects, and (400) when it is not JSON that can be read; ``RequestError``
carries the status and the message the page shows.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request

MAX_JSON_BYTES = 64_000
MAX_JSON_DIGITS = 1000  # longer integers are far outside every setting's range


class RequestError(Exception):
    """A request the server refuses, with the HTTP status and the message for the page."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


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
