"""Per-system rate limits (off unless asked for), and the 429 answers each system gives.

HubSpot: 100 requests per rolling 10 s (search: 5 per second), `X-HubSpot-RateLimit-*`
headers, no Retry-After. Harvest: 100 per rolling 15 s, 429 with Retry-After. Xero: 60 per
rolling minute, 5,000 per rolling day, 5 concurrent; `X-MinLimit-Remaining`,
`X-DayLimit-Remaining`, `X-AppMinLimit-Remaining`; 429 with `X-Rate-Limit-Problem`
(`minute`, `day`, or `concurrent` — the last unconfirmed) and Retry-After."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from taktgeber.sandbox.http import Response, json_response

HUBSPOT_MAX = 100
HUBSPOT_INTERVAL_S = 10.0
HUBSPOT_DAILY = 250_000
HUBSPOT_SEARCH_PER_S = 5
HARVEST_MAX = 100
HARVEST_INTERVAL_S = 15.0
XERO_MINUTE = 60
XERO_DAY = 5_000
XERO_CONCURRENT = 5
XERO_APP_MINUTE = 10_000


def hubspot_429(
    policy: str = "TEN_SECONDLY_ROLLING", remaining_daily: int = HUBSPOT_DAILY
) -> Response:
    label = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "SECONDLY": "secondly"}.get(
        policy, policy.lower()
    )
    response = json_response(
        429,
        {
            "status": "error",
            "message": f"You have reached your {label} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
        },
    )
    response.headers.update(hubspot_headers(0, remaining_daily))
    return response


def hubspot_headers(remaining: int, daily_remaining: int) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Max": str(HUBSPOT_MAX),
        "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(HUBSPOT_INTERVAL_S * 1000)),
        "X-HubSpot-RateLimit-Daily": str(HUBSPOT_DAILY),
        "X-HubSpot-RateLimit-Daily-Remaining": str(max(daily_remaining, 0)),
    }


def harvest_429(retry_after: int) -> Response:
    # Body unconfirmed; Harvest documents only the status and Retry-After.
    response = json_response(429, {"status": 429, "error": "Too Many Requests"})
    response.headers["Retry-After"] = str(retry_after)
    return response


def xero_headers(minute_left: int, day_left: int, app_left: int) -> dict[str, str]:
    return {
        "X-DayLimit-Remaining": str(max(day_left, 0)),
        "X-MinLimit-Remaining": str(max(minute_left, 0)),
        "X-AppMinLimit-Remaining": str(max(app_left, 0)),
    }


def xero_429(problem: str, retry_after: int, headers: dict[str, str] | None = None) -> Response:
    response = json_response(
        429,
        {
            "Type": None,
            "Title": "Too Many Requests",
            "Status": 429,
            "Detail": f"Rate limit exceeded: {problem}",
        },
    )
    response.headers.update(headers or xero_headers(0, XERO_DAY, XERO_APP_MINUTE))
    response.headers["X-Rate-Limit-Problem"] = problem
    response.headers["Retry-After"] = str(retry_after)
    return response


def injected_429(system: str) -> Response:
    """The 429 a fault injects: the system's own body and headers, a 1 s Retry-After."""
    if system == "hubspot":
        return hubspot_429()
    if system == "harvest":
        return harvest_429(1)
    return xero_429("minute", 1)


@dataclass
class Admission:
    rejection: Response | None = None
    headers: dict[str, str] = field(default_factory=dict)
    release: Callable[[], None] = lambda: None


class _Window:
    """Timestamps of admitted requests within a rolling interval."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def prune(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()

    def full(self, now: float) -> bool:
        self.prune(now)
        return len(self.times) >= self.limit

    def wait_seconds(self, now: float) -> int:
        return max(1, math.ceil(self.times[0] + self.seconds - now)) if self.times else 1

    def remaining(self) -> int:
        return self.limit - len(self.times)


class RateLimiter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._hubspot = _Window(HUBSPOT_MAX, HUBSPOT_INTERVAL_S)
        self._hubspot_day = _Window(HUBSPOT_DAILY, 86_400)
        self._hubspot_search = _Window(HUBSPOT_SEARCH_PER_S, 1.0)
        self._harvest = _Window(HARVEST_MAX, HARVEST_INTERVAL_S)
        self._xero_minute = _Window(XERO_MINUTE, 60.0)
        self._xero_day = _Window(XERO_DAY, 86_400)
        self._xero_app = _Window(XERO_APP_MINUTE, 60.0)
        self._xero_in_flight = 0

    def admit(self, system: str, search: bool = False) -> Admission:
        if not self.enabled:
            return Admission()
        now = time.monotonic()
        with self._lock:
            if system == "hubspot":
                return self._admit_hubspot(now, search)
            if system == "harvest":
                if self._harvest.full(now):
                    return Admission(harvest_429(self._harvest.wait_seconds(now)))
                self._harvest.times.append(now)
                return Admission()
            return self._admit_xero(now)

    def _admit_hubspot(self, now: float, search: bool) -> Admission:
        day = self._hubspot_day
        if day.full(now):
            return Admission(hubspot_429("DAILY", 0))
        if self._hubspot.full(now):
            return Admission(hubspot_429("TEN_SECONDLY_ROLLING", day.remaining()))
        if search and self._hubspot_search.full(now):
            return Admission(hubspot_429("SECONDLY", day.remaining()))
        if search:
            self._hubspot_search.times.append(now)
        self._hubspot.times.append(now)
        day.times.append(now)
        return Admission(headers=hubspot_headers(self._hubspot.remaining(), day.remaining()))

    def _admit_xero(self, now: float) -> Admission:
        minute, day, app = self._xero_minute, self._xero_day, self._xero_app
        for window in (minute, day, app):
            window.prune(now)
        left = xero_headers(minute.remaining(), day.remaining(), app.remaining())
        if day.full(now):
            return Admission(xero_429("day", day.wait_seconds(now), left))
        if minute.full(now):
            return Admission(xero_429("minute", minute.wait_seconds(now), left))
        if self._xero_in_flight >= XERO_CONCURRENT:
            return Admission(xero_429("concurrent", 1, left))
        for window in (minute, day, app):
            window.times.append(now)
        self._xero_in_flight += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._xero_in_flight -= 1

        headers = xero_headers(minute.remaining(), day.remaining(), app.remaining())
        return Admission(headers=headers, release=release)
