"""The sandbox speaks HubSpot, Harvest and Xero as source-apis.md says: real HTTP on
loopback against `Sandbox` serving tests/fixtures/tiny (or a synthetic world in tmp)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from taktgeber.sandbox import (
    HARVEST_ACCOUNT_ID,
    HARVEST_TOKEN,
    HUBSPOT_TOKEN,
    XERO_TENANT_ID,
    XERO_TOKEN,
    Sandbox,
)

TINY = Path(__file__).parent / "fixtures" / "tiny"
HUBSPOT = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
HARVEST = {
    "Authorization": f"Bearer {HARVEST_TOKEN}",
    "Harvest-Account-Id": HARVEST_ACCOUNT_ID,
    "User-Agent": "taktgeber tests (dev@example.com)",
}
XERO = {"Authorization": f"Bearer {XERO_TOKEN}", "xero-tenant-id": XERO_TENANT_ID}
INV1_REFERENCE = "TG-144a096090d9"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(TINY) as sb:
        yield sb


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own (for writes, faults, rate limits, advance)."""
    world = tmp_path / "world"
    shutil.copytree(TINY, world)
    with Sandbox(world) as sb:
        yield sb


def hubspot(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{sb.base_url}/hubspot{path}", params=params, headers=HUBSPOT, timeout=10)


def search(sb: Sandbox, kind: str, body: dict[str, Any]) -> requests.Response:
    url = f"{sb.base_url}/hubspot/crm/v3/objects/{kind}/search"
    return requests.post(url, json=body, headers=HUBSPOT, timeout=10)


def harvest(sb: Sandbox, resource: str, **params: Any) -> requests.Response:
    url = f"{sb.base_url}/harvest/v2/{resource}"
    return requests.get(url, params=params, headers=HARVEST, timeout=10)


def xero(
    sb: Sandbox, resource: str, headers: dict[str, str] | None = None, **params: Any
) -> requests.Response:
    url = f"{sb.base_url}/xero/api.xro/2.0/{resource}"
    return requests.get(url, params=params, headers={**XERO, **(headers or {})}, timeout=10)


def write_world(folder: Path, records: dict[str, list[dict[str, Any]]]) -> Path:
    for key, items in records.items():
        path = folder / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(items))
    return folder


# --- HubSpot ------------------------------------------------------------------------


def test_hubspot_list_pages_with_opaque_after_and_link(sandbox: Sandbox) -> None:
    first = hubspot(sandbox, "/crm/v3/objects/deals", limit=3)
    assert first.status_code == 200
    body = first.json()
    assert [r["id"] for r in body["results"]] == ["201", "202", "203"]
    after = body["paging"]["next"]["after"]
    assert not after.isdigit()
    link = body["paging"]["next"]["link"]
    assert link.startswith(f"{sandbox.base_url}/hubspot/crm/v3/objects/deals?")
    second = requests.get(link, headers=HUBSPOT, timeout=10).json()
    assert [r["id"] for r in second["results"]] == ["204"]
    assert "paging" not in second


def test_hubspot_exactly_one_page_has_no_paging(sandbox: Sandbox) -> None:
    body = hubspot(sandbox, "/crm/v3/objects/deals", limit=4).json()
    assert len(body["results"]) == 4
    assert "paging" not in body


def test_hubspot_default_and_selected_properties(sandbox: Sandbox) -> None:
    default = hubspot(sandbox, "/crm/v3/objects/deals", limit=1).json()["results"][0]
    assert default == {
        "id": "201",
        "properties": {
            "createdate": "2026-07-01T08:00:00.000Z",
            "hs_lastmodifieddate": "2026-08-20T10:00:00.000Z",
            "hs_object_id": "201",
            "dealname": "Nordlicht website relaunch",
            "amount": "24000",
            "closedate": "2026-08-20T10:00:00.000Z",
            "pipeline": "default",
            "dealstage": "closedwon",
            "deal_currency_code": "EUR",
        },
        "createdAt": "2026-07-01T08:00:00.000Z",
        "updatedAt": "2026-08-20T10:00:00.000Z",
        "archived": False,
    }
    chosen = hubspot(
        sandbox, "/crm/v3/objects/deals", limit=1, properties="billing_model,parent_deal_id,nope"
    ).json()["results"][0]["properties"]
    assert chosen == {
        "createdate": "2026-07-01T08:00:00.000Z",
        "hs_lastmodifieddate": "2026-08-20T10:00:00.000Z",
        "hs_object_id": "201",
        "billing_model": "time_and_materials",
        "parent_deal_id": None,
    }


