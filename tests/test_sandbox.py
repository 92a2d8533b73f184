"""The sandbox speaks HubSpot, Harvest and Xero as source-apis.md says: real HTTP on
loopback against `Sandbox` serving tests/fixtures/tiny (or a synthetic world in tmp)."""

from __future__ import annotations

import json
import shutil
import threading
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
    FaultSpecError,
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


# --- Xero writes --------------------------------------------------------------------


def put_invoices(
    sb: Sandbox,
    invoices: list[dict[str, Any]],
    summarize: bool = True,
    key: str | None = None,
    method: str = "PUT",
) -> requests.Response:
    params = {"unitdp": "4"} if summarize else {"summarizeErrors": "false", "unitdp": "4"}
    headers = {**XERO, **({"Idempotency-Key": key} if key else {})}
    url = f"{sb.base_url}/xero/api.xro/2.0/Invoices"
    return requests.request(
        method, url, params=params, json={"Invoices": invoices}, headers=headers, timeout=10
    )


def new_invoice(sb: Sandbox, reference: str = "TG-0123456789ab", **extra: Any) -> dict[str, Any]:
    contact_id = sb.records("xero", "Contacts")[0]["ContactID"]
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-30",
        "DueDate": "2026-12-14",
        "Reference": reference,
        "Status": "AUTHORISED",
        "CurrencyCode": "EUR",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Development (Oct 2026)",
                "Quantity": 8.0,
                "UnitAmount": 110.0,
                "AccountCode": "8400",
                "TaxType": "TAX001",
            },
            {
                "Description": "Design (Oct 2026)",
                "Quantity": 4.25,
                "UnitAmount": 95.0,
                "AccountCode": "8400",
                "TaxType": "TAX001",
            },
            {"Description": "2 % Skonto bei Zahlung bis 10.12.2026"},
        ],
        **extra,
    }


def test_xero_put_invoice_computes_totals_and_posts_a_journal(fresh: Sandbox) -> None:
    answer = put_invoices(fresh, [new_invoice(fresh)])
    assert answer.status_code == 200
    created = answer.json()["Invoices"][0]
    assert created["InvoiceNumber"] == "INV-0004"
    assert len(created["InvoiceID"]) == 36
    assert [line["LineAmount"] for line in created["LineItems"]] == [880.0, 403.75, 0.0]
    assert [line["TaxAmount"] for line in created["LineItems"]] == [167.2, 76.71, 0.0]
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (
        1283.75,
        243.91,
        1527.66,
    )
    assert (created["AmountDue"], created["Status"], created["CurrencyRate"]) == (
        1527.66,
        "AUTHORISED",
        1.0,
    )
    assert created["Date"] == "/Date(1795996800000+0000)/"
    assert "StatusAttributeString" not in created
    # It is there for later reads, with its line items on a paged read.
    paged = xero(fresh, "Invoices", page=1).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in paged] == ["INV-0001", "INV-0002", "INV-0003", "INV-0004"]
    assert len(paged[-1]["LineItems"]) == 3
    journal = xero(fresh, "Journals", offset=4).json()["Journals"]
    assert len(journal) == 1
    assert (journal[0]["JournalNumber"], journal[0]["SourceType"]) == (5, "ACCREC")
    assert journal[0]["SourceID"] == created["InvoiceID"]
    assert [
        (l["AccountCode"], l["NetAmount"], l["TaxAmount"], l["GrossAmount"])
        for l in journal[0]["JournalLines"]
    ] == [
        ("1400", 1527.66, 0.0, 1527.66),
        ("8400", -1283.75, -243.91, -1527.66),
        ("1776", -243.91, 0.0, -243.91),
    ]


def test_xero_draft_has_no_journal_until_authorised_by_post(fresh: Sandbox) -> None:
    draft = put_invoices(fresh, [new_invoice(fresh, Status="DRAFT")]).json()["Invoices"][0]
    assert xero(fresh, "Journals", offset=4).json()["Journals"] == []
    url = f"{fresh.base_url}/xero/api.xro/2.0/Invoices/{draft['InvoiceID']}"
    update = requests.post(url, json={"Status": "AUTHORISED"}, headers=XERO, timeout=10)
    assert update.status_code == 200
    assert update.json()["Invoices"][0]["Status"] == "AUTHORISED"
    journals = xero(fresh, "Journals", offset=4).json()["Journals"]
    assert [j["SourceID"] for j in journals] == [draft["InvoiceID"]]


