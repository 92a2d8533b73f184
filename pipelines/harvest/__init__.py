"""Harvest API v2 as a dlt source: `raw_harvest`.

Small resources are declarative (`rest_api`), following `links.next`, incremental on
`updated_since` (cursor `updated_at`). Time entries, the large resource, go through Arrow
with an explicit schema; their cursor lives in the resource state.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from dlt.sources.rest_api import RESTAPIConfig, rest_api_resources

from pipelines.common import (
    DECIMAL,
    TIMESTAMP,
    ArrowTableSpec,
    Cursor,
    ResilientSession,
    RetryPolicy,
    arrow_json_parser,
    conform,
    flatten,
    page_schema,
    records_table,
    to_arrow,
)

SANDBOX_BASE_URL = "http://127.0.0.1:8765/harvest/v2"
SANDBOX_TOKEN = "sandbox-harvest-token"
SANDBOX_ACCOUNT_ID = "100001"
EPOCH = "1970-01-01T00:00:00Z"

SMALL_RESOURCES = ("clients", "projects", "tasks", "task_assignments", "users", "expenses")


# Columns that must exist even when every record so far has them null (dlt creates a column
# only once it sees a value); dbt staging reads them.
def _text() -> dict[str, Any]:
    return {"data_type": "text", "nullable": True}


def _int() -> dict[str, Any]:
    return {"data_type": "bigint", "nullable": True}


def _dec() -> dict[str, Any]:
    return {"data_type": "decimal", "nullable": True}


NULLABLE_COLUMNS: dict[str, dict[str, Any]] = {
    "projects": {
        "code": _text(), "hourly_rate": _dec(), "budget": _dec(), "cost_budget": _dec(), "fee": _dec(),
        "notes": _text(), "starts_on": _text(), "ends_on": _text(),
    },
    "expenses": {
        "invoice__id": _int(), "invoice__number": _text(), "units": _dec(), "notes": _text(),
        "expense_category__unit_price": _dec(),
    },
    "task_assignments": {"hourly_rate": _dec(), "budget": _dec()},
    "tasks": {"default_hourly_rate": _dec()},
    "users": {"default_hourly_rate": _dec(), "cost_rate": _dec()},
    "clients": {"address": _text()},
}  # fmt: skip

# Numbers that are money or quantities: DECIMAL on every table, whatever JSON sends first.
DECIMAL_COLUMNS = (
    r"re:(^|__)(hourly_rate|default_hourly_rate|cost_rate|billable_rate|budget|cost_budget"
    r"|fee|total_cost|units|unit_price|hours|rounded_hours)$"
)

TIME_ENTRIES = ArrowTableSpec(
    source="harvest",
    table="time_entries",
    key="id",
    columns={
        "id": pa.int64(),
        "spent_date": pa.date32(),
        "hours": DECIMAL,
        "rounded_hours": DECIMAL,
        "notes": pa.string(),
        "is_locked": pa.bool_(),
        "locked_reason": pa.string(),
        "is_closed": pa.bool_(),
        "is_billed": pa.bool_(),
        "is_running": pa.bool_(),
        "billable": pa.bool_(),
        "billable_rate": DECIMAL,
        "cost_rate": DECIMAL,
        "budgeted": pa.bool_(),
        "user__id": pa.int64(),
        "user__name": pa.string(),
        "client__id": pa.int64(),
        "client__name": pa.string(),
        "client__currency": pa.string(),
        "project__id": pa.int64(),
        "project__name": pa.string(),
        "project__code": pa.string(),
        "task__id": pa.int64(),
        "task__name": pa.string(),
        "hours_without_timer": DECIMAL,
        "timer_started_at": TIMESTAMP,
        "started_time": pa.string(),
        "ended_time": pa.string(),
        "user_assignment__id": pa.int64(),
        "user_assignment__is_project_manager": pa.bool_(),
        "user_assignment__is_active": pa.bool_(),
        "user_assignment__use_default_rates": pa.bool_(),
        "user_assignment__budget": DECIMAL,
        "user_assignment__hourly_rate": DECIMAL,
        "user_assignment__created_at": TIMESTAMP,
        "user_assignment__updated_at": TIMESTAMP,
        "task_assignment__id": pa.int64(),
        "task_assignment__billable": pa.bool_(),
        "task_assignment__is_active": pa.bool_(),
        "task_assignment__budget": DECIMAL,
        "task_assignment__hourly_rate": DECIMAL,
        "task_assignment__created_at": TIMESTAMP,
        "task_assignment__updated_at": TIMESTAMP,
        "invoice__id": pa.int64(),
        "invoice__number": pa.string(),
        "external_reference": pa.string(),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
)


# The slow path builds the same text-typed table the Arrow reader gives, then `conform()`.
TIME_ENTRIES_TEXT = ArrowTableSpec(
    source=TIME_ENTRIES.source,
    table=TIME_ENTRIES.table,
    key=TIME_ENTRIES.key,
    columns={
        name: pa.string() if pa.types.is_timestamp(t) or pa.types.is_date(t) else t
        for name, t in TIME_ENTRIES.columns.items()
    },
)


def make_session(
    access_token: str,
    account_id: str,
    user_agent: str,
    policy: RetryPolicy | None,
    decimal_floats: bool,
    stats: dict[str, int] | None = None,
) -> ResilientSession:
    return ResilientSession(
        "harvest",
        policy=policy,
        headers={
            "Authorization": f"Bearer {access_token}",
            "Harvest-Account-Id": str(account_id),
            "User-Agent": user_agent,
            "Accept": "application/json",
        },
        credential_hint=(
            "Check sources.harvest.access_token and sources.harvest.account_id "
            "(.dlt/secrets.toml or SOURCES__HARVEST__ACCESS_TOKEN / SOURCES__HARVEST__ACCOUNT_ID)."
        ),
        decimal_floats=decimal_floats,
        stats=stats,
    )


def _small_resources(base_url: str, session: ResilientSession, page_size: int) -> list[DltResource]:
    config: RESTAPIConfig = {
        "client": {
            "base_url": base_url,
            "session": session,
            "paginator": JSONLinkPaginator(next_url_path="links.next"),
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": page_size}},
        },
        "resources": [
            {
                "name": name,
                "columns": copy.deepcopy(NULLABLE_COLUMNS.get(name, {})),
                "endpoint": {
                    "path": name,
                    "data_selector": name,
                    "params": {"updated_since": "{incremental.start_value}"},
                    "incremental": {"cursor_path": "updated_at", "initial_value": EPOCH},
                },
            }
            for name in SMALL_RESOURCES
        ],
    }
    return rest_api_resources(config)


TIME_ENTRIES_PAGE = page_schema(
    TIME_ENTRIES, "time_entries", {"links": pa.struct([pa.field("next", pa.string())])}
)


def _time_entry_pages(
    session: ResilientSession, base_url: str, page_size: int, since: str
) -> Iterator[pa.Table]:
    """Pages of time entries as flat Arrow tables (cursor columns still text)."""
    url: str | None = base_url.rstrip("/") + "/time_entries"
    params: dict[str, Any] | None = {"per_page": page_size, "updated_since": since}
    while url:
        page = session.get(url, params=params).json()
        params = None  # `links.next` carries every parameter
        if isinstance(page, pa.Table):
            table = records_table(page, "time_entries")
            links = page.column("links").to_pylist()[0] or {}
        else:  # Arrow refused the page: the dict path names the offending field
            rows = [flatten(record) for record in page.get("time_entries") or []]
            table = to_arrow(rows, TIME_ENTRIES_TEXT) if rows else pa.table({})
            links = page.get("links") or {}
        url = links.get("next")
        yield table


@dlt.resource(name="time_entries", primary_key="id", write_disposition="merge")
def time_entries(
    session: ResilientSession, base_url: str, page_size: int, batch_rows: int
) -> Iterator[pa.Table]:
    """All time entries updated since the last load, as Arrow batches."""
    cursor = Cursor(dlt.current.resource_state(), EPOCH)
    batch: list[pa.Table] = []
    rows = 0
    for table in _time_entry_pages(session, base_url, page_size, cursor.start):
        table = cursor.filter_arrow(table, "updated_at", "id")
        if table.num_rows:
            batch.append(conform(table, TIME_ENTRIES))
            rows += table.num_rows
        if rows >= batch_rows:
            yield pa.concat_tables(batch, promote_options="permissive")
            batch, rows = [], 0
    if batch:
        yield pa.concat_tables(batch, promote_options="permissive")
    cursor.save()


@dlt.source(name="harvest")
def harvest_source(
    base_url: str = SANDBOX_BASE_URL,
    access_token: TSecretStrValue = SANDBOX_TOKEN,
    account_id: str = SANDBOX_ACCOUNT_ID,
    user_agent: str = "taktgeber (taktgeber@example.com)",
    page_size: int = 2000,
    batch_rows: int = 50_000,
    retry: Any = None,
    stats: Any = None,
) -> list[DltResource]:
    """Harvest clients, projects, tasks, task assignments, users, expenses, time entries."""
    policy = retry if isinstance(retry, RetryPolicy) else None
    dlt.current.source_schema().update_preferred_types({DECIMAL_COLUMNS: "decimal"})
    small = _small_resources(
        base_url, make_session(access_token, account_id, user_agent, policy, True, stats), page_size
    )
    arrow_session = make_session(access_token, account_id, user_agent, policy, False, stats)
    arrow_session.parser = arrow_json_parser(TIME_ENTRIES_PAGE)
    return [*small, time_entries(arrow_session, base_url, page_size, batch_rows)]
