"""Xero Accounting API as a dlt source: `raw_xero`.

Paged collections (contacts, invoices, credit notes, payments) and accounts are
declarative (`rest_api`), incremental through the `If-Modified-Since` header on the
`UpdatedDateUTC` cursor. Tax rates are read whole (Xero does not filter them). Journals,
the large resource, are read by `offset` = the last `JournalNumber` loaded; each page is
parsed by Arrow's JSON reader with an explicit schema (money straight into DECIMAL) and
split into two tables, `journals` and `journal_lines`. A page Arrow refuses goes through
Python dicts, which name the offending record and field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.requests import Request, Response
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from dlt.sources.rest_api import RESTAPIConfig, rest_api_resources

from pipelines.common import (
    DECIMAL,
    ArrowTableSpec,
    LoadError,
    ResilientSession,
    RetryPolicy,
    arrow_json_parser,
    column_name,
    conform,
    flatten,
    records_table,
    to_arrow,
)

SANDBOX_BASE_URL = "http://127.0.0.1:8765/xero/api.xro/2.0"
SANDBOX_TOKEN = "sandbox-xero-token"
SANDBOX_TENANT_ID = "7d0c3e5a-0000-4000-8000-000000000001"
EPOCH_CURSOR = "/Date(0000000000000+0000)/"  # 13 digits: compares as text with real values
JOURNALS_PER_PAGE = 100  # fixed by the API

DECIMAL_COLUMNS = (
    r"re:(^|__)(sub_total|total_tax|total|amount_due|amount_paid|amount_credited"
    r"|currency_rate|unit_amount|tax_amount|line_amount|discount_rate|discount_amount|quantity"
    r"|amount|remaining_credit|applied_amount|net_amount|gross_amount|effective_rate|rate"
    r"|total_discount|bank_amount)$"
)


def _text() -> dict[str, Any]:
    return {"data_type": "text", "nullable": True}


# Columns that must exist even when every record so far has them null (dlt creates a column
# only once it sees a value); dbt staging reads them.
NULLABLE_COLUMNS: dict[str, dict[str, Any]] = {
    "contacts": {
        "contact_number": _text(), "account_number": _text(), "tax_number": _text(),
        "email_address": _text(), "default_currency": _text(),
    },
    "invoices": {"reference": _text(), "fully_paid_on_date": _text(), "due_date": _text()},
    "credit_notes": {"reference": _text(), "fully_paid_on_date": _text()},
    "payments": {
        "reference": _text(), "invoice__invoice_id": _text(), "invoice__invoice_number": _text(),
        "credit_note__credit_note_id": _text(), "credit_note__credit_note_number": _text(),
    },
}  # fmt: skip

PAGED = {  # table -> (path, collection key, primary key)
    "contacts": ("Contacts", "Contacts", "ContactID"),
    "invoices": ("Invoices", "Invoices", "InvoiceID"),
    "credit_notes": ("CreditNotes", "CreditNotes", "CreditNoteID"),
    "payments": ("Payments", "Payments", "PaymentID"),
}

JOURNALS = ArrowTableSpec(
    source="xero",
    table="journals",
    key="journal_id",
    columns={
        "journal_id": pa.string(),
        "journal_number": pa.int64(),
        "journal_date": pa.string(),
        "created_date_utc": pa.string(),
        "reference": pa.string(),
        "source_id": pa.string(),
        "source_type": pa.string(),
    },
)
JOURNAL_LINES = ArrowTableSpec(
    source="xero",
    table="journal_lines",
    key="journal_line_id",
    columns={
        "journal_line_id": pa.string(),
        "journal_id": pa.string(),
        "account_id": pa.string(),
        "account_code": pa.string(),
        "account_type": pa.string(),
        "account_name": pa.string(),
        "description": pa.string(),
        "net_amount": DECIMAL,
        "gross_amount": DECIMAL,
        "tax_amount": DECIMAL,
        "tax_type": pa.string(),
        "tax_name": pa.string(),
    },
)

# The API's keys for the declared columns (snake_case column -> Xero's PascalCase key).
JOURNAL_KEYS = {
    "journal_id": "JournalID",
    "journal_number": "JournalNumber",
    "journal_date": "JournalDate",
    "created_date_utc": "CreatedDateUTC",
    "reference": "Reference",
    "source_id": "SourceID",
    "source_type": "SourceType",
}
JOURNAL_LINE_KEYS = {
    "journal_line_id": "JournalLineID",
    "account_id": "AccountID",
    "account_code": "AccountCode",
    "account_type": "AccountType",
    "account_name": "AccountName",
    "description": "Description",
    "net_amount": "NetAmount",
    "gross_amount": "GrossAmount",
    "tax_amount": "TaxAmount",
    "tax_type": "TaxType",
    "tax_name": "TaxName",
}


def _fields(spec: ArrowTableSpec, keys: dict[str, str]) -> list[pa.Field]:
    # Money is read straight into DECIMAL(38, 9) by Arrow's reader: exact, no float step.
    return [pa.field(key, spec.columns[name]) for name, key in keys.items()]


# A Journals page as Arrow's JSON reader should type it; fields not listed here (the
# envelope's, a journal line's `TrackingCategories`, new ones) are inferred.
JOURNALS_PAGE = pa.schema(
    [
        pa.field(
            "Journals",
            pa.list_(
                pa.struct(
                    [
                        *_fields(JOURNALS, JOURNAL_KEYS),
                        pa.field(
                            "JournalLines",
                            pa.list_(pa.struct(_fields(JOURNAL_LINES, JOURNAL_LINE_KEYS))),
                        ),
                    ]
                )
            ),
        )
    ]
)

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def if_modified_since(cursor: str) -> str:
    """`/Date(1552326816230+0000)/` -> `2019-03-11T17:53:36.230+00:00` for the header."""
    match = _MS_DATE.fullmatch(cursor)
    if not match:
        raise LoadError(f"xero: UpdatedDateUTC cursor {cursor!r} is not a /Date(ms)/ value")
    moment = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds")


class XeroPagePaginator(BasePaginator):
    """`page=1,2,…`; stops on a short or empty page or at `pagination.pageCount`."""

    def __init__(self, page_size: int) -> None:
        super().__init__()
        self.page_size = page_size
        self.page = 1

    def init_request(self, request: Request) -> None:
        self.page = 1
        request.params = {**(request.params or {}), "page": 1, "pageSize": self.page_size}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        count = len(data or [])
        page_count = ((response.json() or {}).get("pagination") or {}).get("pageCount")
        last = count < self.page_size or (page_count is not None and self.page >= page_count)
        self._has_next_page = not last
        self.page += 1

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page": self.page}


def make_session(
    access_token: str,
    tenant_id: str,
    policy: RetryPolicy | None,
    decimal_floats: bool,
    stats: dict[str, int] | None = None,
) -> ResilientSession:
    return ResilientSession(
        "xero",
        policy=policy,
        headers={
            "Authorization": f"Bearer {access_token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
        },
        credential_hint=(
            "Check sources.xero.access_token and sources.xero.tenant_id "
            "(.dlt/secrets.toml or SOURCES__XERO__ACCESS_TOKEN / SOURCES__XERO__TENANT_ID)."
        ),
        decimal_floats=decimal_floats,
        stats=stats,
    )


def _incremental_endpoint(path: str, key: str, paginator: BasePaginator) -> dict[str, Any]:
    return {
        "path": path,
        "data_selector": key,
        "paginator": paginator,
        "headers": {"If-Modified-Since": "{incremental.start_value}"},
        "incremental": {
            "cursor_path": "UpdatedDateUTC",
            "initial_value": EPOCH_CURSOR,
            "convert": if_modified_since,
        },
    }


def _declarative_resources(
    base_url: str, session: ResilientSession, page_size: int
) -> list[DltResource]:
    resources: list[Any] = [
        {
            "name": table,
            "primary_key": pk,
            "columns": copy.deepcopy(NULLABLE_COLUMNS.get(table, {})),
            "endpoint": _incremental_endpoint(path, key, XeroPagePaginator(page_size)),
        }
        for table, (path, key, pk) in PAGED.items()
    ]
    resources.append(
        {
            "name": "accounts",
            "primary_key": "AccountID",
            "endpoint": _incremental_endpoint("Accounts", "Accounts", SinglePagePaginator()),
        }
    )
    resources.append(
        {
            "name": "tax_rates",
            "primary_key": "TaxType",
            "endpoint": {
                "path": "TaxRates",
                "data_selector": "TaxRates",
                "paginator": SinglePagePaginator(),
            },
        }
    )
    config: RESTAPIConfig = {
        "client": {"base_url": base_url, "session": session},
        "resource_defaults": {"write_disposition": "merge"},
        "resources": resources,
    }
    return rest_api_resources(config)


def _journal_tables(batch: list[dict[str, Any]]) -> tuple[pa.Table, pa.Table]:
    """The slow path: journals as Python dicts, checked value by value (`to_arrow`), so a
    field of another type is named with its record."""
    headers: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for journal in batch:
        journal_lines = journal.get("JournalLines") or []
        header = flatten({k: v for k, v in journal.items() if k != "JournalLines"})
        headers.append(header)
        for line in journal_lines:
            row = flatten(line)
            row["journal_id"] = header.get("journal_id")
            lines.append(row)
    return to_arrow(headers, JOURNALS), to_arrow(lines, JOURNAL_LINES)


def _arrow_journal_tables(page: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The fast path: a page parsed by Arrow -> flat `journals` and `journal_lines`."""
    flat = records_table(page, "Journals")
    lines_name = column_name("JournalLines")
    lists = flat.column(lines_name).combine_chunks()
    flat = flat.drop_columns([lines_name])
    items = lists.flatten()  # every line of every journal, in order
    parents = pc.list_parent_indices(lists)
    # one list of all lines, so `records_table` flattens them as it does a page
    all_lines = pa.ListArray.from_arrays(pa.array([0, len(items)], pa.int32()), items)
    lines = records_table(pa.table({"lines": all_lines}), "lines")
    lines = lines.append_column("journal_id", flat.column("journal_id").take(parents))
    return conform(flat, JOURNALS), conform(lines, JOURNAL_LINES)


