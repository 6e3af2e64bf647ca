"""Reading a web answer's body within limits, for URL sources (memory/sources.py) and the web
site connector alike: a size cap that also holds for a gzip bomb, and a deadline for the whole
body, since requests' timeout bounds each socket wait, not a server that trickles bytes forever."""

from __future__ import annotations

import time

import requests

from memory.documents import Unreadable


def read_body(response: requests.Response, max_bytes: int, timeout: float, deadline: float) -> bytes:
    """The body of a `stream=True` response; Unreadable past `max_bytes` or the monotonic
    `deadline` (`timeout` is the budget it was set from, for the message)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise Unreadable(f"larger than {max_bytes} bytes")
    body = bytearray()
    try:
        # iter_content decompresses, so the limit holds for what the body becomes.
        for piece in response.iter_content(64 * 1024):
            body += piece
            if len(body) > max_bytes:
                raise Unreadable(f"larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise Unreadable(f"timed out after {timeout:g} s")
    except requests.RequestException as error:
        raise failure(error, timeout) from error
    return bytes(body)


def failure(error: requests.RequestException, timeout: float) -> Unreadable:
    """A request that failed on the way, as the reason a skipped page shows."""
    if isinstance(error, requests.Timeout):
        return Unreadable(f"timed out after {timeout:g} s")
    if isinstance(error, requests.ConnectionError):
        return Unreadable(f"connection failed: {error}")
    return Unreadable(f"fetch failed: {error}")
