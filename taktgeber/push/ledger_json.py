"""The push ledger in a world's format: `taktgeber/push_ledger.json` (DESIGN.md §9).

One record per pushed draft: `draft_key`, `reference`, `idempotency_key`, `status`
(`succeeded` | `dead_lettered` | `pending` | `sent`), `attempts`, `pushed_at`,
`xero_invoice_id`, `xero_invoice_number`, `xero_contact_id`, `hubspot_company_id`,
`harvest_project_id`, `currency`, `billing_month`, `tax_category`, `subtotal`,
`total_tax`, `total` (decimal strings) and `lines` (`line_no`, `kind`, `description`,
`quantity`, `unit_amount`, `line_amount`, `account_code`, `harvest_project_id`,
`service_type`, `source_ids`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from taktgeber.config import warehouse_path
from taktgeber.money import to_decimal
from taktgeber.push.drafts import SOURCE_ID_KEYS, Draft, DraftLine
from taktgeber.push.ledger import STATE_BY_JSON_STATUS, Event, Ledger

RECORD_FIELDS = (
    "draft_key",
    "reference",
    "idempotency_key",
    "status",
    "attempts",
    "pushed_at",
    "xero_invoice_id",
    "xero_invoice_number",
    "xero_contact_id",
    "hubspot_company_id",
    "harvest_project_id",
    "currency",
    "billing_month",
    "tax_category",
    "subtotal",
    "total_tax",
    "total",
)
LINE_FIELDS = (
    "line_no",
    "kind",
    "description",
    "quantity",
    "unit_amount",
    "line_amount",
    "account_code",
    "harvest_project_id",
    "service_type",
)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def ledger_records(warehouse: Path) -> list[dict[str, Any]]:
    """The ledger's latest state per draft, as §9 records sorted by draft key."""
    ledger = Ledger(warehouse)
    with ledger.connect() as con:
        cur = con.execute(
            f"select {', '.join(RECORD_FIELDS)} from raw_taktgeber.push_ledger order by draft_key"
        )
        records = [
            {name: _plain(value) for name, value in zip(RECORD_FIELDS, row, strict=True)}
            for row in cur.fetchall()
        ]
        line_cols = (*LINE_FIELDS, *SOURCE_ID_KEYS)
        lines: dict[str, list[dict[str, Any]]] = {}
        for row in con.execute(
            f"select draft_key, {', '.join(line_cols)} from raw_taktgeber.push_ledger_lines "
            "order by draft_key, line_no"
        ).fetchall():
            values = dict(zip(line_cols, row[1:], strict=True))
            line = {name: _plain(values[name]) for name in LINE_FIELDS}
            line["source_ids"] = {key: list(values[key]) for key in SOURCE_ID_KEYS if values[key]}
            lines.setdefault(row[0], []).append(line)
    for record in records:
        record["lines"] = lines.get(record["draft_key"], [])
    return records


def export_ledger(path: Path, warehouse: Path | None = None) -> int:
    """Write the ledger to `path` as a JSON array; returns the number of records."""
    records = ledger_records(warehouse or warehouse_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    return len(records)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _draft_from_record(record: dict[str, Any]) -> Draft:
    lines = []
    for raw in record.get("lines") or []:
        ids = raw.get("source_ids") or {}
        lines.append(
            DraftLine(
                line_no=int(raw["line_no"]),
                kind=str(raw.get("kind") or ""),
                description=str(raw.get("description") or ""),
                quantity=_dec(raw.get("quantity")),
                unit_amount=_dec(raw.get("unit_amount")),
                line_amount=_dec(raw.get("line_amount")),
                account_code=raw.get("account_code"),
                harvest_project_id=raw.get("harvest_project_id"),
                service_type=raw.get("service_type"),
                source_ids={k: list(v) for k, v in ids.items() if k in SOURCE_ID_KEYS},
            )
        )
    return Draft(
        draft_key=str(record["draft_key"]),
        document_type="invoice",
        hubspot_company_id=record.get("hubspot_company_id"),
        xero_contact_id=record.get("xero_contact_id"),
        harvest_project_id=record.get("harvest_project_id"),
        currency_code=str(record.get("currency") or ""),
        billing_month=record.get("billing_month"),
        draft_date=None,
        due_date=None,
        tax_category=record.get("tax_category"),
        xero_tax_type=None,
        net=to_decimal(record.get("subtotal") or 0),
        tax=to_decimal(record.get("total_tax") or 0),
        gross=to_decimal(record.get("total") or 0),
        line_count=len(lines),
        notes=(),
        status="ready",
        reasons=(),
        lines=tuple(lines),
    )


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def import_ledger(path: Path, warehouse: Path | None = None) -> int:
    """Append the records of a §9 JSON file to the ledger; returns how many were new.

    Drafts the ledger already knows are skipped (the ledger is append-only and its own
    history wins). Imported events carry `is_imported` and no content hash, so a later
    change of such a draft cannot be detected and is not refused.
    """
    records = json.loads(Path(path).read_text())
    ledger = Ledger(warehouse or warehouse_path())
    known = ledger.states()
    run_id = f"import:{Path(path).name}"
    events = []
    for record in records:
        if record["draft_key"] in known:
            continue
        draft = _draft_from_record(record)
        state = STATE_BY_JSON_STATUS.get(str(record.get("status")), str(record.get("status")))
        events.append(
            Event(
                draft=draft,
                state=state,
                attempt=int(record.get("attempts") or 1),
                run_id=run_id,
                idempotency_key=record.get("idempotency_key"),
                xero_invoice_id=record.get("xero_invoice_id"),
                xero_invoice_number=record.get("xero_invoice_number"),
                is_imported=True,
                with_lines=True,
                event_at=_timestamp(record.get("pushed_at")),
            )
        )
    ledger.append(events)
    return len(events)
