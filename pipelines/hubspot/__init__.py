"""HubSpot CRM v3 as a dlt source: `raw_hubspot`.

The first load reads each object through its list endpoint (`GET /crm/v3/objects/{type}`,
cursor `after`), which also returns the deals' associations. Later loads read only what
changed through search (`POST …/search`, `hs_lastmodifieddate` GTE the last cursor,
ascending); search stops at 10,000 results per query, so the paginator restarts the
query from the highest cursor seen. Search returns no associations, so each changed deal
is then read by id with its associations. Properties stay text, as the API sends them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource
from dlt.sources.helpers.requests import Request, Response
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONResponseCursorPaginator

from pipelines.common import Cursor, LoadError, ResilientSession, RetryPolicy

SANDBOX_BASE_URL = "http://127.0.0.1:8765/hubspot"
SANDBOX_TOKEN = "sandbox-hubspot-token"
CURSOR = "hs_lastmodifieddate"
SEARCH_RESULT_CAP = 10_000  # HubSpot answers 400 when paging past this many results

OBJECTS = ("companies", "deals", "line_items", "products")
PROPERTIES: dict[str, tuple[str, ...]] = {
    "companies": (
        "name", "domain", "createdate", CURSOR, "hs_object_id",
        "vat_id", "country", "payment_terms_days", "cash_discount_percent",
        "cash_discount_days", "invoice_grouping",
    ),
    "deals": (
        "dealname", "amount", "closedate", "pipeline", "dealstage", "createdate", CURSOR,
        "hs_object_id", "deal_currency_code", "billing_model", "parent_deal_id",
    ),
    "line_items": (
        "name", "quantity", "price", "amount", "hs_product_id", "hs_sku", "createdate",
        CURSOR, "hs_object_id", "service_type", "billing_date", "requires_acceptance",
        "accepted_date",
    ),
    "products": ("name", "price", "hs_sku", "description", "createdate", CURSOR, "hs_object_id"),
}  # fmt: skip
ASSOCIATIONS: dict[str, tuple[str, ...]] = {"deals": ("companies", "line_items")}


def epoch_ms(iso: str) -> int:
    """`2024-01-15T14:22:10.456Z` -> epoch milliseconds (the search filter's unit)."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class SearchPaginator(BasePaginator):
    """Offset paging of a search body's `after`, restarting the query at the result cap.

    Restart: the next query filters `hs_lastmodifieddate GTE <highest cursor seen>` from
    offset 0 (records at that exact instant come again; merge on `id` removes them).
    """

    def __init__(
        self, object_type: str, since_ms: int, limit: int, cap: int = SEARCH_RESULT_CAP
    ) -> None:
        super().__init__()
        self.object_type = object_type
        self.since_ms = since_ms
        self.limit = limit
        self.cap = cap
        self.after = 0
        self.highest_ms = since_ms
        self.restarts = 0

    def init_request(self, request: Request) -> None:
        request.json = self.body()

    def body(self) -> dict[str, Any]:
        return {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": CURSOR, "operator": "GTE", "value": str(self.since_ms)}
                    ]
                }
            ],
            "sorts": [{"propertyName": CURSOR, "direction": "ASCENDING"}],
            "properties": list(PROPERTIES[self.object_type]),
            "limit": self.limit,
            "after": str(self.after),
        }

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        for record in data or []:
            value = (record.get("properties") or {}).get(CURSOR)
            if value:
                self.highest_ms = max(self.highest_ms, epoch_ms(value))
        next_after = (((response.json() or {}).get("paging") or {}).get("next") or {}).get("after")
        if not next_after or not data:
            self._has_next_page = False
            return
        self._has_next_page = True
        if int(next_after) + self.limit > self.cap:
            if self.highest_ms <= self.since_ms:
                raise LoadError(
                    f"hubspot: {self.object_type} search cannot advance: more than {self.cap} "
                    f"records share {CURSOR}={self.since_ms}"
                )
            self.since_ms = self.highest_ms
            self.after = 0
            self.restarts += 1
        else:
            self.after = int(next_after)

    def update_request(self, request: Request) -> None:
        request.json = self.body()


