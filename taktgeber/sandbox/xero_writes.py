"""Xero writes: PUT/POST Invoices and CreditNotes batches (summarizeErrors, validation,
Idempotency-Key replay) and PUT CreditNotes/{id}/Allocations."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from taktgeber.money import to_decimal
from taktgeber.sandbox.http import Request, Response, json_response
from taktgeber.sandbox.store import Record, World
from taktgeber.sandbox.timefmt import ms_to_xero
from taktgeber.sandbox.xero import envelope, not_found, validation_error
from taktgeber.sandbox.xero_ledger import (
    KINDS,
    DocKind,
    build_document,
    money,
    parse_date,
    post_journal,
)

IDEMPOTENCY_KEY_MAX = 128
IDEMPOTENCY_TTL_S = 360.0  # Xero keeps keys for a limited time (reported: 6 minutes)
EMPTY_ID = "00000000-0000-0000-0000-000000000000"


@dataclass
class _Remembered:
    fingerprint: str
    response: Response
    expires: float


def _problem(status: int, title: str, detail: str) -> Response:
    return json_response(
        status, {"Type": None, "Title": title, "Status": status, "Detail": detail, "Extensions": {}}
    )


def handle(world: World, request: Request, name: str, rest: list[str]) -> Response:
    key = request.header("idempotency-key")
    if key is None:
        return _route(world, request, name, rest)
    if len(key) > IDEMPOTENCY_KEY_MAX:
        return _problem(
            400, "Bad Request", f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters."
        )
    fingerprint = hashlib.sha256(
        b"\n".join((request.method.encode(), request.path.encode(), request.body))
    ).hexdigest()
    store: dict[str, _Remembered] = world.idempotency
    now = time.monotonic()
    remembered = store.get(key)
    if remembered is not None and remembered.expires > now:
        if remembered.fingerprint != fingerprint:
            return _problem(
                400,
                "Bad Request",
                "The Idempotency-Key has already been used with a different request body.",
            )
        first = remembered.response
        return Response(first.status, first.body, dict(first.headers), first.content_type)
    response = _route(world, request, name, rest)
    if response.status < 500:
        store[key] = _Remembered(fingerprint, response, now + IDEMPOTENCY_TTL_S)
    return response


def _route(world: World, request: Request, name: str, rest: list[str]) -> Response:
    kind = KINDS.get(name)
    if kind is None:
        return not_found()
    if not rest:
        return _save_batch(world, request, kind)
    if len(rest) == 1 and request.method == "POST":
        return _save_batch(world, request, kind, target_id=rest[0])
    if kind.collection == "CreditNotes" and len(rest) == 2 and rest[1].lower() == "allocations":
        return _allocate(world, request, rest[0])
    return not_found()


def _elements(payload: Any, kind: DocKind) -> list[Record] | None:
    if isinstance(payload, dict) and isinstance(payload.get(kind.collection), list):
        return payload[kind.collection]
    if isinstance(payload, dict):
        return [payload]  # Xero also takes a single document
    return None


def _save_batch(
    world: World, request: Request, kind: DocKind, target_id: str | None = None
) -> Response:
    try:
        elements = _elements(request.json(), kind)
    except orjson.JSONDecodeError:
        elements = None
    if not elements or not all(isinstance(e, dict) for e in elements):
        return validation_error(f'The request body must be {{"{kind.collection}": [ … ]}}.')
    summarize = (request.arg("summarizeErrors") or "true").lower() != "false"
    resource = world.get("xero", kind.collection)
    taken: set[str] = set()
    results: list[tuple[Record, Record | None, list[str], Record | None]] = []
    for element in elements:
        doc_id = target_id or element.get(kind.id_field)
        existing = None
        errors: list[str] = []
        if doc_id:
            existing = resource.get(str(doc_id)) or resource.get(str(doc_id).lower())
            if existing is None:
                errors.append(f"{kind.id_field} {doc_id} could not be found.")
            elif request.method == "PUT":
                errors.append(f"{kind.id_field} {doc_id} already exists; use POST to update it.")
            elif existing["Status"] not in ("DRAFT", "SUBMITTED") and not _is_void(
                element, existing
            ):
                errors.append(
                    f"This document cannot be edited: its status is {existing['Status']}."
                )
        doc = None
        if not errors:
            if existing is not None and _is_void(element, existing):
                doc = {
                    **existing,
                    "Status": element["Status"],
                    "UpdatedDateUTC": ms_to_xero(world.now_ms()),
                }
            else:
                doc, errors = build_document(world, kind, element, taken, existing)
        results.append((element, doc, errors, existing))

    failed = [(e, errs) for e, _, errs, _ in results if errs]
    if failed and summarize:
        return validation_error(
            "",
            [
                {**_echo(e, kind), "ValidationErrors": [{"Message": m} for m in errs]}
                for e, errs in failed
            ],
        )
    blobs: list[bytes] = []
    committed = False
    # Stored together at the end (one re-ordering of each collection per call, not one
    # per document); nothing below reads them back before that.
    stored: list[Record] = []
    journals: list[Record] = []
    for element, doc, errors, existing in results:
        if errors or doc is None:
            echo = {**_echo(element, kind), "HasErrors": True, "StatusAttributeString": "ERROR"}
            echo["ValidationErrors"] = [{"Message": m} for m in errors]
            blobs.append(orjson.dumps(echo))
            continue
        stored.append(doc)
        committed = True
        _post(world, kind, doc, existing, journals)
        shown = dict(doc)
        if not summarize:
            shown["StatusAttributeString"] = "OK"
        blobs.append(orjson.dumps(shown))
    if stored:
        resource.upsert(stored)
    if journals:
        world.get("xero", "Journals").upsert(journals)
    response = Response(200, envelope(kind.collection, blobs), committed_write=committed)
    return response


def _is_void(element: Record, existing: Record) -> bool:
    wanted = str(element.get("Status") or "").upper()
    return (
        wanted == "VOIDED" and existing["Status"] == "AUTHORISED" and not existing.get("AmountPaid")
    ) or (wanted == "DELETED" and existing["Status"] in ("DRAFT", "SUBMITTED"))


def _post(
    world: World, kind: DocKind, doc: Record, existing: Record | None, pending: list[Record]
) -> None:
    before = (existing or {}).get("Status")
    if doc["Status"] == "AUTHORISED" and before != "AUTHORISED":
        post_journal(world, doc, kind, pending=pending)
    elif doc["Status"] == "VOIDED" and before == "AUTHORISED":
        post_journal(world, doc, kind, reverse=True, pending=pending)


def _echo(element: Record, kind: DocKind) -> Record:
    return {kind.id_field: EMPTY_ID, **element}


def _allocate(world: World, request: Request, credit_note_id: str) -> Response:
    notes = world.get("xero", "CreditNotes")
    invoices = world.get("xero", "Invoices")
    note = notes.get(credit_note_id) or notes.get(credit_note_id.lower())
    if note is None:
        return not_found()
    try:
        payload = request.json()
    except orjson.JSONDecodeError:
        payload = None
    items = (
        payload.get("Allocations")
        if isinstance(payload, dict) and "Allocations" in payload
        else [payload]
    )
    if not items or not all(isinstance(i, dict) for i in items):
        return validation_error('The request body must be {"Allocations": [ … ]}.')
    remaining = to_decimal(note.get("RemainingCredit") or 0)
    note = dict(note)
    changed_invoices: dict[str, Record] = {}
    created: list[Record] = []
    for item in items:
        invoice_id = str((item.get("Invoice") or {}).get("InvoiceID") or "")
        invoice = (
            changed_invoices.get(invoice_id)
            or invoices.get(invoice_id)
            or invoices.get(invoice_id.lower())
        )
        try:
            amount = to_decimal(item.get("Amount"))
            date_ms = parse_date(item.get("Date") or world.now_ms())
        except (ArithmeticError, ValueError, TypeError):
            return validation_error("Amount must be a number and Date a date.")
        problem = None
        if note["Status"] not in ("AUTHORISED",):
            problem = "The credit note must be AUTHORISED to allocate it."
        elif invoice is None:
            problem = f"Invoice {invoice_id} could not be found."
        elif invoice["Status"] != "AUTHORISED":
            problem = "Only AUTHORISED invoices can take an allocation."
        elif amount <= 0 or amount > remaining:
            problem = "The amount must be positive and at most the remaining credit."
        elif amount > to_decimal(invoice.get("AmountDue") or 0):
            problem = "The amount cannot exceed the invoice's amount due."
        if problem:
            return validation_error(problem)
        assert invoice is not None
        now = ms_to_xero(world.now_ms())
        allocation = {
            "AllocationID": str(uuid.uuid4()),
            "Amount": money(amount),
            "Date": ms_to_xero(date_ms),
            "Invoice": {
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice.get("InvoiceNumber"),
            },
        }
        remaining -= amount
        note["Allocations"] = [*(note.get("Allocations") or []), allocation]
        due = to_decimal(invoice.get("AmountDue") or 0) - amount
        invoice = {
            **invoice,
            "AmountDue": money(due),
            "AmountCredited": money(to_decimal(invoice.get("AmountCredited") or 0) + amount),
            "CreditNotes": [
                *(invoice.get("CreditNotes") or []),
                {
                    "CreditNoteID": note["CreditNoteID"],
                    "CreditNoteNumber": note.get("CreditNoteNumber"),
                    "Total": note.get("Total"),
                    "AppliedAmount": money(amount),
                    "Date": ms_to_xero(date_ms),
                },
            ],
            "UpdatedDateUTC": now,
        }
        if due == Decimal(0):
            invoice["Status"] = "PAID"
            invoice["FullyPaidOnDate"] = ms_to_xero(date_ms)
        changed_invoices[invoice["InvoiceID"]] = invoice
        created.append(
            {
                **allocation,
                "CreditNote": {
                    "CreditNoteID": note["CreditNoteID"],
                    "CreditNoteNumber": note.get("CreditNoteNumber"),
                },
            }
        )
    note["RemainingCredit"] = money(remaining)
    if remaining == 0:
        note["Status"] = "PAID"
        note["FullyPaidOnDate"] = created[-1]["Date"]
    note["UpdatedDateUTC"] = ms_to_xero(world.now_ms())
    notes.upsert([note])
    invoices.upsert(list(changed_invoices.values()))
    return Response(
        200, envelope("Allocations", [orjson.dumps(a) for a in created]), committed_write=True
    )