def test_hubspot_associations_only_when_asked(sandbox: Sandbox) -> None:
    plain = hubspot(sandbox, "/crm/v3/objects/deals", limit=1).json()["results"][0]
    assert "associations" not in plain
    rec = hubspot(
        sandbox, "/crm/v3/objects/deals", limit=1, associations="companies,line_items"
    ).json()["results"][0]
    assert rec["associations"] == {
        "companies": {"results": [{"id": "101", "type": "deal_to_company"}]},
        "line items": {
            "results": [
                {"id": "301", "type": "deal_to_line_item"},
                {"id": "302", "type": "deal_to_line_item"},
            ]
        },
    }


def test_hubspot_limit_and_cursor_validation(sandbox: Sandbox) -> None:
    assert hubspot(sandbox, "/crm/v3/objects/deals", limit=101).status_code == 400
    bad = hubspot(sandbox, "/crm/v3/objects/deals", after="garbage")
    assert bad.status_code == 400
    assert bad.json()["category"] == "VALIDATION_ERROR"


def test_hubspot_search_incremental_gte_and_gt(sandbox: Sandbox) -> None:
    # 2026-08-28T15:20:00.000Z = 1787930400000 ms
    def ids(op: str) -> list[str]:
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "hs_lastmodifieddate",
                            "operator": op,
                            "value": "1787930400000",
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["dealname", "hs_lastmodifieddate"],
            "limit": 200,
        }
        answer = search(sandbox, "deals", body).json()
        assert answer["total"] == len(answer["results"])
        assert "paging" not in answer
        return [r["id"] for r in answer["results"]]

    assert ids("GTE") == ["202", "203", "204"]
    assert ids("GT") == ["203", "204"]


def test_hubspot_search_pages_by_integer_offset_without_link(sandbox: Sandbox) -> None:
    body = {
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 2,
    }
    first = search(sandbox, "line_items", body).json()
    assert first["total"] == 5
    assert [r["id"] for r in first["results"]] == ["301", "302", "303", "304"][:2]
    assert first["paging"] == {"next": {"after": "2"}}
    second = search(sandbox, "line_items", {**body, "after": "2"}).json()
    assert [r["id"] for r in second["results"]] == ["303", "304"]
    last = search(sandbox, "line_items", {**body, "after": "4"}).json()
    assert [r["id"] for r in last["results"]] == ["305"]
    assert "paging" not in last
    assert search(sandbox, "line_items", {"limit": 201}).status_code == 400


def test_hubspot_search_caps_at_10000_results(tmp_path: Path) -> None:
    companies = [
        {
            "id": str(100000 + i),
            "properties": {
                "name": f"Company {i}",
                "hs_object_id": str(100000 + i),
                "createdate": "2026-01-01T00:00:00.000Z",
                "hs_lastmodifieddate": f"2026-01-01T00:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}Z",
            },
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "archived": False,
        }
        for i in range(10_050)
    ]
    world = write_world(tmp_path, {"hubspot/companies": companies})
    with Sandbox(world) as sb:
        near_end = search(sb, "companies", {"limit": 200, "after": "9800"})
        assert near_end.status_code == 200
        assert near_end.json()["total"] == 10_050
        assert len(near_end.json()["results"]) == 200
        assert near_end.json()["paging"] == {"next": {"after": "10000"}}
        past = search(sb, "companies", {"limit": 200, "after": "10000"})
        assert past.status_code == 400
        assert past.json()["status"] == "error"
        assert past.json()["category"] == "VALIDATION_ERROR"


