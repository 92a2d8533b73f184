"""HubSpot CRM v3 emulator: object lists with cursor paging, and the search endpoint."""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from taktgeber.sandbox.credentials import HUBSPOT_TOKEN
from taktgeber.sandbox.http import Request, Response, json_response
from taktgeber.sandbox.store import HUBSPOT_RESOURCES, Entry, Record, Resource, World
from taktgeber.sandbox.timefmt import any_to_ms

PREFIX = "/hubspot"
LIST_LIMIT_DEFAULT = 10
LIST_LIMIT_MAX = 100
SEARCH_LIMIT_DEFAULT = 10
SEARCH_LIMIT_MAX = 200
SEARCH_RESULT_CAP = 10_000

# Returned on every record whatever `properties` asks for (as HubSpot does).
ALWAYS_PROPERTIES = ("createdate", "hs_lastmodifieddate", "hs_object_id")
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "deals": (
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "deal_currency_code",
    ),
    "companies": ("name", "domain"),
    "line_items": ("name", "quantity", "price", "amount", "hs_product_id", "hs_sku"),
    "products": ("name", "price", "hs_sku", "description"),
}
# `associations=` names → the key HubSpot uses in the response.
ASSOCIATION_KEYS = {
    "companies": "companies",
    "company": "companies",
    "deals": "deals",
    "deal": "deals",
    "line_items": "line items",
    "line_item": "line items",
    "line items": "line items",
    "products": "products",
}
_OBJECT_PATH = re.compile(r"/crm/v3/objects/([a-z_]+)(?:/([^/]+))?/?")


def error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    body["category"] = category
    body.update(extra)
    return json_response(status, body)