def make_session(
    access_token: str, policy: RetryPolicy | None, stats: dict[str, int] | None = None
) -> ResilientSession:
    return ResilientSession(
        "hubspot",
        policy=policy,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        credential_hint=(
            "Check sources.hubspot.access_token "
            "(.dlt/secrets.toml or SOURCES__HUBSPOT__ACCESS_TOKEN)."
        ),
        stats=stats,
    )


def _list_params(object_type: str, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "limit": limit,
        "archived": "false",
        "properties": ",".join(PROPERTIES[object_type]),
    }
    if object_type in ASSOCIATIONS:
        params["associations"] = ",".join(ASSOCIATIONS[object_type])
    return params


def crm_object(
    client: RESTClient, object_type: str, list_limit: int, search_limit: int, search_cap: int
) -> DltResource:
    """One CRM object type as a merge resource; cursor (epoch ms) in the resource state."""

    @dlt.resource(
        name=object_type,
        primary_key="id",
        write_disposition="merge",
        columns=_property_columns(object_type),
    )
    def records() -> Iterator[list[dict[str, Any]]]:
        cursor = Cursor(dlt.current.resource_state(), 0)
        if cursor.first_load:
            pages = client.paginate(
                f"crm/v3/objects/{object_type}",
                params=_list_params(object_type, list_limit),
                paginator=JSONResponseCursorPaginator(
                    cursor_path="paging.next.after", cursor_param="after"
                ),
                data_selector="results",
            )
        else:
            pages = client.paginate(
                f"crm/v3/objects/{object_type}/search",
                method="POST",
                json={},
                paginator=SearchPaginator(object_type, cursor.start, search_limit, search_cap),
                data_selector="results",
            )
        for page in pages:
            fresh = [r for r in page if cursor.fresh(_cursor_ms(r), r.get("id"))]
            if fresh and not cursor.first_load:
                fresh = _with_associations(client, object_type, fresh)
            if fresh:
                yield fresh
        cursor.save()

    return records


def _cursor_ms(record: dict[str, Any]) -> int | None:
    value = (record.get("properties") or {}).get(CURSOR)
    return epoch_ms(value) if value else None


def _property_columns(object_type: str) -> dict[str, Any]:
    """Every requested property is a text column, even when no record has it yet."""
    return {
        f"properties__{p}": {"data_type": "text", "nullable": True} for p in PROPERTIES[object_type]
    }


def _with_associations(
    client: RESTClient, object_type: str, page: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Search omits associations: read each changed record by id when the type has them."""
    if object_type not in ASSOCIATIONS:
        return list(page)
    params = _list_params(object_type, 1)
    params.pop("limit")
    params.pop("archived")
    out = []
    for record in page:
        response = client.get(f"crm/v3/objects/{object_type}/{record['id']}", params=params)
        out.append(response.json())
    return out


@dlt.source(name="hubspot")
def hubspot_source(
    base_url: str = SANDBOX_BASE_URL,
    access_token: TSecretStrValue = SANDBOX_TOKEN,
    list_page_size: int = 100,
    search_page_size: int = 200,
    search_result_cap: int = SEARCH_RESULT_CAP,
    retry: Any = None,
    stats: Any = None,
) -> list[DltResource]:
    """HubSpot companies, deals (with company and line-item associations), line items, products."""
    policy = retry if isinstance(retry, RetryPolicy) else None
    schema = dlt.current.source_schema()
    schema.remove_type_detection("iso_timestamp")  # the API's strings stay text
    client = RESTClient(base_url=base_url, session=make_session(access_token, policy, stats))
    return [
        crm_object(client, name, list_page_size, search_page_size, search_result_cap)
        for name in OBJECTS
    ]
