"""Requests per key per window, with ``Retry-After`` when the window is full (the ``limits`` library)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError
from api.settings import BadSetting


class RateLimits:
    """One moving window per key and kind (``read`` or ``upload``); memory or Redis storage."""

    def __init__(self, storage_url: str, limits: dict[str, str]) -> None:
        try:
            self._items: dict[str, RateLimitItem] = {kind: parse(text) for kind, text in limits.items()}
        except ValueError as exc:
            raise BadSetting(f"cannot read a rate limit in {limits}: {exc}; "
                             "write it like 600/minute") from exc
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def hit(self, kind: str, key: str) -> None:
        """Count one request of ``key``; raise 429 with ``Retry-After`` when over the limit."""
        item = self._items[kind]
        if self._limiter.hit(item, key):
            return
        reset = self._limiter.get_window_stats(item, key).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, "rate_limited",
                       f"this key made more than {item} {kind} requests; retry in {wait} s",
                       {"limit": str(item), "retry_after_s": wait}, {"Retry-After": str(wait)})
