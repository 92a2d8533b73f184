"""Shared loader machinery: a resilient HTTP session, errors, and Arrow record conversion.

Every source talks to its API through :class:`ResilientSession`, so retries, rate limits
and error messages live in one place:

- 429: wait `Retry-After` seconds when the API sends it (Harvest, Xero), else back off
  exponentially (HubSpot sends none), capped;
- 5xx, dropped connections, and 2xx bodies that are not valid JSON (truncated pages):
  back off and retry;
- 401/403: fail at once with :class:`SourceAuthError` naming the source and the setting;
- any other 4xx, or retries exhausted: :class:`SourceHTTPError`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import requests
from dlt.common.normalizers.naming.snake_case import NamingConvention

log = logging.getLogger("taktgeber.load")

DECIMAL = pa.decimal128(38, 9)  # dlt's default decimal precision, so both paths agree
TIMESTAMP = pa.timestamp("us", tz="UTC")


class LoadError(Exception):
    """A load failed; the message names the source, resource/table, record and field."""


class SourceAuthError(LoadError):
    """The API refused the credentials (401/403)."""


class SourceHTTPError(LoadError):
    """The API answered with an error, or kept failing after every retry."""


class SchemaDriftError(LoadError):
    """A field changed its type; the load is refused so no mixed data lands."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. `max_attempts` counts the first try."""

    max_attempts: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    timeout: float = 60.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ResilientSession(requests.Session):
    """A `requests.Session` that retries what is safe to retry and names what failed.

    `decimal_floats` parses JSON numbers with a fraction as `Decimal` (money stays exact on
    dlt's dict path); the Arrow resources turn it off and cast columns instead.
    The parsed body is cached on the response, so paginators and dlt read it once.
    """

    def __init__(
        self,
        source: str,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        credential_hint: str = "",
        decimal_floats: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        stats: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.policy = policy or RetryPolicy()
        self.credential_hint = credential_hint
        self.decimal_floats = decimal_floats
        self.sleep = sleep
        self.stats: dict[str, int] = stats if stats is not None else {}
        if headers:
            self.headers.update(headers)

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.policy.timeout)
        path = urlsplit(request.url or "").path
        what = f"{self.source}: {request.method} {path}"
        last = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            self._count("requests")
            wait: float | None = None
            try:
                try:
                    response = super().send(request, **kwargs)
                except requests.HTTPError as exc:  # a response hook (dlt's) raised on status
                    if exc.response is None:
                        raise
                    response = exc.response
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                self._count("dropped")
                last = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if status in (401, 403):
                    raise SourceAuthError(
                        f"{what} was refused with {status}: the credentials are wrong or lack "
                        f"access. {self.credential_hint} Response: {response.text[:200]!r}"
                    )
                if status == 429:
                    self._count("rate_limited")
                    last = "429 rate limited"
                    after = _retry_after_seconds(response.headers.get("Retry-After"))
                    if after is not None:
                        wait = min(after, self.policy.retry_after_cap)
                elif status >= 500:
                    self._count("server_error")
                    last = f"{status} server error"
                elif status >= 400:
                    raise SourceHTTPError(f"{what} failed with {status}: {response.text[:300]!r}")
                else:
                    try:
                        parsed = self._parse(response)
                    except ValueError as exc:
                        self._count("truncated")
                        last = f"body is not valid JSON ({exc})"
                    else:
                        response.json = lambda _p=parsed, **_kw: _p  # type: ignore[method-assign]
                        return response
            if attempt == self.policy.max_attempts:
                break
            delay = self.policy.backoff(attempt) if wait is None else wait
            log.warning("%s: %s; retry %d in %.2fs", what, last, attempt, delay)
            self.sleep(delay)
        raise SourceHTTPError(
            f"{what} failed {self.policy.max_attempts} times, giving up; last: {last}"
        )

    def _parse(self, response: requests.Response) -> Any:
        body = response.content
        if not body:
            return None
        if self.decimal_floats:
            return json.loads(body, parse_float=Decimal)
        return json.loads(body)


# ---------------------------------------------------------------------------------------
# Arrow conversion (large resources)
# ---------------------------------------------------------------------------------------

_naming = NamingConvention()
_name_cache: dict[str, str] = {}


def column_name(key: str) -> str:
    """dlt's snake_case name for an API key (`JournalLineID` -> `journal_line_id`)."""
    name = _name_cache.get(key)
    if name is None:
        name = _name_cache[key] = _naming.normalize_identifier(key)
    return name