def test_xero_foreign_currency_journal_is_in_eur_at_the_invoice_rate(fresh: Sandbox) -> None:
    invoice = new_invoice(fresh, CurrencyCode="GBP", CurrencyRate=0.8, LineAmountTypes="NoTax")
    invoice["LineItems"] = [
        {
            "Description": "Workshop",
            "Quantity": 1,
            "UnitAmount": 1000.0,
            "AccountCode": "8400",
            "TaxType": "EXEMPTOUTPUT",
        }
    ]
    created = put_invoices(fresh, [invoice]).json()["Invoices"][0]
    assert (created["Total"], created["CurrencyCode"]) == (1000.0, "GBP")
    lines = xero(fresh, "Journals", offset=4).json()["Journals"][0]["JournalLines"]
    assert [(l["AccountCode"], l["NetAmount"]) for l in lines] == [
        ("1400", 1250.0),
        ("8400", -1250.0),
    ]


def test_xero_validation_errors_summarized_reject_the_whole_batch(fresh: Sandbox) -> None:
    good = new_invoice(fresh)
    duplicate = new_invoice(fresh, InvoiceNumber="INV-0001")
    answer = put_invoices(fresh, [good, duplicate])
    assert answer.status_code == 400
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    assert [e["ValidationErrors"] for e in body["Elements"]] == [
        [{"Message": "Invoice # must be unique."}]
    ]
    assert len(fresh.records("xero", "Invoices")) == 3


