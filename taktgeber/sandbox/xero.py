"""Xero Accounting API emulator: reads (paging, If-Modified-Since, where, Journals offset)
and the dispatch of writes (see `xero_writes`)."""

from __future__ import annotations

import bisect
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from taktgeber.sandbox.credentials import XERO_TENANT_ID, XERO_TOKEN
from taktgeber.sandbox.http import Request, Response, json_response
from taktgeber.sandbox.store import (
    XERO_ID_FIELD,
    XERO_RESOURCES,
    Entry,
    Record,
    Resource,
    World,
    dumps,
)
from taktgeber.sandbox.timefmt import http_date_to_ms
from taktgeber.sandbox.xero_where import WhereError, field_value, parse_where_implied

PREFIX = "/xero"
API_ROOT = "/api.xro/2.0"
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000  # larger pageSize values are clamped (unconfirmed; Xero documents 1000)
JOURNALS_PER_CALL = 100
UNPAGED = ("Accounts", "TaxRates")
NO_IF_MODIFIED_SINCE = ("TaxRates",)
PROVIDER_NAME = "taktgeber sandbox"
_CANONICAL = {name.lower(): name for name in XERO_RESOURCES}
# Comma-separated id filters Xero takes as query parameters.
_LIST_PARAMS = {
    "IDs": lambda res: XERO_ID_FIELD[res],
    "InvoiceNumbers": lambda res: "InvoiceNumber",
    "ContactIDs": lambda res: "Contact.ContactID",
    "Statuses": lambda res: "Status",
}


def _problem(status: int, title: str, detail: str) -> Response:
    return json_response(
        status,
        {
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
    )


def check_auth(request: Request) -> Response | None:
    if request.header("authorization") != f"Bearer {XERO_TOKEN}":
        return _problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if request.header("xero-tenant-id") != XERO_TENANT_ID:
        return _problem(403, "Forbidden", "AuthenticationUnsuccessful")
    return None


def not_found() -> Response:
    return Response(
        404, b"The resource you're looking for cannot be found", content_type="text/plain"
    )


def validation_error(message: str, elements: list[Record] | None = None) -> Response:
    body: Record = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
    }
    if elements is not None:
        body["Elements"] = elements
    else:
        body["Elements"] = [{"ValidationErrors": [{"Message": message}]}]
    return json_response(400, body)


def split_path(request: Request) -> tuple[str, list[str]] | None:
    """`/xero/api.xro/2.0/Invoices/{id}/Allocations` → ("Invoices", [id, "Allocations"])."""
    sub = request.path[len(PREFIX) :]
    if not sub.lower().startswith(API_ROOT.lower() + "/"):
        return None
    parts = [p for p in sub[len(API_ROOT) + 1 :].split("/") if p]
    if not parts or parts[0].lower() not in _CANONICAL:
        return None
    return _CANONICAL[parts[0].lower()], parts[1:]


def handle(world: World, request: Request) -> Response:
    from taktgeber.sandbox import xero_writes

    route = split_path(request)
    if route is None:
        return not_found()
    name, rest = route
    resource = world.get("xero", name)
    if request.method in ("PUT", "POST"):
        return xero_writes.handle(world, request, name, rest)
    if request.method != "GET":
        return not_found()
    if rest:
        return _single(resource, rest[0])
    return _list(world, resource, request)


def envelope(name: str, blobs: list[bytes], pagination: Record | None = None) -> bytes:
    head: Record = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": f"/Date({int(time.time() * 1000)})/",
    }
    if pagination is not None:
        head["pagination"] = pagination
    return b"".join(
        (orjson.dumps(head)[:-1], b',"', name.encode(), b'":[', b",".join(blobs), b"]}")
    )


def _single(resource: Resource, key: str) -> Response:
    entry = resource.by_id.get(key) or resource.by_id.get(key.lower())
    if entry is None and resource.name in ("Invoices", "CreditNotes"):
        entry = next(iter(resource.with_number(key)), None)  # the first with that number
    if entry is None:
        return not_found()
    return Response(200, envelope(resource.name, [resource.served(entry)]))