# Arrow's reader takes a JSON string ("12.5") for a DECIMAL field without complaint; a
# money value sent as text is a type change, so such a page goes to the dict path, which
# names it. (A match inside a string value is impossible: its quotes would be escaped.)
_MONEY_AS_TEXT = re.compile(
    rb'"(?:'
    + b"|".join(
        key.encode()
        for name, key in JOURNAL_LINE_KEYS.items()
        if pa.types.is_decimal(JOURNAL_LINES.columns[name])
    )
    + rb')"\s*:\s*"'
)


_NANO = Decimal("1e-9")


def _decimal9(text: str) -> Decimal:
    """A JSON number with a fraction as DECIMAL(38, 9) holds it (rounded past 9 places)."""
    return Decimal(text).quantize(_NANO)


def _journal_parser() -> Any:
    """Arrow's reader with `JOURNALS_PAGE`; a page it refuses (or with money as text) is
    read as Python objects with `Decimal` money instead, for the dict path."""
    fast = arrow_json_parser(JOURNALS_PAGE)

    def parse(body: bytes) -> Any:
        if not _MONEY_AS_TEXT.search(body):
            page = fast(body)
            if isinstance(page, pa.Table):
                return page
        return json.loads(body, parse_float=_decimal9)

    return parse


def _journal_pages(
    session: ResilientSession, base_url: str, offset: int
) -> Iterator[tuple[pa.Table, pa.Table, int]]:
    """`Journals?offset=N` returns the journals numbered above N, at most 100; the next
    offset is the highest number seen. Yields (journals, lines, offset after the page)."""
    url = base_url.rstrip("/") + "/Journals"
    while True:
        page = session.get(url, params={"offset": offset}).json()
        if isinstance(page, pa.Table):
            headers, lines = _arrow_journal_tables(page)
        else:  # Arrow refused the page: the dict path names the offending field
            headers, lines = _journal_tables((page or {}).get("Journals") or [])
        if not headers.num_rows:
            return
        top = pc.max(headers.column("journal_number")).as_py()
        if top is None or top <= offset:
            raise LoadError(f"xero: Journals?offset={offset} returned no newer journal")
        offset = top
        yield headers, lines, offset
        if headers.num_rows < JOURNALS_PER_PAGE:
            return