def flatten(
    record: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Nested objects flattened with `__` as dlt does; lists kept; nulls left out."""
    if out is None:
        out = {}
    for key, value in record.items():
        if value is None:
            continue
        name = prefix + column_name(key)
        if isinstance(value, dict):
            flatten(value, name + "__", out)
        else:
            out[name] = value
    return out


# The JSON value kinds each Arrow type accepts (bool is not a number here).
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "number": (int, float, Decimal),
    "bool": (bool,),
    "timestamp": (str,),
    "date": (str,),
}


@dataclass(frozen=True)
class ArrowTableSpec:
    """Explicit Arrow columns for a flattened table; unknown fields become new columns."""

    source: str
    table: str
    key: str
    columns: Mapping[str, pa.DataType]

    def kind(self, column: str) -> str:
        t = self.columns[column]
        if pa.types.is_boolean(t):
            return "bool"
        if pa.types.is_integer(t):
            return "int"
        if pa.types.is_decimal(t) or pa.types.is_floating(t):
            return "number"
        if pa.types.is_timestamp(t):
            return "timestamp"
        if pa.types.is_date(t):
            return "date"
        return "string"


def _infer_type(values: Sequence[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.string()
    if kinds <= {bool}:
        return pa.bool_()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float, Decimal}:
        return DECIMAL
    return pa.string()


def _jsonish(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def to_arrow(rows: Sequence[Mapping[str, Any]], spec: ArrowTableSpec) -> pa.Table:
    """Build an Arrow table from flattened rows with the spec's explicit types.

    A known column holding a value of another JSON kind (a number as a string, say) is a
    type change: raise :class:`SchemaDriftError` naming source, table, column and record.
    Unknown columns are kept, typed from their values.
    """
    names: dict[str, None] = dict.fromkeys(spec.columns)
    for row in rows:
        for name in row:
            if name not in names:
                _refuse_nested_scalar(spec, name, row)
                names[name] = None
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for name in names:
        values = [row.get(name) for row in rows]
        if name in spec.columns:
            arrow_type = spec.columns[name]
            accepted = _ACCEPTS[spec.kind(name)]
            for row, value in zip(rows, values, strict=True):
                if value is not None and (
                    not isinstance(value, accepted)
                    or (isinstance(value, bool) and bool not in accepted)
                ):
                    raise SchemaDriftError(
                        f"{spec.source}: table {spec.table}, column {name} changed type: "
                        f"record {spec.key}={row.get(spec.key)!r} has {value!r} "
                        f"({type(value).__name__}) where {arrow_type} was loaded before. "
                        "The load was stopped; previously loaded data is unchanged."
                    )
            arrays.append(_typed_array(values, arrow_type))
        else:
            values = [_jsonish(v) if isinstance(v, list | dict) else v for v in values]
            arrow_type = _infer_type(values)
            arrays.append(_typed_array(values, arrow_type))
        fields.append(pa.field(name, arrow_type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _refuse_nested_scalar(spec: ArrowTableSpec, name: str, row: Mapping[str, Any]) -> None:
    """`hours__value` appearing means `hours` (a known scalar) arrived as an object, and
    `user` appearing where `user__id` is known means an object arrived as a scalar."""
    if any(known.startswith(name + "__") for known in spec.columns):
        raise SchemaDriftError(
            f"{spec.source}: table {spec.table}, column {name} changed type: record "
            f"{spec.key}={row.get(spec.key)!r} has {row.get(name)!r} where an object was "
            "loaded before. The load was stopped; previously loaded data is unchanged."
        )
    parts = name.split("__")
    for i in range(1, len(parts)):
        parent = "__".join(parts[:i])
        if parent in spec.columns:
            raise SchemaDriftError(
                f"{spec.source}: table {spec.table}, column {parent} changed type: record "
                f"{spec.key}={row.get(spec.key)!r} has an object where {spec.columns[parent]} "
                "was loaded before. The load was stopped; previously loaded data is unchanged."
            )


def _typed_array(values: list[Any], arrow_type: pa.DataType) -> pa.Array:
    if pa.types.is_decimal(arrow_type):
        if any(isinstance(v, Decimal) for v in values):
            return pa.array([None if v is None else Decimal(v) for v in values], arrow_type)
        return pa.array(values, pa.float64()).cast(arrow_type)
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return pa.array(values, pa.string()).cast(arrow_type)
    if pa.types.is_string(arrow_type):
        return pa.array([_jsonish(v) for v in values], pa.string())
    return pa.array(values, arrow_type)


def batched(pages: Iterable[Sequence[Any]], size: int) -> Iterable[list[Any]]:
    """Group pages of records into batches of at least `size` (the last may be smaller)."""
    batch: list[Any] = []
    for page in pages:
        batch.extend(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Cursor:
    """An incremental cursor kept in a resource's dlt state, with dlt-style boundary dedup.

    APIs filter `>=` the cursor, so the records sitting exactly on it come back next time;
    their ids are remembered and skipped, and a load fetches only what changed.
    """

    def __init__(self, state: dict[str, Any], initial: Any) -> None:
        self.state = state
        self.start = state.get("cursor", initial)
        self._at_start = set(state.get("ids_at_cursor", ()))
        self.highest = self.start
        self._at_highest: set[Any] = set(self._at_start)

    @property
    def first_load(self) -> bool:
        return "cursor" not in self.state

    def fresh(self, value: Any, record_id: Any) -> bool:
        """Track the record's cursor; False when it was loaded at the boundary before."""
        if value is None:
            return True
        if value == self.start and record_id in self._at_start:
            return False
        if value > self.highest:
            self.highest = value
            self._at_highest = {record_id}
        elif value == self.highest:
            self._at_highest.add(record_id)
        return True

    def save(self) -> None:
        self.state["cursor"] = self.highest
        self.state["ids_at_cursor"] = sorted(self._at_highest, key=str)