def test_xero_summarize_errors_false_reports_each_element(fresh: Sandbox) -> None:
    unknown_contact = new_invoice(
        fresh, Contact={"ContactID": "11111111-2222-4333-8444-555555555555"}
    )
    no_lines = new_invoice(fresh, LineItems=[])
    same_number_twice = [
        new_invoice(fresh, InvoiceNumber="TG-X-1"),
        new_invoice(fresh, InvoiceNumber="TG-X-1"),
    ]
    answer = put_invoices(
        fresh, [new_invoice(fresh), unknown_contact, no_lines, *same_number_twice], summarize=False
    )
    assert answer.status_code == 200
    elements = answer.json()["Invoices"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR", "ERROR", "OK", "ERROR"]
    assert [e.get("ValidationErrors", []) for e in elements] == [
        [],
        [
            {
                "Message": "The contact could not be found. Check the ContactID, ContactNumber or Name."
            }
        ],
        [{"Message": "At least one line item is required."}],
        [],
        [{"Message": "Invoice # must be unique."}],
    ]
    assert elements[1]["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert [e["InvoiceNumber"] for e in elements if e["StatusAttributeString"] == "OK"] == [
        "INV-0004",
        "TG-X-1",
    ]
    assert len(fresh.records("xero", "Invoices")) == 5


def test_xero_idempotency_key_replays_and_rejects_a_different_body(fresh: Sandbox) -> None:
    first = put_invoices(fresh, [new_invoice(fresh)], key="draft-TG-0123456789ab-1")
    again = put_invoices(fresh, [new_invoice(fresh)], key="draft-TG-0123456789ab-1")
    assert again.status_code == 200
    assert again.content == first.content
    assert len(fresh.records("xero", "Invoices")) == 4
    other = put_invoices(
        fresh, [new_invoice(fresh, Reference="TG-ffffffffffff")], key="draft-TG-0123456789ab-1"
    )
    assert other.status_code == 400
    assert len(fresh.records("xero", "Invoices")) == 4
    too_long = put_invoices(fresh, [new_invoice(fresh)], key="k" * 129)
    assert too_long.status_code == 400


def test_a_request_cut_off_mid_body_is_never_acted_on(fresh: Sandbox) -> None:
    """A writer killed while sending: the half-sent PUT creates nothing and does not claim
    its Idempotency-Key, so the full request sent again afterwards goes through."""
    import json as _json
    import socket
    from urllib.parse import urlsplit

    key = "draft-TG-0123456789ab-cut"
    body = _json.dumps({"Invoices": [new_invoice(fresh)]}).encode()
    address = urlsplit(fresh.base_url)
    head = (
        f"PUT /xero/api.xro/2.0/Invoices?unitdp=4 HTTP/1.1\r\nHost: {address.netloc}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in XERO.items())
        + f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(head + body[: len(body) // 2])
        conn.shutdown(socket.SHUT_WR)  # the writer dies: the rest never comes
        assert conn.recv(1024) == b""  # closed without an answer
    assert len(fresh.records("xero", "Invoices")) == 3
    whole = put_invoices(fresh, [new_invoice(fresh)], key=key)
    assert whole.status_code == 200
    assert len(fresh.records("xero", "Invoices")) == 4


def test_xero_lookup_by_reference_finds_a_written_invoice(fresh: Sandbox) -> None:
    put_invoices(fresh, [new_invoice(fresh, reference="TG-00000000beef")])
    where = 'Reference=="TG-00000000beef" OR Reference=="TG-00000000dead"'
    found = xero(fresh, "Invoices", where=where, page=1).json()["Invoices"]
    assert [(i["InvoiceNumber"], i["Reference"], i["Total"]) for i in found] == [
        ("INV-0004", "TG-00000000beef", 1527.66)
    ]


def test_xero_credit_note_and_allocation(fresh: Sandbox) -> None:
    invoice = put_invoices(fresh, [new_invoice(fresh)]).json()["Invoices"][0]
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": invoice["Contact"],
        "Date": "2026-12-01",
        "Reference": invoice["InvoiceNumber"],
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Design: 1 h too many",
                "Quantity": 1,
                "UnitAmount": 95.0,
                "AccountCode": "8400",
                "TaxType": "TAX001",
            }
        ],
    }
    url = f"{fresh.base_url}/xero/api.xro/2.0/CreditNotes"
    created = requests.put(url, json={"CreditNotes": [note]}, headers=XERO, timeout=10).json()[
        "CreditNotes"
    ][0]
    assert (created["CreditNoteNumber"], created["Total"], created["RemainingCredit"]) == (
        "CN-0002",
        113.05,
        113.05,
    )
    allocation = {
        "Amount": 113.05,
        "Date": "2026-12-01",
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
    }
    answer = requests.put(
        f"{url}/{created['CreditNoteID']}/Allocations",
        json={"Allocations": [allocation]},
        headers=XERO,
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json()["Allocations"][0]["Amount"] == 113.05
    stored_note = next(
        n
        for n in fresh.records("xero", "CreditNotes")
        if n["CreditNoteID"] == created["CreditNoteID"]
    )
    assert (stored_note["RemainingCredit"], stored_note["Status"]) == (0.0, "PAID")
    stored_invoice = next(
        i for i in fresh.records("xero", "Invoices") if i["InvoiceID"] == invoice["InvoiceID"]
    )
    assert (stored_invoice["AmountDue"], stored_invoice["AmountCredited"]) == (1414.61, 113.05)
    journal = xero(fresh, "Journals", offset=5).json()["Journals"][0]
    assert journal["SourceType"] == "ACCRECCREDIT"
    assert [l["NetAmount"] for l in journal["JournalLines"]] == [-113.05, 95.0, 18.05]
    too_much = requests.put(
        f"{url}/{created['CreditNoteID']}/Allocations",
        json={"Allocations": [allocation]},
        headers=XERO,
        timeout=10,
    )
    assert too_much.status_code == 400


# --- faults -------------------------------------------------------------------------


def test_fault_429_speaks_each_systems_dialect(fresh: Sandbox) -> None:
    fresh.set_faults("429=1")
    answer = hubspot(fresh, "/crm/v3/objects/deals")
    assert answer.status_code == 429
    assert answer.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert answer.json()["errorType"] == "RATE_LIMIT"
    assert answer.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in answer.headers
    answer = harvest(fresh, "clients")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")
    answer = xero(fresh, "Invoices")
    assert answer.status_code == 429
    assert answer.headers["X-Rate-Limit-Problem"] == "minute"
    assert answer.headers["Retry-After"] == "1"


def test_fault_5xx_per_system_and_seeded(fresh: Sandbox) -> None:
    fresh.set_faults("xero.5xx=1")
    assert hubspot(fresh, "/crm/v3/objects/deals").status_code == 200
    assert xero(fresh, "Invoices").status_code in (500, 502, 503, 504)

    def statuses(seed: int) -> list[int]:
        fresh.set_faults("5xx=0.5", seed=seed)
        return [harvest(fresh, "clients").status_code for _ in range(20)]

    first = statuses(3)
    assert first == statuses(3)
    assert 200 in first and any(s >= 500 for s in first)


def test_fault_latency(fresh: Sandbox) -> None:
    fresh.set_faults("latency=1:0.3")
    answer = harvest(fresh, "clients")
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3


def test_fault_drop_after_committed_write(fresh: Sandbox) -> None:
    fresh.set_faults("drop=1")
    with pytest.raises(requests.ConnectionError):
        put_invoices(fresh, [new_invoice(fresh, reference="TG-000000d40000")])
    fresh.set_faults(None)
    found = xero(fresh, "Invoices", where='Reference=="TG-000000d40000"').json()["Invoices"]
    assert len(found) == 1  # the write happened although the client never heard back


def test_fault_truncated_page(fresh: Sandbox) -> None:
    whole = harvest(fresh, "time_entries").content
    fresh.set_faults("truncate=1")
    cut = harvest(fresh, "time_entries")
    assert cut.status_code == 200
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(requests.JSONDecodeError):
        cut.json()


def test_fault_schema_drift(fresh: Sandbox) -> None:
    fresh.set_faults(
        "drift=harvest/time_entries:extra_field|harvest/time_entries:hours:string"
        "|hubspot/deals:amount:number|xero/Invoices:extra_field:Surprise"
    )
    entries = harvest(fresh, "time_entries").json()["time_entries"]
    assert {e["sandbox_drift_field"] for e in entries} == {"drift"}
    assert sorted(e["hours"] for e in entries) == ["1.0", "4.0", "6.0", "6.5", "7.5", "8.0", "8.0"]
    amounts = [
        d["properties"]["amount"] for d in hubspot(fresh, "/crm/v3/objects/deals").json()["results"]
    ]
    assert amounts == [24000.0, 30000.0, 8000.0, 3000.0]
    assert all(i["Surprise"] == "drift" for i in xero(fresh, "Invoices").json()["Invoices"])
    # The stored records are untouched; turning faults off serves them as before.
    fresh.set_faults(None)
    assert harvest(fresh, "time_entries").json()["time_entries"][0]["hours"] == 6.5


def test_bad_fault_spec() -> None:
    for spec in ("nonsense=1", "5xx=2", "drift=harvest/nope:x:string", "moon.5xx=0.1"):
        with pytest.raises(FaultSpecError):
            Sandbox(TINY, faults=spec)


# --- rate limits --------------------------------------------------------------------


def test_rate_limits_hubspot_harvest_xero(tmp_path: Path) -> None:
    with Sandbox(TINY, rate_limits=True) as sb, requests.Session() as session:
        url = f"{sb.base_url}/hubspot/crm/v3/objects/products"
        answers = [session.get(url, headers=HUBSPOT, timeout=10) for _ in range(101)]
        assert [a.status_code for a in answers].count(200) == 100
        assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "100"
        assert answers[0].headers["X-HubSpot-RateLimit-Remaining"] == "99"
        assert answers[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        last = answers[-1]
        assert last.status_code == 429
        assert last.json()["message"] == "You have reached your ten_secondly_rolling limit."
        assert "Retry-After" not in last.headers

        url = f"{sb.base_url}/harvest/v2/tasks"
        answers = [session.get(url, headers=HARVEST, timeout=10) for _ in range(101)]
        assert [a.status_code for a in answers].count(200) == 100
        assert answers[-1].status_code == 429
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 15

        url = f"{sb.base_url}/xero/api.xro/2.0/TaxRates"
        answers = [session.get(url, headers=XERO, timeout=10) for _ in range(61)]
        assert [a.status_code for a in answers].count(200) == 60
        assert answers[0].headers["X-MinLimit-Remaining"] == "59"
        assert answers[0].headers["X-DayLimit-Remaining"] == "4999"
        assert "X-AppMinLimit-Remaining" in answers[0].headers
        last = answers[-1]
        assert last.status_code == 429
        assert last.headers["X-Rate-Limit-Problem"] == "minute"
        assert 1 <= int(last.headers["Retry-After"]) <= 60


def test_rate_limit_xero_concurrency() -> None:
    with Sandbox(TINY, rate_limits=True, faults="latency=1:1.0") as sb:
        barrier = threading.Barrier(6)
        statuses: list[int] = []
        problems: list[str] = []

        def call() -> None:
            barrier.wait()
            answer = xero(sb, "TaxRates")
            statuses.append(answer.status_code)
            problems.append(answer.headers.get("X-Rate-Limit-Problem", ""))

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 200, 200, 200, 200, 429]
        assert "concurrent" in problems


# --- advance ------------------------------------------------------------------------


def test_advance_is_seen_exactly_by_incremental_reads(fresh: Sandbox) -> None:
    before_harvest = max(e["updated_at"] for e in fresh.records("harvest", "time_entries"))
    before_deals = max(
        d["properties"]["hs_lastmodifieddate"] for d in fresh.records("hubspot", "deals")
    )
    before_invoices = max(int(i["UpdatedDateUTC"][6:19]) for i in fresh.records("xero", "Invoices"))
    changes = fresh.advance(seed=11, new=3, changed=2)
    assert set(changes) >= {
        "harvest/time_entries",
        "hubspot/deals",
        "hubspot/companies",
        "xero/Invoices",
        "xero/Journals",
    }
    assert changes["harvest/time_entries"]["added"] == [10008, 10009, 10010]
    assert len(changes["harvest/time_entries"]["changed"]) == 2

    # Harvest: updated_since one second after the old cursor.
    since = before_harvest[:-3] + f"{int(before_harvest[-3:-1]) + 1:02d}Z"
    got = {
        e["id"] for e in harvest(fresh, "time_entries", updated_since=since).json()["time_entries"]
    }
    te = changes["harvest/time_entries"]
    assert got == set(te["added"]) | set(te["changed"])

    # HubSpot: search GT the old cursor.
    from taktgeber.sandbox.timefmt import iso_to_ms

    body = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "hs_lastmodifieddate",
                        "operator": "GT",
                        "value": str(iso_to_ms(before_deals)),
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 200,
    }
    got_deals = {r["id"] for r in search(fresh, "deals", body).json()["results"]}
    assert got_deals == set(changes["hubspot/deals"]["added"]) | set(
        changes["hubspot/deals"]["changed"]
    )

    # Xero: If-Modified-Since after the old cursor; Journals by offset.
    stamp = f"/Date({before_invoices + 1})/"
    from taktgeber.sandbox.timefmt import ms_to_iso_ms, xero_to_ms

    header = {"If-Modified-Since": ms_to_iso_ms(xero_to_ms(stamp))}
    got_invoices = {i["InvoiceID"] for i in xero(fresh, "Invoices", header).json()["Invoices"]}
    inv = changes["xero/Invoices"]
    assert got_invoices == set(inv["added"]) | set(inv["changed"])
    journals = xero(fresh, "Journals", offset=4).json()["Journals"]
    assert [j["JournalID"] for j in journals] == changes["xero/Journals"]["added"]
    assert [j["JournalNumber"] for j in journals] == list(range(5, 5 + len(journals)))


def test_advance_is_deterministic_by_seed(tmp_path: Path) -> None:
    def run() -> tuple[dict[str, Any], list[tuple[int, float, bool]]]:
        sb = Sandbox(TINY)
        changes = sb.advance(seed=5)
        entries = [
            (e["id"], e["hours"], e["is_closed"]) for e in sb.records("harvest", "time_entries")
        ]
        return changes, entries

    assert run() == run()


def test_compact_collections_serve_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big collections keep only JSON bytes (see store.COMPACT_THRESHOLD); same answers."""
    from taktgeber.sandbox import store

    monkeypatch.setattr(store, "COMPACT_THRESHOLD", 0)
    world = tmp_path / "world"
    shutil.copytree(TINY, world)
    with Sandbox(world) as sb:
        assert sb.world.get("harvest", "time_entries").compact
        pages = [harvest(sb, "time_entries", per_page=3, page=p).json() for p in (1, 2, 3)]
        assert [e["id"] for p in pages for e in p["time_entries"]] == [
            10005,
            10007,
            10004,
            10003,
            10006,
            10002,
            10001,
        ]
        window = harvest(sb, "time_entries", **{"from": "2026-10-01", "to": "2026-10-07"}).json()
        assert [e["id"] for e in window["time_entries"]] == [10004, 10003]
        billed = harvest(sb, "time_entries", is_billed="true", project_id=8001).json()
        assert [e["id"] for e in billed["time_entries"]] == [10002, 10001]
        created = put_invoices(sb, [new_invoice(sb, reference="TG-c0c0c0c0c0c0")]).json()[
            "Invoices"
        ][0]
        assert created["InvoiceNumber"] == "INV-0004"
        assert put_invoices(sb, [new_invoice(sb, InvoiceNumber="INV-0004")]).status_code == 400
        found = xero(sb, "Invoices", where='Reference=="TG-c0c0c0c0c0c0"').json()["Invoices"]
        assert [i["InvoiceID"] for i in found] == [created["InvoiceID"]]
        changes = sb.advance(seed=2, new=2, changed=3)
        first = harvest(sb, "time_entries", per_page=2).json()["time_entries"]
        assert [e["id"] for e in first] == sorted(
            changes["harvest/time_entries"]["added"], reverse=True
        )
        sb.set_faults("drift=harvest/time_entries:hours:string")
        assert {type(e["hours"]) for e in harvest(sb, "time_entries").json()["time_entries"]} == {
            str
        }


def test_world_files_are_read_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taktgeber.sandbox import store

    monkeypatch.setattr(store, "CHUNK_BYTES", 64)
    records = [{"id": i, "lines": [{"x": "},{"}, {"y": i}], "note": "}, {"} for i in range(50)]
    for text in (json.dumps(records), json.dumps(records, indent=2)):
        path = tmp_path / "records.json"
        path.write_text(text)
        assert list(store.read_records(path)) == records
    path.write_text("{}")
    with pytest.raises(TypeError):
        list(store.read_records(path))


def test_xero_exactly_one_page(sandbox: Sandbox) -> None:
    body = xero(sandbox, "Invoices", page=1, pageSize=3).json()
    assert body["pagination"] == {"page": 1, "pageSize": 3, "pageCount": 1, "itemCount": 3}
    assert len(body["Invoices"]) == 3


def test_rate_limit_hubspot_search_five_per_second() -> None:
    from taktgeber.sandbox.ratelimits import RateLimiter

    limiter = RateLimiter(enabled=True)
    admitted = [limiter.admit("hubspot", search=True) for _ in range(6)]
    assert [a.rejection is None for a in admitted] == [True] * 5 + [False]
    rejection = admitted[-1].rejection
    assert rejection is not None and rejection.status == 429
    assert json.loads(rejection.body)["policyName"] == "SECONDLY"
    assert limiter.admit("hubspot").rejection is None  # plain reads still have room


def test_serve_forever_reads_rate_limits_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import taktgeber.sandbox as package

    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, world: Path, **kwargs: Any) -> None:
            seen.update(kwargs, world=world)

        def serve_forever(self) -> None:
            seen["served"] = True

    monkeypatch.setattr(package, "Sandbox", Recorder)
    monkeypatch.setenv("TAKTGEBER_SANDBOX_RATE_LIMITS", "1")
    package.serve_forever(TINY, port=8799, faults="5xx=0.1", fault_seed=4)
    assert seen == {
        "world": TINY,
        "host": "127.0.0.1",
        "port": 8799,
        "faults": "5xx=0.1",
        "fault_seed": 4,
        "rate_limits": True,
        "served": True,
    }


def test_cli_serves_a_world(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "taktgeber",
        "sandbox",
        "--world",
        str(TINY),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/harvest/v2/clients"
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(url, headers=HARVEST, timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert [c["id"] for c in answer.json()["clients"]] == [5003, 5002, 5001]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_stop_closes_keep_alive_connections() -> None:
    sb = Sandbox(TINY).start()
    with requests.Session() as session:
        url = f"{sb.base_url}/harvest/v2/tasks"
        assert session.get(url, headers=HARVEST, timeout=10).status_code == 200
        sb.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(url, headers=HARVEST, timeout=10)
