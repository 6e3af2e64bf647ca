"""Small helpers the tests share."""

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 20, what: str = "condition"):
    """Poll until predicate() is truthy and return its value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
