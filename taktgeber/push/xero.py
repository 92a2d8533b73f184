"""A small Xero Accounting client for the push job: limits, one call at a time, no magic.

Xero's limits per tenant (specs/source-apis.md): 5 calls in flight, 60 calls a minute.
`CallLimiter` keeps both on our side (a sliding 60-second window, so no fixed minute of
Xero's can see more than 60; a call holds its place from its start until 60 s after its
answer, so Xero's own rolling minute never sees 61 however the latency varies) and
pauses every caller when Xero answers 429 with `Retry-After`. Writes are never retried here: whether a failed PUT took effect is
unknown, and only the job may decide to re-send (after a lookup by Reference).
Reads are retried with capped, jittered, finite backoff.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import requests

from taktgeber.push.payload import dumps_exact

API_PATH = "/xero/api.xro/2.0"
# The sandbox's credentials (docs/sandbox.md) unless the environment names real ones.
SANDBOX_XERO_TOKEN = "sandbox-xero-token"
SANDBOX_XERO_TENANT_ID = "7d0c3e5a-0000-4000-8000-000000000001"


def xero_credentials() -> tuple[str, str]:
    """(token, tenant id) from `TAKTGEBER_XERO_TOKEN` / `TAKTGEBER_XERO_TENANT_ID`."""
    return (
        os.environ.get("TAKTGEBER_XERO_TOKEN", SANDBOX_XERO_TOKEN),
        os.environ.get("TAKTGEBER_XERO_TENANT_ID", SANDBOX_XERO_TENANT_ID),
    )


@dataclass(frozen=True)
class Backoff:
    """Capped, jittered ("full jitter") exponential backoff with a finite number of tries."""

    base: float = 0.5
    cap: float = 30.0
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * (2 ** max(attempt - 1, 0))))


class CallLimiter:
    """≤ `max_in_flight` calls at once and ≤ `per_minute` calls in any `window` seconds.

    Xero counts a call when it arrives: after we start it, before we hear back. So a call
    holds a place in the window from its start until `window` seconds after its answer
    (or its failure): a new call then starts only once the one it replaces arrived at
    Xero a full window ago, whatever either call's latency. Counting from the start
    alone, a slow first call and a quick 61st one drew a 429 (and its Retry-After pause);
    the cost is one call's latency per window."""

    def __init__(self, max_in_flight: int = 5, per_minute: int = 60, window: float = 60.0):
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._per_minute = per_minute
        self._window = window
        self._ended: deque[float] = deque()  # when finished calls ended, ascending
        self._open = 0  # calls started and not yet ended
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.calls = 0

    def pause_until(self, when: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, when)

    def _wait_for_window(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._ended and now - self._ended[0] >= self._window:
                    self._ended.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._ended) + self._open < self._per_minute:
                    self._open += 1
                    self.calls += 1
                    return
                if wait <= 0:  # the oldest place frees up a window after it ended
                    wait = self._window - (now - self._ended[0]) if self._ended else 0.01
            time.sleep(min(max(wait, 0.005), 1.0))

    def _end(self) -> None:
        with self._lock:
            self._open -= 1
            self._ended.append(time.monotonic())

    def __enter__(self) -> Self:
        self._slots.acquire()
        try:
            self._wait_for_window()
        except BaseException:
            self._slots.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()
        self._slots.release()


@dataclass
class XeroAnswer:
    """One HTTP exchange: a status and JSON body, or a transport error (status None)."""

    status: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    @property
    def outcome_unknown(self) -> bool:
        """A write may or may not have taken effect (dropped connection, timeout, 5xx)."""
        return self.status is None or self.status >= 500


class XeroError(RuntimeError):
    pass


class XeroClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        tenant_id: str | None = None,
        limiter: CallLimiter | None = None,
        backoff: Backoff | None = None,
        timeout: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.api = base_url.rstrip("/") + API_PATH
        default_token, default_tenant = xero_credentials()
        token = token or default_token
        tenant_id = tenant_id or default_tenant
        self.headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self.limiter = limiter or CallLimiter()
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.rng = rng or random.Random()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> XeroAnswer:
        """One call within the limits. Never retried; a 429 pauses every caller."""
        headers = dict(self.headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = dumps_exact(body).encode("utf-8") if body is not None else None
        with self.limiter:
            try:
                resp = self._session().request(
                    method,
                    self.api + path,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                self._local.session = None  # the connection is gone; start afresh
                return XeroAnswer(status=None, error=f"{type(exc).__name__}: {exc}")
        answer = XeroAnswer(
            status=resp.status_code, headers={k.lower(): v for k, v in resp.headers.items()}
        )
        try:
            answer.body = resp.json() if resp.content else None
        except ValueError:
            answer.body = resp.text
        if resp.status_code == 429:
            self.limiter.pause_until(time.monotonic() + (answer.retry_after or 1.0))
        return answer

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A read, retried on 429 (after Retry-After), 5xx and transport errors."""
        last: XeroAnswer | None = None
        for attempt in range(1, self.backoff.max_attempts + 1):
            last = self.call("GET", path, params=params)
            if last.status == 200 and isinstance(last.body, dict):
                return last.body
            if last.status == 200:  # a cut or garbled page: read it again
                last.error = "the answer was not a complete JSON object"
            elif last.status is not None and last.status < 500 and last.status != 429:
                break
            if last.status == 429:
                time.sleep(last.retry_after or self.backoff.delay(attempt, self.rng))
            else:
                time.sleep(self.backoff.delay(attempt, self.rng))
        assert last is not None
        raise XeroError(
            f"GET {path} {params or ''} failed: HTTP {last.status} {last.error or last.body!r}"
        )

    def put_batch(
        self, collection: str, elements: list[dict[str, Any]], idempotency_key: str | None
    ) -> XeroAnswer:
        """PUT a batch of Invoices or CreditNotes with per-element errors."""
        return self.call(
            "PUT",
            f"/{collection}",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={collection: elements},
            idempotency_key=idempotency_key,
        )

    def put_invoices(
        self, elements: list[dict[str, Any]], idempotency_key: str | None
    ) -> XeroAnswer:
        return self.call(
            "PUT",
            "/Invoices",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"Invoices": elements},
            idempotency_key=idempotency_key,
        )

    def put_credit_notes(
        self, elements: list[dict[str, Any]], idempotency_key: str | None
    ) -> XeroAnswer:
        return self.call(
            "PUT",
            "/CreditNotes",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"CreditNotes": elements},
            idempotency_key=idempotency_key,
        )

    def allocate_credit_note(
        self, credit_note_id: str, allocation: dict[str, Any], idempotency_key: str
    ) -> XeroAnswer:
        return self.call(
            "PUT",
            f"/CreditNotes/{credit_note_id}/Allocations",
            body={"Allocations": [allocation]},
            idempotency_key=idempotency_key,
        )

    def find_by_references(
        self, references: Iterable[str], collection: str = "Invoices", chunk: int = 25
    ) -> dict[str, dict[str, Any]]:
        """Documents (not DELETED or VOIDED) whose Reference is one of `references`.

        One call per `chunk` references (`Reference=="A" OR Reference=="B"`), paged.
        """
        refs = sorted(set(references))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(refs), chunk):
            part = refs[start : start + chunk]
            where = " OR ".join(f'Reference=="{ref}"' for ref in part)
            page = 1
            while True:
                body = self.get(
                    f"/{collection}", {"where": where, "page": str(page), "pageSize": "1000"}
                )
                records = (body or {}).get(collection) or []
                for record in records:
                    if record.get("Status") in ("DELETED", "VOIDED"):
                        continue
                    ref = record.get("Reference")
                    if ref in part:
                        found.setdefault(ref, record)
                if len(records) < 1000:
                    break
                page += 1
        return found
