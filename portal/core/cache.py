"""Numbers every visitor sees alike, computed once and shared for a while."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from portal.extensions import cache

T = TypeVar("T")


def shared(key: tuple, produce: Callable[[], T]) -> T:
    """`produce()` once per CACHE_DEFAULT_TIMEOUT (STATS_CACHE_SECONDS) seconds,
    in Redis when REDIS_URL is set, so every app process shares the result.
    Only for public figures that may be a few minutes old."""
    name = "shared:" + hashlib.sha256(repr(key).encode()).hexdigest()
    value = cache.get(name)
    if value is None:
        value = produce()
        cache.set(name, value)
    return value
