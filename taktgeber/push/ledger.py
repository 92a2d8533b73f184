"""The durable push ledger in the warehouse file (DESIGN.md §9).

Append-only: `raw_taktgeber.push_ledger_events` holds one row per draft and state change
(pending → sent → confirmed, or dead_lettered; `refused` when a sent draft's content
changed), `raw_taktgeber.push_ledger_event_lines` the lines with their source ids as
sent with each pending event. The views `push_ledger_state` / `push_ledger_state_lines`
derive the latest state per draft; every append refreshes the rows of the drafts it
touched in the tables dbt reads, `raw_taktgeber.push_ledger` (one row per draft, the
§9 JSON fields + `loaded_at`) and `raw_taktgeber.push_ledger_lines` (one row per line
of the latest content sent). Those two tables are also where `taktgeber build --world`
imports a world's `push_ledger.json` (taktgeber/build.py; same columns).
`raw_taktgeber.push_runs` stores one summary row per run.

The warehouse file takes one writer at a time, so every write opens the file, commits
and closes it again; a lock serialises the job's own threads.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.push.arrow_insert import insert_rows
from taktgeber.push.drafts import SOURCE_ID_KEYS, Draft, DraftLine

SCHEMA = "raw_taktgeber"
EVENTS = f"{SCHEMA}.push_ledger_events"
EVENT_LINES = f"{SCHEMA}.push_ledger_event_lines"
RUNS = f"{SCHEMA}.push_runs"

# Lifecycle states; `refused` is recorded but never replaces a lifecycle state.
# Credit notes go one step further: confirmed (created) → allocated (to their invoice).
ALLOCATED = "allocated"
PENDING, SENT, CONFIRMED, DEAD_LETTERED, REFUSED = (
    "pending",
    "sent",
    "confirmed",
    "dead_lettered",
    "refused",
)
# Ledger JSON / build-imported `status` → lifecycle state.
STATE_BY_JSON_STATUS = {"succeeded": CONFIRMED, "dead_lettered": DEAD_LETTERED}

EVENT_COLUMNS = (
    "event_seq", "run_id", "draft_key", "document_type", "attempt", "state", "event_at",
    "reference", "idempotency_key", "content_hash", "request_hash", "http_status", "response",
    "error", "xero_invoice_id", "xero_invoice_number", "xero_contact_id", "hubspot_company_id",
    "harvest_project_id", "currency_code", "billing_month", "tax_category", "subtotal",
    "total_tax", "total", "invoice_status", "override_gate", "is_imported",
)  # fmt: skip
EVENT_LINE_COLUMNS = (
    "event_seq", "draft_key", "line_no", "kind", "description", "quantity", "unit_amount",
    "line_amount", "account_code", "harvest_project_id", "service_type",
    "harvest_time_entry_ids", "harvest_expense_ids", "hubspot_line_item_ids",
)  # fmt: skip

# The two tables dbt reads (DESIGN.md §9 fields, one row per pushed draft / line): the
# build imports a world's ledger export into them, the job refreshes them from its events.
PUSH_LEDGER_TABLES_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.push_ledger (
    draft_key varchar not null,
    reference varchar,
    idempotency_key varchar,
    status varchar,
    attempts integer,
    pushed_at timestamp,
    xero_invoice_id varchar,
    xero_invoice_number varchar,
    xero_contact_id varchar,
    hubspot_company_id varchar,
    harvest_project_id bigint,
    currency varchar,
    billing_month varchar,
    tax_category varchar,
    subtotal decimal(18, 2),
    total_tax decimal(18, 2),
    total decimal(18, 2),
    loaded_at timestamp
);
create table if not exists {SCHEMA}.push_ledger_lines (
    draft_key varchar not null,
    line_no integer not null,
    kind varchar,
    description varchar,
    quantity decimal(18, 4),
    unit_amount decimal(18, 4),
    line_amount decimal(18, 2),
    account_code varchar,
    harvest_project_id bigint,
    service_type varchar,
    harvest_time_entry_ids bigint[],
    harvest_expense_ids bigint[],
    hubspot_line_item_ids varchar[],
    loaded_at timestamp
);
"""

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {EVENTS} (
    event_seq bigint not null,
    run_id varchar not null,
    draft_key varchar not null,
    document_type varchar not null,
    attempt integer not null,
    state varchar not null,
    event_at timestamp not null,
    reference varchar,
    idempotency_key varchar,
    content_hash varchar,
    request_hash varchar,
    http_status integer,
    response varchar,
    error varchar,
    xero_invoice_id varchar,
    xero_invoice_number varchar,
    xero_contact_id varchar,
    hubspot_company_id varchar,
    harvest_project_id bigint,
    currency_code varchar,
    billing_month varchar,
    tax_category varchar,
    subtotal decimal(18, 2),
    total_tax decimal(18, 2),
    total decimal(18, 2),
    invoice_status varchar,
    override_gate boolean not null default false,
    is_imported boolean not null default false
);
create table if not exists {EVENT_LINES} (
    event_seq bigint not null,
    draft_key varchar not null,
    line_no integer not null,
    kind varchar,
    description varchar,
    quantity decimal(18, 4),
    unit_amount decimal(18, 4),
    line_amount decimal(18, 2),
    account_code varchar,
    harvest_project_id bigint,
    service_type varchar,
    harvest_time_entry_ids bigint[],
    harvest_expense_ids bigint[],
    hubspot_line_item_ids varchar[]
);
create table if not exists {RUNS} (
    run_id varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    outcome varchar not null,
    exit_code integer not null,
    invoice_status varchar,
    override_gate boolean not null,
    dedup boolean not null,
    drafts_ready integer,
    drafts_blocked integer,
    drafts_deferred integer,
    already_confirmed integer,
    confirmed integer,
    found_by_lookup integer,
    dead_lettered integer,
    refused integer,
    unconfirmed integer,
    calls integer,
    gate_reasons varchar,
    summary varchar
);
{PUSH_LEDGER_TABLES_DDL}
create or replace view {SCHEMA}.push_ledger_state as
with lifecycle as (
    select * from {EVENTS} where state <> '{REFUSED}'
),
latest as (
    select * from lifecycle
    qualify row_number() over (partition by draft_key order by event_seq desc) = 1
),
per_draft as (
    select
        draft_key,
        max(attempt) as attempts,
        min(case when state = '{CONFIRMED}' then event_at end) as pushed_at,
        arg_max(xero_invoice_id, event_seq) filter (where xero_invoice_id is not null)
            as xero_invoice_id,
        arg_max(xero_invoice_number, event_seq) filter (where xero_invoice_number is not null)
            as xero_invoice_number,
        arg_max(idempotency_key, event_seq) filter (where idempotency_key is not null)
            as idempotency_key,
        bool_or(override_gate) as override_gate
    from lifecycle
    group by draft_key
),
refusals as (
    select draft_key, max(event_at) as last_refused_at
    from {EVENTS} where state = '{REFUSED}'
    group by draft_key
),
final as (
    select
        latest.draft_key,
        latest.document_type,
        latest.reference,
        per_draft.idempotency_key,
        case
            when latest.state in ('{CONFIRMED}', '{ALLOCATED}') then 'succeeded'
            else latest.state
        end as status,
        per_draft.attempts,
        per_draft.pushed_at,
        per_draft.xero_invoice_id,
        per_draft.xero_invoice_number,
        latest.xero_contact_id,
        latest.hubspot_company_id,
        latest.harvest_project_id,
        latest.currency_code as currency,
        latest.billing_month,
        latest.tax_category,
        latest.subtotal,
        latest.total_tax,
        latest.total,
        latest.invoice_status,
        latest.content_hash,
        latest.error,
        latest.event_at as updated_at,
        per_draft.override_gate,
        refusals.last_refused_at,
        latest.is_imported
    from latest
    inner join per_draft on per_draft.draft_key = latest.draft_key
    left join refusals on refusals.draft_key = latest.draft_key
)
select * from final;
create or replace view {SCHEMA}.push_ledger_state_lines as
with sent_content as (
    select draft_key, max(event_seq) as event_seq
    from {EVENT_LINES}
    group by draft_key
),
final as (
    select
        lines.draft_key,
        lines.line_no,
        lines.kind,
        lines.description,
        lines.quantity,
        lines.unit_amount,
        lines.line_amount,
        lines.account_code,
        lines.harvest_project_id,
        lines.service_type,
        lines.harvest_time_entry_ids,
        lines.harvest_expense_ids,
        lines.hubspot_line_item_ids
    from {EVENT_LINES} as lines
    inner join sent_content
        on sent_content.draft_key = lines.draft_key
        and sent_content.event_seq = lines.event_seq
)
select * from final;
"""


@dataclass(frozen=True)
class LedgerState:
    """The latest lifecycle state of one draft in the ledger."""

    draft_key: str
    state: str
    attempts: int
    content_hash: str | None
    xero_invoice_id: str | None
    xero_invoice_number: str | None
    last_event_at: dt.datetime
    error: str | None


@dataclass
class Event:
    """One ledger row to append. Lines go with pending events (what was sent)."""

    draft: Draft
    state: str
    attempt: int
    run_id: str
    content_hash: str | None = None
    request_hash: str | None = None
    idempotency_key: str | None = None
    http_status: int | None = None
    response: Any = None
    error: str | None = None
    xero_invoice_id: str | None = None
    xero_invoice_number: str | None = None
    invoice_status: str | None = None
    override_gate: bool = False
    is_imported: bool = False
    with_lines: bool = False
    event_at: dt.datetime | None = None
    lines: Sequence[DraftLine] = field(default_factory=tuple)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Ledger:
    """Appends ledger events to the warehouse file, one short write at a time."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = Path(warehouse)
        self._lock = threading.Lock()
        self._held: duckdb.DuckDBPyConnection | None = None
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.execute(_DDL)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The held connection (see `hold`), else a fresh one closed afterwards."""
        with self._lock:
            if self._held is not None:
                yield self._held
                return
            con = duckdb.connect(str(self.warehouse))
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep one connection open while calls are in flight.

        Opening and closing the file costs ≈ 0.3 s (the close checkpoints), too much per
        write at 60 calls a minute; and once a call is out, its result must be writable,
        so no other writer may take the file in between. Each write still commits on
        its own (durable before the next call), and the file is released at the end.
        """
        with self._lock:
            self._held = duckdb.connect(str(self.warehouse))
        try:
            yield
        finally:
            try:
                self.refresh_tables()
            finally:
                with self._lock:
                    held, self._held = self._held, None
                    if held is not None:
                        held.close()

    def states(self) -> dict[str, LedgerState]:
        sql = f"""
            select draft_key, state, attempts, content_hash, xero_invoice_id,
                   xero_invoice_number, event_at, error
            from (
                select *,
                    max(attempt) over (partition by draft_key) as attempts,
                    row_number() over (partition by draft_key order by event_seq desc) as rn
                from {EVENTS} where state <> '{REFUSED}'
            ) where rn = 1
        """
        imported_sql = f"""
            select draft_key, status, attempts, xero_invoice_id, xero_invoice_number, loaded_at
            from {SCHEMA}.push_ledger
            where draft_key not in (select draft_key from {EVENTS})
        """
        with self.connect() as con:
            rows = con.execute(sql).fetchall()
            imported = con.execute(imported_sql).fetchall()
        states = {
            r[0]: LedgerState(
                draft_key=r[0],
                state=STATE_BY_JSON_STATUS.get(str(r[1]).lower(), str(r[1]).lower()),
                attempts=int(r[2] or 1),
                content_hash=None,
                xero_invoice_id=r[3],
                xero_invoice_number=r[4],
                last_event_at=r[5] or utcnow(),
                error=None,
            )
            for r in imported
        }
        return states | {
            r[0]: LedgerState(
                draft_key=r[0],
                state=r[1],
                attempts=int(r[2]),
                content_hash=r[3],
                xero_invoice_id=r[4],
                xero_invoice_number=r[5],
                last_event_at=r[6],
                error=r[7],
            )
            for r in rows
        }

    def append(self, events: Sequence[Event], refresh: bool | None = None) -> None:
        """Append events (and the lines of pending ones) in one committed transaction.

        The dbt-facing tables are refreshed for the drafts touched unless a connection is
        held (a push run refreshes them once at its end: `refresh_tables`).
        """
        if not events:
            return
        now = utcnow()
        if refresh is None:
            refresh = self._held is None
        with self.connect() as con, _transaction(con):
            row = con.execute(f"select coalesce(max(event_seq), 0) from {EVENTS}").fetchall()[0]
            first = int(row[0]) + 1 if row else 1
            seqs = list(range(first, first + len(events)))
            insert_rows(
                con,
                EVENTS,
                EVENT_COLUMNS,
                [_event_row(seq, ev, now) for seq, ev in zip(seqs, events, strict=True)],
            )
            line_rows = [
                _line_row(seq, ev.draft.draft_key, line)
                for seq, ev in zip(seqs, events, strict=True)
                if ev.with_lines
                for line in (ev.lines or ev.draft.lines)
            ]
            insert_rows(con, EVENT_LINES, EVENT_LINE_COLUMNS, line_rows)
            if refresh:
                _refresh(con, sorted({ev.draft.draft_key for ev in events}), now)

    def refresh_tables(self) -> None:
        """Rewrite `push_ledger` / `push_ledger_lines` for every draft with events."""
        with self.connect() as con, _transaction(con):
            _refresh(con, None, utcnow())

    def record_run(self, row: dict[str, Any]) -> None:
        columns = list(row)
        with self.connect() as con:
            con.execute(
                f"insert into {RUNS} ({', '.join(columns)}) "
                f"values ({', '.join(['?'] * len(columns))})",
                [row[c] for c in columns],
            )


