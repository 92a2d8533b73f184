"""What the push job sends to Xero for a draft, and the hashes and keys derived from it.

- `Reference` = the draft key (DESIGN.md §4), so every pushed invoice can be found again.
- Notes (reverse charge, Skonto) become description-only lines (DESIGN.md §7).
- Money goes out as exact JSON numbers written from Decimal, never through float.
- `content_hash` covers what the customer sees (not the invoice status we chose to send
  it with); `request_hash` covers the exact element sent.
- The Idempotency-Key of a call is derived from the draft keys and request hashes of the
  drafts in that call, so a replay of the same batch reuses the key and a changed batch
  gets a new one (Xero answers 400 to the same key with a different body).
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from taktgeber.money import allocate_cents
from taktgeber.push.drafts import Draft

IDEMPOTENCY_KEY_PREFIX = "TGB-"
_DECIMAL_MARK = "\u0000dec:"
_DECIMAL_RE = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def _mark_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value:f}"
    if isinstance(value, dict):
        return {k: _mark_decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_decimals(v) for v in value]
    return value


def dumps_exact(value: Any, *, sort_keys: bool = False) -> str:
    """JSON text with every Decimal written as an exact JSON number."""
    text = json.dumps(_mark_decimals(value), sort_keys=sort_keys, separators=(",", ":"))
    return _DECIMAL_RE.sub(r"\1", text)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def line_items(draft: Draft) -> list[dict[str, Any]]:
    """Xero LineItems for a draft: its lines, then its notes as description-only lines."""
    items: list[dict[str, Any]] = []
    priced = [line for line in draft.lines if line.line_amount is not None]
    # The draft's tax is computed once per category (DESIGN.md §7); sending it split over
    # the lines as TaxAmount keeps Xero's total equal to the draft's gross to the cent
    # (left alone, Xero rounds tax per line).
    line_tax = dict(
        zip(
            (id(line) for line in priced),
            allocate_cents(draft.tax, [abs(line.line_amount) for line in priced]),
            strict=True,
        )
    )
    for line in draft.lines:
        item: dict[str, Any] = {"Description": line.description}
        if line.line_amount is None and line.quantity is None and line.unit_amount is None:
            items.append(item)  # a note line already in the mart
            continue
        if line.quantity is not None:
            item["Quantity"] = line.quantity
        if line.unit_amount is not None:
            item["UnitAmount"] = line.unit_amount
        if line.line_amount is not None:
            item["LineAmount"] = line.line_amount
        if line.account_code:
            item["AccountCode"] = line.account_code
        if draft.xero_tax_type:
            item["TaxType"] = draft.xero_tax_type
        if id(line) in line_tax:
            item["TaxAmount"] = line_tax[id(line)]
        items.append(item)
    existing = {item["Description"] for item in items if len(item) == 1}
    items.extend({"Description": note} for note in draft.notes if note not in existing)
    return items


def invoice_element(draft: Draft, status: str) -> dict[str, Any]:
    """One element of `{"Invoices": [...]}` for an invoice draft."""
    element: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": draft.xero_contact_id},
        "Reference": draft.draft_key,
        "CurrencyCode": draft.currency_code,
        "LineAmountTypes": "Exclusive",
        "Status": status,
        "LineItems": line_items(draft),
    }
    if draft.draft_date is not None:
        element["Date"] = draft.draft_date.isoformat()
    if draft.due_date is not None:
        element["DueDate"] = draft.due_date.isoformat()
    return element


def credit_note_element(draft: Draft, status: str) -> dict[str, Any]:
    """One element of `{"CreditNotes": [...]}` for a credit-note draft."""
    element: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": draft.xero_contact_id},
        "Reference": draft.draft_key,
        "CurrencyCode": draft.currency_code,
        "LineAmountTypes": "Exclusive",
        "Status": status,
        "LineItems": line_items(draft),
    }
    if draft.draft_date is not None:
        element["Date"] = draft.draft_date.isoformat()
    return element


def content_hash(draft: Draft) -> str:
    """Hash of the draft's content as the customer sees it (not the status we send)."""
    element = invoice_element(draft, status="")
    del element["Status"]
    element["Totals"] = [draft.net, draft.tax, draft.gross]
    return _sha256(dumps_exact(element, sort_keys=True))


def request_hash(element: dict[str, Any]) -> str:
    return _sha256(dumps_exact(element, sort_keys=True))


def idempotency_key(draft_keys_and_hashes: list[tuple[str, str]]) -> str:
    """Idempotency-Key of one call (≤ 128 characters), from its drafts' keys and hashes."""
    text = ",".join(f"{key}:{digest}" for key, digest in sorted(draft_keys_and_hashes))
    return f"{IDEMPOTENCY_KEY_PREFIX}{_sha256(text)[:40]}"