def test_hubspot_archived_records_are_listed_apart(tmp_path: Path) -> None:
    rec = {
        "id": "1",
        "properties": {"name": "Old"},
        "archived": True,
        "createdAt": None,
        "updatedAt": None,
    }
    live = {
        "id": "2",
        "properties": {"name": "New"},
        "archived": False,
        "createdAt": None,
        "updatedAt": None,
    }
    with Sandbox(write_world(tmp_path, {"hubspot/companies": [rec, live]})) as sb:
        assert [r["id"] for r in hubspot(sb, "/crm/v3/objects/companies").json()["results"]] == [
            "2"
        ]
        archived = hubspot(sb, "/crm/v3/objects/companies", archived="true").json()["results"]
        assert [r["id"] for r in archived] == ["1"]
        assert search(sb, "companies", {}).json()["total"] == 1


def test_hubspot_empty_resource(tmp_path: Path) -> None:
    with Sandbox(write_world(tmp_path, {"hubspot/products": []})) as sb:
        assert hubspot(sb, "/crm/v3/objects/products").json() == {"results": []}
        assert search(sb, "products", {}).json() == {"total": 0, "results": []}


def test_hubspot_auth(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/hubspot/crm/v3/objects/deals"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401
        body = answer.json()
        assert body["status"] == "error"
        assert body["category"] == "INVALID_AUTHENTICATION"
        assert body["correlationId"]


# --- Harvest ------------------------------------------------------------------------


def test_harvest_envelope_and_links(sandbox: Sandbox) -> None:
    first = harvest(sandbox, "time_entries", per_page=3).json()
    assert [e["id"] for e in first["time_entries"]] == [10005, 10007, 10004]
    base = f"{sandbox.base_url}/harvest/v2/time_entries"
    assert {k: v for k, v in first.items() if k != "time_entries"} == {
        "per_page": 3,
        "total_pages": 3,
        "total_entries": 7,
        "next_page": 2,
        "previous_page": None,
        "page": 1,
        "links": {
            "first": f"{base}?page=1&per_page=3",
            "next": f"{base}?page=2&per_page=3",
            "previous": None,
            "last": f"{base}?page=3&per_page=3",
        },
    }
    seen = [e["id"] for e in first["time_entries"]]
    url = first["links"]["next"]
    while url:
        page = requests.get(url, headers=HARVEST, timeout=10).json()
        seen += [e["id"] for e in page["time_entries"]]
        url = page["links"]["next"]
    assert seen == [10005, 10007, 10004, 10003, 10006, 10002, 10001]


def test_harvest_record_shape_is_nested(sandbox: Sandbox) -> None:
    entry = next(
        e for e in harvest(sandbox, "time_entries").json()["time_entries"] if e["id"] == 10001
    )
    assert entry["hours"] == 6.0
    assert entry["billable_rate"] == 95.0
    assert entry["project"] == {"id": 8001, "name": "Nordlicht website relaunch", "code": "201"}
    assert entry["invoice"] == {"id": 13001, "number": "INV-0001"}
    assert entry["updated_at"] == "2026-09-30T10:00:00Z"


def test_harvest_one_page_and_per_page_bounds(sandbox: Sandbox) -> None:
    whole = harvest(sandbox, "clients").json()
    assert whole["per_page"] == 2000
    assert whole["total_pages"] == 1
    assert whole["next_page"] is None
    assert whole["links"]["next"] is None
    for bad in (0, 2001):
        answer = harvest(sandbox, "clients", per_page=bad)
        assert answer.status_code == 422
        assert "message" in answer.json()


def test_harvest_updated_since_and_from_to(sandbox: Sandbox) -> None:
    since = harvest(sandbox, "time_entries", updated_since="2026-10-12T08:31:00Z").json()
    assert [e["id"] for e in since["time_entries"]] == [10005, 10007, 10004]
    assert since["links"]["next"] is None
    assert "updated_since=2026-10-12T08%3A31%3A00Z" in since["links"]["first"]
    window = harvest(sandbox, "time_entries", **{"from": "2026-10-01", "to": "2026-10-07"}).json()
    assert [e["id"] for e in window["time_entries"]] == [10004, 10003]
    billed = harvest(sandbox, "time_entries", is_billed="true", project_id=8001).json()
    assert [e["id"] for e in billed["time_entries"]] == [10002, 10001]
    assert harvest(sandbox, "time_entries", updated_since="yesterday").status_code == 422


def test_harvest_empty_resource(tmp_path: Path) -> None:
    with Sandbox(write_world(tmp_path, {"harvest/expenses": []})) as sb:
        body = harvest(sb, "expenses").json()
        assert body["expenses"] == []
        assert body["total_entries"] == 0
        assert body["next_page"] is None
        assert body["links"]["next"] is None


def test_harvest_auth(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/harvest/v2/clients"
    wrong_token = {**HARVEST, "Authorization": "Bearer nope"}
    no_account = {k: v for k, v in HARVEST.items() if k != "Harvest-Account-Id"}
    for headers in (wrong_token, no_account):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_token"


# --- Xero reads ---------------------------------------------------------------------


def test_xero_envelope_and_line_items_only_with_page(sandbox: Sandbox) -> None:
    unpaged = xero(sandbox, "Invoices").json()
    assert unpaged["Status"] == "OK"
    assert unpaged["DateTimeUTC"].startswith("/Date(")
    assert "pagination" not in unpaged
    assert [i["InvoiceNumber"] for i in unpaged["Invoices"]] == ["INV-0001", "INV-0002", "INV-0003"]
    assert all("LineItems" not in i for i in unpaged["Invoices"])
    paged = xero(sandbox, "Invoices", page=1, pageSize=2).json()
    assert paged["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 2, "itemCount": 3}
    assert [len(i["LineItems"]) for i in paged["Invoices"]] == [3, 2]
    assert paged["Invoices"][0]["Date"] == "/Date(1790726400000+0000)/"
    second = xero(sandbox, "Invoices", page=2, pageSize=2).json()
    assert [i["InvoiceNumber"] for i in second["Invoices"]] == ["INV-0003"]
    beyond = xero(sandbox, "Invoices", page=3, pageSize=2).json()
    assert beyond["Invoices"] == []


def test_xero_page_size_is_capped_at_1000(sandbox: Sandbox) -> None:
    assert xero(sandbox, "Contacts", page=1, pageSize=5000).json()["pagination"]["pageSize"] == 1000


def test_xero_unpaged_collections(sandbox: Sandbox) -> None:
    accounts = xero(sandbox, "Accounts", page=1).json()
    assert "pagination" not in accounts
    assert [a["Code"] for a in accounts["Accounts"]] == [
        "1200",
        "1400",
        "1776",
        "4736",
        "8338",
        "8400",
    ]
    assert [t["TaxType"] for t in xero(sandbox, "TaxRates").json()["TaxRates"]] == [
        "TAX001",
        "ECOUTPUTSERVICES",
        "EXEMPTOUTPUT",
        "NONE",
    ]


def test_xero_journals_offset(sandbox: Sandbox) -> None:
    assert [j["JournalNumber"] for j in xero(sandbox, "Journals").json()["Journals"]] == [
        1,
        2,
        3,
        4,
    ]
    assert [j["JournalNumber"] for j in xero(sandbox, "Journals", offset=2).json()["Journals"]] == [
        3,
        4,
    ]
    assert xero(sandbox, "Journals", offset=4).json()["Journals"] == []


def test_xero_journals_return_at_most_100(tmp_path: Path) -> None:
    journals = [
        {
            "JournalID": f"j{n}",
            "JournalNumber": n,
            "CreatedDateUTC": f"/Date({n * 1000}+0000)/",
            "JournalLines": [],
        }
        for n in range(1, 251)
    ]
    with Sandbox(write_world(tmp_path, {"xero/Journals": journals})) as sb:
        first = xero(sb, "Journals").json()["Journals"]
        assert (len(first), first[0]["JournalNumber"], first[-1]["JournalNumber"]) == (100, 1, 100)
        last = xero(sb, "Journals", offset=200).json()["Journals"]
        assert (len(last), last[0]["JournalNumber"], last[-1]["JournalNumber"]) == (50, 201, 250)


def test_xero_if_modified_since_iso_and_rfc1123(sandbox: Sandbox) -> None:
    iso = {"If-Modified-Since": "2026-10-05T13:00:00.500+02:00"}  # the note: 11:00:00.400 UTC
    assert [
        c["CreditNoteNumber"] for c in xero(sandbox, "CreditNotes", iso).json()["CreditNotes"]
    ] == []
    iso_before = {"If-Modified-Since": "2026-10-05T11:00:00.400"}  # inclusive
    assert len(xero(sandbox, "CreditNotes", iso_before).json()["CreditNotes"]) == 1
    rfc = {"If-Modified-Since": "Sat, 10 Oct 2026 00:00:00 GMT"}
    assert [i["InvoiceNumber"] for i in xero(sandbox, "Invoices", rfc).json()["Invoices"]] == [
        "INV-0001",
        "INV-0003",
    ]
    journals = xero(sandbox, "Journals", {"If-Modified-Since": "2026-10-01T00:00:00Z"}).json()
    assert [j["JournalNumber"] for j in journals["Journals"]] == [3, 4]
    # TaxRates ignore the header.
    assert len(xero(sandbox, "TaxRates", rfc).json()["TaxRates"]) == 4


def test_xero_where_reference_lookup(sandbox: Sandbox) -> None:
    where = f'Reference=="{INV1_REFERENCE}"'
    found = xero(sandbox, "Invoices", where=where).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in found] == ["INV-0001"]
    either = 'Type=="ACCREC" AND (Reference=="TG-000000000000" OR Reference=="Milestone 1")'
    assert [
        i["InvoiceNumber"] for i in xero(sandbox, "Invoices", where=either).json()["Invoices"]
    ] == ["INV-0002"]
    dated = xero(sandbox, "Invoices", where="UpdatedDateUTC>=DateTime(2026,10,10,0,0,0)").json()
    assert [i["InvoiceNumber"] for i in dated["Invoices"]] == ["INV-0001", "INV-0003"]
    ordered = xero(sandbox, "Invoices", order="UpdatedDateUTC DESC").json()
    assert [i["InvoiceNumber"] for i in ordered["Invoices"]] == ["INV-0003", "INV-0001", "INV-0002"]


def test_xero_single_record_and_404(sandbox: Sandbox) -> None:
    invoice_id = sandbox.records("xero", "Invoices")[1]["InvoiceID"]
    one = xero(sandbox, f"Invoices/{invoice_id}").json()["Invoices"]
    assert [i["InvoiceNumber"] for i in one] == ["INV-0002"]
    assert "LineItems" in one[0]
    assert xero(sandbox, "Invoices/00000000-0000-0000-0000-000000000000").status_code == 404


def test_xero_auth(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/xero/api.xro/2.0/Invoices"
    for headers in ({"xero-tenant-id": XERO_TENANT_ID}, {**XERO, "Authorization": "Bearer x"}):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["Title"] == "Unauthorized"
    for headers in ({"Authorization": XERO["Authorization"]}, {**XERO, "xero-tenant-id": "other"}):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 403
        assert answer.json()["Title"] == "Forbidden"


def test_xero_empty_resource(tmp_path: Path) -> None:
    with Sandbox(write_world(tmp_path, {"xero/Payments": []})) as sb:
        body = xero(sb, "Payments", page=1).json()
        assert body["Payments"] == []
        assert body["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 0, "itemCount": 0}


def test_unknown_paths(sandbox: Sandbox) -> None:
    assert requests.get(f"{sandbox.base_url}/nothing", timeout=10).status_code == 404
    assert harvest(sandbox, "invoices").status_code == 404
    assert xero(sandbox, "BankTransactions").status_code == 404
