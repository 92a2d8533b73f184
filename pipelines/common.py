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
import re
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
    dlt's dict path); the Arrow resources turn it off: Arrow's JSON reader parses their
    decimal columns from the number's text (exact, no float on the way).
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
        parser: Callable[[bytes], Any] | None = None,
    ) -> None:
        super().__init__()
        self.parser = parser
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
        if self.parser is not None:
            return self.parser(body)
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
        # exact: a float (only where a caller parsed without Decimal) by its shortest repr;
        # places beyond the column's scale are rounded (half-even, as Decimal does)
        unit = Decimal(1).scaleb(-arrow_type.scale)
        return pa.array(
            [None if v is None else Decimal(str(v)).quantize(unit) for v in values], arrow_type
        )
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return pa.array(values, pa.string()).cast(arrow_type)
    if pa.types.is_string(arrow_type):
        return pa.array([_jsonish(v) for v in values], pa.string())
    return pa.array(values, arrow_type)


def batched(pages: Iterable[Sequence[Any]], size: int) -> Iterable[list[Any]]:
    """Regroup pages of records into batches of `size` (the last may be smaller)."""
    batch: list[Any] = []
    for page in pages:
        batch.extend(page)
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
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

    def filter_arrow(self, table: pa.Table, cursor_column: str, id_column: str) -> pa.Table:
        """`fresh()` for a whole Arrow table (cursor column still as the API's text)."""
        import pyarrow.compute as pc

        if table.num_rows == 0 or cursor_column not in table.column_names:
            return table
        if self._at_start:
            seen = pc.and_(
                pc.equal(table.column(cursor_column), pa.scalar(self.start)),
                pc.is_in(table.column(id_column), pa.array(sorted(self._at_start))),
            )
            table = table.filter(pc.invert(pc.fill_null(seen, False)))
        top = pc.max(table.column(cursor_column)).as_py()
        if top is None or top < self.highest:
            return table
        if top > self.highest:
            self.highest, self._at_highest = top, set()
        at_top = table.filter(pc.equal(table.column(cursor_column), pa.scalar(top)))
        self._at_highest.update(at_top.column(id_column).to_pylist())
        return table

    def save(self) -> None:
        self.state["cursor"] = self.highest
        self.state["ids_at_cursor"] = sorted(self._at_highest, key=str)


# ---------------------------------------------------------------------------------------
# Fast path: pages parsed by Arrow's JSON reader (C++), not Python dicts
# ---------------------------------------------------------------------------------------


def _parse_type(arrow_type: pa.DataType) -> pa.DataType:
    """What the JSON reader should produce for a spec column (cast to the spec type after)."""
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return pa.string()
    return arrow_type  # decimals too: Arrow parses them from the number's text, exactly


def page_schema(
    spec: ArrowTableSpec, data_key: str, envelope: Mapping[str, pa.DataType]
) -> pa.Schema:
    """The envelope's Arrow schema: `data_key` a list of the spec's (nested) records."""
    tree: dict[str, Any] = {}
    for name, arrow_type in spec.columns.items():
        node = tree
        *parents, leaf = name.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _parse_type(arrow_type)

    def build(node: dict[str, Any]) -> pa.DataType:
        return pa.struct(
            [pa.field(k, build(v) if isinstance(v, dict) else v) for k, v in node.items()]
        )

    fields = [pa.field(data_key, pa.list_(build(tree)))]
    fields += [pa.field(k, v) for k, v in envelope.items()]
    return pa.schema(fields)


