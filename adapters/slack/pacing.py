"""Spacing of messages to one place across every worker process: Slack allows about one message
per second per channel, and workers on several machines share that budget through Redis."""

from __future__ import annotations

import time

from redis import Redis

# Reserve the next free slot for `key` atomically, on Redis's clock (workers' clocks may differ):
# returns how many ms the caller must wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gap = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
redis.call('SET', KEYS[1], slot + gap, 'PX', slot + gap - now + 1000)
return slot - now
"""


class Pacer:
    def __init__(self, redis: Redis, interval: float = 1.0):
        self.interval = interval
        self._reserve = redis.register_script(_RESERVE)

    def wait(self, key: str) -> float:
        """Sleep until `key` may be used again; returns the seconds slept."""
        delay = int(self._reserve(keys=[f"morningai:pace:{key}"], args=[int(self.interval * 1000)])) / 1000
        if delay > 0:
            time.sleep(delay)
        return delay
