"""Harvest API v2 emulator: page/per_page lists with `links`, `updated_since` and filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from taktgeber.sandbox.credentials import HARVEST_ACCOUNT_ID, HARVEST_TOKEN
from taktgeber.sandbox.http import Request, Response, json_response
from taktgeber.sandbox.store import HARVEST_RESOURCES, Entry, Resource, World
from taktgeber.sandbox.timefmt import iso_to_ms

PREFIX = "/harvest"
PER_PAGE_DEFAULT = 2000
PER_PAGE_MAX = 2000
_PATH = re.compile(r"/v2/([a-z_]+)(?:/(\d+))?/?")
# Query filters: name → (resources it applies to, how to read it from a record).
_NESTED_ID_FILTERS = {"project_id": "project", "client_id": "client", "user_id": "user"}
_BOOL_FILTERS = ("is_billed", "is_running", "is_active")


def unauthorized() -> Response:
    return json_response(
        401,
        {
            "error": "invalid_token",
            "error_description": "The access token provided is expired, revoked, malformed,"
            " or invalid for other reasons.",
        },
    )


def check_auth(request: Request) -> Response | None:
    if request.header("authorization") != f"Bearer {HARVEST_TOKEN}":
        return unauthorized()
    if request.header("harvest-account-id") != HARVEST_ACCOUNT_ID:
        return unauthorized()
    if not request.header("user-agent"):
        return json_response(400, {"message": "A User-Agent header is required."})
    return None


def not_found() -> Response:
    return json_response(404, {"status": 404, "error": "Not Found"})


def handle(world: World, request: Request) -> Response:
    match = _PATH.fullmatch(request.path[len(PREFIX) :])
    if match is None or match.group(1) not in HARVEST_RESOURCES:
        return not_found()
    if request.method != "GET":
        return json_response(405, {"message": f"{request.method} is not supported by the sandbox"})
    resource = world.get("harvest", match.group(1))
    if match.group(2) is not None:
        entry = resource.by_id.get(int(match.group(2)))
        if entry is None:
            return not_found()
        return Response(200, resource.served(entry))
    return _list(resource, request)


def _invalid(message: str) -> Response:
    return json_response(422, {"message": message})


def _filters(
    resource: Resource, request: Request
) -> tuple[tuple[Any, ...], list[Callable[[Entry], bool]]]:
    key: list[Any] = []
    tests: list[Callable[[Entry], bool]] = []
    since = request.arg("updated_since")
    if since:
        ms = iso_to_ms(since)  # ValueError → 422 by the caller
        key.append(("updated_since", ms))
        tests.append(lambda e: e.cursor is not None and e.cursor >= ms)
    if resource.name in ("time_entries", "expenses"):
        low, high = request.arg("from"), request.arg("to")
        if low:
            iso_to_ms(low)
            key.append(("from", low))
            tests.append(lambda e: str(e.day or "") >= low)
        if high:
            iso_to_ms(high)
            key.append(("to", high))
            tests.append(lambda e: str(e.day or "") <= high)
    for name, field in _NESTED_ID_FILTERS.items():
        raw = request.arg(name)
        if raw:
            wanted = int(raw)
            key.append((name, wanted))
            tests.append(lambda e, f=field, w=wanted: (e.rec.get(f) or {}).get("id") == w)
    for name in _BOOL_FILTERS:
        raw = request.arg(name)
        if raw:
            flag = raw.lower() == "true"
            key.append((name, flag))
            tests.append(lambda e, n=name, b=flag: bool(e.rec.get(n)) == b)
    return tuple(key), tests


def _list(resource: Resource, request: Request) -> Response:
    try:
        page = int(request.arg("page") or 1)
        per_page = int(request.arg("per_page") or PER_PAGE_DEFAULT)
    except ValueError:
        return _invalid("page and per_page must be integers")
    if not 1 <= per_page <= PER_PAGE_MAX:
        return _invalid(f"per_page must be between 1 and {PER_PAGE_MAX}")
    if page < 1:
        return _invalid("page must be 1 or more")
    try:
        key, tests = _filters(resource, request)
    except ValueError as exc:
        return _invalid(f"Invalid filter value: {exc}")
    entries = resource.select(key, _all_of(tests))
    total = len(entries)
    total_pages = -(-total // per_page)
    chunk = entries[(page - 1) * per_page : page * per_page]
    extra = [(k, v) for k, vs in request.query.items() if k not in ("page", "per_page") for v in vs]

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        params = [("page", str(number)), ("per_page", str(per_page)), *extra]
        return f"{request.base_url}{request.path}?{urlencode(params)}"

    next_page = page + 1 if page < total_pages else None
    previous_page = page - 1 if page > 1 else None
    tail = {
        "per_page": per_page,
        "total_pages": total_pages,
        "total_entries": total,
        "next_page": next_page,
        "previous_page": previous_page,
        "page": page,
        "links": {
            "first": link(1),
            "next": link(next_page),
            "previous": link(previous_page),
            "last": link(max(total_pages, 1)),
        },
    }
    body = b"".join(
        (
            b'{"',
            resource.name.encode(),
            b'":[',
            b",".join(
                [e.blob for e in chunk]
                if resource.transform is None
                else [resource.served(e) for e in chunk]
            ),
            b"],",
            orjson.dumps(tail)[1:],
        )
    )
    return Response(200, body, is_page=True)


def _all_of(tests: list[Callable[[Entry], bool]]) -> Callable[[Entry], bool] | None:
    """One predicate for a filter list (the common single test is used as is)."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda e: all(t(e) for t in tests)