def _decimal_sent_as_text(schema: pa.Schema) -> re.Pattern[bytes] | None:
    """Arrow's reader takes a JSON string ("12.5") for a DECIMAL field without complaint;
    a number sent as text is a type change, so such a page must go to the dict path,
    which names it. This finds a decimal field's key followed by a string value (a match
    inside a string value is impossible: its quotes would be escaped)."""
    keys: set[str] = set()

    def walk(data_type: pa.DataType, name: str) -> None:
        if pa.types.is_decimal(data_type):
            keys.add(name)
        elif pa.types.is_struct(data_type):
            for child in data_type:
                walk(child.type, child.name)
        elif pa.types.is_list(data_type):
            walk(data_type.value_type, name)

    for field in schema:
        walk(field.type, field.name)
    if not keys:
        return None
    names = b"|".join(re.escape(k.encode()) for k in sorted(keys))
    return re.compile(rb'"(?:' + names + rb')"\s*:\s*"')


def arrow_json_parser(schema: pa.Schema) -> Callable[[bytes], Any]:
    """Parse a page with Arrow's JSON reader into a one-row table; where Arrow refuses (a
    field of another type, say) return Python objects so the slow path can name the
    field; raise ValueError when the body is not JSON at all (a truncated page)."""
    import io

    import pyarrow.json as pj

    parse_options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    money_as_text = _decimal_sent_as_text(schema)

    def parse(body: bytes) -> Any:
        if money_as_text is not None and money_as_text.search(body):
            return json.loads(body, parse_float=Decimal)
        # JSON strings cannot hold raw newlines, so this keeps the document one line long.
        one_line = body.replace(b"\n", b" ").replace(b"\r", b" ")
        read_options = pj.ReadOptions(block_size=len(one_line) + 1, use_threads=False)
        try:
            return pj.read_json(
                io.BytesIO(one_line), read_options=read_options, parse_options=parse_options
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return json.loads(body, parse_float=Decimal)

    return parse


def _flatten_struct_table(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = ["__".join(column_name(p) for p in name.split(".")) for name in table.column_names]
    return table.rename_columns(names)


def records_table(page: pa.Table, data_key: str) -> pa.Table:
    """The page's records (`page[data_key]`, a list of structs) as a flat table."""
    items = pa.concat_arrays(
        [chunk.flatten() for chunk in page.column(data_key).chunks]
        or [pa.array([], page.schema.field(data_key).type.value_type)]
    )
    return _flatten_struct_table(pa.Table.from_struct_array(items))


def conform(table: pa.Table, spec: ArrowTableSpec) -> pa.Table:
    """Cast a flat table to the spec; refuse kind changes; keep (non-null) new columns."""
    arrays: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    present = set(table.column_names)
    for name in table.column_names:
        if name not in spec.columns:
            _refuse_nested_scalar(spec, name, {spec.key: None, name: "(object)"})
    for name, arrow_type in spec.columns.items():
        if name in present:
            column = table.column(name)
            if not _compatible(column.type, spec.kind(name)):
                bad = (
                    pa.compute.drop_null(column)[0].as_py()
                    if column.null_count < len(column)
                    else None
                )
                raise SchemaDriftError(
                    f"{spec.source}: table {spec.table}, column {name} changed type: records "
                    f"have {bad!r} ({column.type}) where {arrow_type} was loaded before. The "
                    "load was stopped; previously loaded data is unchanged."
                )
            arrays.append(column.cast(arrow_type))
        else:
            arrays.append(pa.nulls(table.num_rows, arrow_type))
        fields.append(pa.field(name, arrow_type))
    for name in table.column_names:
        if name in spec.columns:
            continue
        column = table.column(name)
        if pa.types.is_null(column.type):
            continue
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            column = pa.array([_jsonish(v) for v in column.to_pylist()], pa.string())
        arrays.append(column)
        fields.append(pa.field(name, column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _compatible(actual: pa.DataType, kind: str) -> bool:
    if pa.types.is_null(actual):
        return True
    if kind == "number":
        return (
            pa.types.is_integer(actual)
            or pa.types.is_floating(actual)
            or pa.types.is_decimal(actual)
        )
    if kind == "int":
        return pa.types.is_integer(actual)
    if kind == "bool":
        return pa.types.is_boolean(actual)
    return pa.types.is_string(actual) or pa.types.is_large_string(actual)