@dlt.resource(name="journals", primary_key="journal_id", write_disposition="merge")
def journals(session: ResilientSession, base_url: str, batch_rows: int) -> Iterator[Any]:
    """Journals with a number above the last one loaded, plus their lines, as Arrow
    batches of about `batch_rows` journals."""
    state = dlt.current.resource_state()
    start = int(state.get("last_journal_number", 0))
    offset = start
    lines_hints = dlt.mark.make_hints(
        table_name="journal_lines", primary_key="journal_line_id", write_disposition="merge"
    )
    heads: list[pa.Table] = []
    lines: list[pa.Table] = []
    rows = 0

    def flush() -> Iterator[Any]:
        yield pa.concat_tables(heads, promote_options="permissive")
        line_table = pa.concat_tables(lines, promote_options="permissive")
        if line_table.num_rows:
            # a table variant: the resource's own hints (journals, journal_id) stay as they are
            yield dlt.mark.with_hints(line_table, lines_hints, create_table_variant=True)

    for header_table, line_table, offset in _journal_pages(session, base_url, start):
        heads.append(header_table)
        lines.append(line_table)
        rows += header_table.num_rows
        if rows >= batch_rows:
            yield from flush()
            heads, lines, rows = [], [], 0
    if heads:
        yield from flush()
    state["last_journal_number"] = offset


@dlt.source(name="xero")
def xero_source(
    base_url: str = SANDBOX_BASE_URL,
    access_token: TSecretStrValue = SANDBOX_TOKEN,
    tenant_id: str = SANDBOX_TENANT_ID,
    page_size: int = 1000,
    batch_rows: int = 20_000,
    retry: Any = None,
    stats: Any = None,
) -> list[DltResource]:
    """Xero contacts, invoices, credit notes, payments, accounts, tax rates, journals."""
    policy = retry if isinstance(retry, RetryPolicy) else None
    dlt.current.source_schema().update_preferred_types({DECIMAL_COLUMNS: "decimal"})
    declarative = _declarative_resources(
        base_url, make_session(access_token, tenant_id, policy, True, stats), page_size
    )
    arrow_session = make_session(access_token, tenant_id, policy, False, stats)
    arrow_session.parser = _journal_parser()
    return [*declarative, journals(arrow_session, base_url, batch_rows)]