def _without_line_items(resource: Resource, entry: Entry) -> bytes:
    if entry.alt is None:
        rec = {k: v for k, v in entry.rec.items() if k != "LineItems"}
        entry.alt = dumps(resource.shaped(rec))
    return entry.alt


def _list(world: World, resource: Resource, request: Request) -> Response:
    name = resource.name
    key: list[Any] = []
    tests = []
    since_header = request.header("if-modified-since")
    if since_header and name not in NO_IF_MODIFIED_SINCE:
        try:
            since = http_date_to_ms(since_header)
        except (TypeError, ValueError):
            return validation_error(f"Invalid If-Modified-Since header: {since_header}")
        key.append(("since", since))
        # Inclusive (unconfirmed): a record changed exactly at the cursor is served again.
        tests.append(lambda e: e.cursor is not None and e.cursor >= since)
    where = request.arg("where")
    candidates = None
    if where:
        try:
            predicate, implied = parse_where_implied(where)
        except WhereError as exc:
            return validation_error(str(exc))
        key.append(("where", where))
        tests.append(lambda e: predicate(e.rec))
        references = implied.get("Reference")
        if references is not None and name in ("Invoices", "CreditNotes"):
            # Only documents with one of these References can pass: test those alone.
            candidates = lambda refs=references: resource.with_references(refs)
    for param, field_of in _LIST_PARAMS.items():
        raw = request.arg(param)
        if raw:
            wanted = {v.strip().lower() for v in raw.split(",") if v.strip()}
            path = field_of(name)
            key.append((param, raw))
            tests.append(lambda e, p=path, w=wanted: str(field_value(e.rec, p) or "").lower() in w)
    order = request.arg("order")
    arrange = None
    if order:
        field, _, direction = order.strip().partition(" ")
        descending = direction.strip().upper() == "DESC"
        key.append(("order", order))

        def arrange(entries: list[Entry], f: str = field, d: bool = descending) -> list[Entry]:
            def sort_key(e: Entry) -> tuple[int, Any]:
                value = field_value(e.rec, f)
                if isinstance(value, str) and value.startswith("/Date("):
                    return (1, int(value[6:].split("+")[0].split(")")[0]))
                return (0, 0) if value is None else (1, value)

            return sorted(entries, key=sort_key, reverse=d)

    if name == "Journals":
        try:
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return validation_error("offset must be an integer")
        # The other filters' result is cached; journals are kept in JournalNumber order,
        # so the page after `offset` is found by bisection, not by a scan per call.
        entries = resource.select(tuple(key), _all_of(tests), arrange, candidates)
        if arrange is None:
            start = bisect.bisect_right(entries, offset, key=lambda e: e.key[0])
            page = entries[start : start + JOURNALS_PER_CALL]
        else:
            page = [e for e in entries if e.key[0] > offset][:JOURNALS_PER_CALL]
        blobs = [resource.served(e) for e in page]
        return Response(200, envelope(name, blobs), is_page=True)

    entries = resource.select(tuple(key), _all_of(tests), arrange, candidates)
    page_arg = request.arg("page")
    if page_arg is None or name in UNPAGED:
        blobs = (
            [_without_line_items(resource, e) for e in entries]
            if name == "Invoices"
            else [resource.served(e) for e in entries]
        )
        return Response(200, envelope(name, blobs), is_page=True)
    try:
        page = max(int(page_arg), 1)
        size = int(request.arg("pageSize") or PAGE_SIZE_DEFAULT)
    except ValueError:
        return validation_error("page and pageSize must be integers")
    size = min(max(size, 1), PAGE_SIZE_MAX)
    chunk = entries[(page - 1) * size : page * size]
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": -(-len(entries) // size),
        "itemCount": len(entries),
    }
    body = envelope(name, [resource.served(e) for e in chunk], pagination)
    return Response(200, body, is_page=True)


def _all_of(tests: list[Callable[[Entry], bool]]) -> Callable[[Entry], bool] | None:
    """One predicate for a filter list (the common single test is used as is)."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda e: all(t(e) for t in tests)