_LEDGER_COLUMNS = (
    "draft_key, reference, idempotency_key, status, attempts, pushed_at, xero_invoice_id, "
    "xero_invoice_number, xero_contact_id, hubspot_company_id, harvest_project_id, currency, "
    "billing_month, tax_category, subtotal, total_tax, total"
)
_LINE_COLUMNS = (
    "draft_key, line_no, kind, description, quantity, unit_amount, line_amount, account_code, "
    "harvest_project_id, service_type, harvest_time_entry_ids, harvest_expense_ids, "
    "hubspot_line_item_ids"
)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit on success; roll back on any error so a held connection stays usable."""
    con.execute("begin")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _refresh(con: duckdb.DuckDBPyConnection, keys: list[str] | None, now: dt.datetime) -> None:
    """Rewrite the dbt-facing rows of `keys` (None: every draft with events) from the events.

    Rows of drafts without events (a world's ledger imported by `taktgeber build`) stay.
    """
    scope = (
        "where draft_key in ?"
        if keys is not None
        else (f"where draft_key in (select draft_key from {EVENTS})")
    )
    params = [keys] if keys is not None else []
    for table, view, columns in (
        ("push_ledger", "push_ledger_state", _LEDGER_COLUMNS),
        ("push_ledger_lines", "push_ledger_state_lines", _LINE_COLUMNS),
    ):
        con.execute(f"delete from {SCHEMA}.{table} {scope}", params)
        con.execute(
            f"insert into {SCHEMA}.{table} ({columns}, loaded_at) "
            f"select {columns}, ? from {SCHEMA}.{view} {scope}",
            [now, *params],
        )


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _event_row(seq: int, ev: Event, now: dt.datetime) -> list[Any]:
    d = ev.draft
    response = ev.response
    if response is not None and not isinstance(response, str):
        response = json.dumps(response, default=_json_default, separators=(",", ":"))
    return [
        seq,
        ev.run_id,
        d.draft_key,
        d.document_type,
        ev.attempt,
        ev.state,
        ev.event_at or now,
        d.draft_key,
        ev.idempotency_key,
        ev.content_hash,
        ev.request_hash,
        ev.http_status,
        response,
        ev.error,
        ev.xero_invoice_id,
        ev.xero_invoice_number,
        d.xero_contact_id,
        d.hubspot_company_id,
        d.harvest_project_id,
        d.currency_code,
        d.billing_month,
        d.tax_category,
        d.net,
        d.tax,
        d.gross,
        ev.invoice_status,
        ev.override_gate,
        ev.is_imported,
    ]


def _line_row(seq: int, draft_key: str, line: DraftLine) -> list[Any]:
    ids = line.source_ids
    return [
        seq,
        draft_key,
        line.line_no,
        line.kind,
        line.description,
        line.quantity,
        line.unit_amount,
        line.line_amount,
        line.account_code,
        line.harvest_project_id,
        line.service_type,
        *[ids.get(key) for key in SOURCE_ID_KEYS],
    ]