def check_auth(request: Request) -> Response | None:
    if request.header("authorization") != f"Bearer {HUBSPOT_TOKEN}":
        return error(
            401,
            "Authentication credentials not found. This API supports OAuth 2.0 authentication"
            " and you can find more details at"
            " https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        )
    return None


def is_search(request: Request) -> bool:
    return request.method == "POST" and request.path.rstrip("/").endswith("/search")


def handle(world: World, request: Request) -> Response:
    sub = request.path[len(PREFIX) :]
    match = _OBJECT_PATH.fullmatch(sub)
    if match is None or match.group(1) not in HUBSPOT_RESOURCES:
        return error(404, f"Unknown path {sub}", "OBJECT_NOT_FOUND")
    resource = world.get("hubspot", match.group(1))
    tail = match.group(2)
    if request.method == "POST" and tail == "search":
        return _search(resource, request)
    if request.method != "GET":
        return error(405, f"{request.method} is not supported here", "VALIDATION_ERROR")
    if tail is None:
        return _list(resource, request)
    entry = resource.by_id.get(tail)
    if entry is None or entry.rec.get("archived"):
        return error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
    props = _requested_properties(request.query.get("properties"))
    assoc = _requested_associations(request.query.get("associations"))
    return json_response(200, _shape(resource, entry.rec, props, assoc))


def _csv_args(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


def _requested_properties(values: list[str] | None) -> list[str] | None:
    names = _csv_args(values)
    return names or None


def _requested_associations(values: list[str] | None) -> list[str]:
    return [ASSOCIATION_KEYS.get(n, n) for n in _csv_args(values)]


def _shape(
    resource: Resource, rec: Record, props: list[str] | None, associations: list[str]
) -> Record:
    """The record as the API returns it: selected properties, requested associations."""
    names = list(props) if props is not None else list(DEFAULT_PROPERTIES[resource.name])
    stored = rec.get("properties") or {}
    out_props: dict[str, Any] = {}
    for name in (*ALWAYS_PROPERTIES, *names):
        if name in stored:
            out_props[name] = stored[name]
        elif name in resource.property_names:
            out_props[name] = None
    out: Record = {
        "id": rec["id"],
        "properties": out_props,
        "createdAt": rec.get("createdAt"),
        "updatedAt": rec.get("updatedAt"),
        "archived": bool(rec.get("archived", False)),
    }
    if rec.get("archivedAt"):
        out["archivedAt"] = rec["archivedAt"]
    if associations:
        stored_assoc = rec.get("associations") or {}
        picked = {
            k: stored_assoc[k] for k in associations if (stored_assoc.get(k) or {}).get("results")
        }
        if picked:
            out["associations"] = picked
    return resource.shaped(out)


def _encode_after(next_id: int) -> str:
    return base64.urlsafe_b64encode(f"tg:{next_id}".encode()).decode().rstrip("=")


def _decode_after(after: str) -> int:
    padded = after + "=" * (-len(after) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(after) from exc
    if not text.startswith("tg:") or not text[3:].isdigit():
        raise ValueError(after)
    return int(text[3:])


def _list(resource: Resource, request: Request) -> Response:
    try:
        limit = int(request.arg("limit") or LIST_LIMIT_DEFAULT)
    except ValueError:
        return error(400, "limit must be an integer", "VALIDATION_ERROR")
    if not 1 <= limit <= LIST_LIMIT_MAX:
        return error(400, f"limit must be between 1 and {LIST_LIMIT_MAX}", "VALIDATION_ERROR")
    archived = (request.arg("archived") or "false").lower() == "true"
    entries = resource.select(
        ("archived",) if archived else ("live",),
        lambda e: (b'"archived":true' in e.blob) == archived,
    )
    start = 0
    after = request.arg("after")
    if after:
        try:
            first_id = _decode_after(after)
        except ValueError:
            return error(400, f"Invalid after cursor: {after}", "VALIDATION_ERROR")
        start = bisect.bisect_left(entries, first_id, key=lambda e: int(e.rid))
    page = entries[start : start + limit]
    props = _requested_properties(request.query.get("properties"))
    assoc = _requested_associations(request.query.get("associations"))
    body: Record = {"results": [_shape(resource, e.rec, props, assoc) for e in page]}
    if start + limit < len(entries):
        next_after = _encode_after(int(entries[start + limit].rec["id"]))
        params = [(k, v) for k, vs in request.query.items() if k != "after" for v in vs]
        params.append(("after", next_after))
        link = f"{request.base_url}{request.path}?{urlencode(params)}"
        body["paging"] = {"next": {"after": next_after, "link": link}}
    response = json_response(200, body)
    response.is_page = True
    return response


def _prop_value(rec: Record, name: str) -> Any:
    if name in ("hs_object_id", "id") and name not in (rec.get("properties") or {}):
        return rec["id"]
    return (rec.get("properties") or {}).get(name)


def _comparable(record_value: Any, filter_value: Any) -> tuple[Any, Any] | None:
    """Bring a stored property (a string) and a filter value to one comparable type."""
    if record_value is None:
        return None
    text = str(record_value)
    wanted = str(filter_value)
    try:
        return float(text), float(wanted)
    except ValueError:
        pass
    if wanted.lstrip("-").isdigit():
        try:
            return any_to_ms(text), int(wanted)  # datetimes filter by epoch ms
        except ValueError:
            pass
    return text, wanted


_OPS = {
    "EQ": lambda a, b: a == b,
    "NEQ": lambda a, b: a != b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
}


def _matches(entry: Entry, flt: Record) -> bool:
    name = flt.get("propertyName", "")
    op = str(flt.get("operator", "EQ")).upper()
    wanted = str(flt.get("value", ""))
    if name == "hs_lastmodifieddate" and op in _OPS and wanted.isdigit():
        # The incremental path: compare the stored cursor (ms) without parsing the record.
        return entry.cursor is not None and bool(_OPS[op](entry.cursor, int(wanted)))
    value = _prop_value(entry.rec, name)
    if op == "HAS_PROPERTY":
        return value not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return value in (None, "")
    if op in ("IN", "NOT_IN"):
        wanted = {str(v) for v in flt.get("values") or []}
        return (str(value) in wanted) == (op == "IN") if value is not None else op == "NOT_IN"
    if op == "BETWEEN":
        low = _comparable(value, flt.get("value"))
        high = _comparable(value, flt.get("highValue"))
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    pair = _comparable(value, flt.get("value"))
    if pair is None:
        return op == "NEQ"
    try:
        return bool(_OPS[op](pair[0], pair[1]))
    except TypeError:
        return False


def _sort_key(name: str) -> Callable[[Entry], tuple[int, Any]]:
    def key(entry: Entry) -> tuple[int, Any]:
        if name == "hs_lastmodifieddate":
            return (1, entry.cursor or 0)
        value = _prop_value(entry.rec, name)
        if value is None:
            return (0, 0)
        text = str(value)
        try:
            return (1, float(text))
        except ValueError:
            pass
        try:
            return (1, any_to_ms(text))
        except ValueError:
            return (2, text)

    return key


def _search(resource: Resource, request: Request) -> Response:
    try:
        query = request.json() or {}
    except orjson.JSONDecodeError:
        return error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
    try:
        limit = int(query.get("limit", SEARCH_LIMIT_DEFAULT))
        offset = int(query.get("after") or 0)
    except (TypeError, ValueError):
        return error(400, "limit and after must be integers", "VALIDATION_ERROR")
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        return error(400, f"limit must be between 1 and {SEARCH_LIMIT_MAX}", "VALIDATION_ERROR")
    if offset >= SEARCH_RESULT_CAP:
        return error(
            400,
            f"Paging past {SEARCH_RESULT_CAP} results is not supported. Restart the search"
            " from the last value you saw.",
            "VALIDATION_ERROR",
        )
    groups = query.get("filterGroups") or []
    sorts = query.get("sorts") or []

    def keep(entry: Entry) -> bool:
        if b'"archived":true' in entry.blob:
            return False
        if not groups:
            return True
        return any(all(_matches(entry, f) for f in g.get("filters") or []) for g in groups)

    def arrange(entries: list[Entry]) -> list[Entry]:
        ordered = sorted(entries, key=lambda e: int(e.rid))
        for spec in reversed(sorts):
            if isinstance(spec, str):  # HubSpot also accepts "prop" / "-prop"
                direction = "DESCENDING" if spec.startswith("-") else "ASCENDING"
                spec = {"propertyName": spec.lstrip("-"), "direction": direction}
            descending = str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"
            ordered.sort(key=_sort_key(spec.get("propertyName", "")), reverse=descending)
        return ordered

    key = ("search", orjson.dumps(groups, option=orjson.OPT_SORT_KEYS), orjson.dumps(sorts))
    matches = resource.select(key, keep, arrange)
    end = min(offset + limit, len(matches), SEARCH_RESULT_CAP)
    props = query.get("properties") or None
    results = [_shape(resource, e.rec, props, []) for e in matches[offset:end]]
    body: Record = {"total": len(matches), "results": results}
    if end < len(matches):
        body["paging"] = {"next": {"after": str(end)}}
    response = json_response(200, body)
    response.is_page = True
    return response
