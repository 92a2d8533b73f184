"""`advance`: move a world forward — new records and changes to existing ones, across the
three systems, chosen deterministically by a seed, with timestamps later than anything in
the world (so an incremental load picks up exactly these)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from taktgeber.sandbox.store import Record, World
from taktgeber.sandbox.timefmt import add_days, ms_to_iso_ms, ms_to_iso_s, ms_to_xero, xero_to_ms
from taktgeber.sandbox.xero_ledger import INVOICE, accounts_by_code, build_document, post_journal

Changes = dict[str, dict[str, list[Any]]]
HOURS = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.5, 6.0, 7.5, 8.0]


def advance(world: World, seed: int, new: int = 5, changed: int = 5, paid: int = 0) -> Changes:
    rng = random.Random(seed)
    result: Changes = {}
    result["harvest/time_entries"] = _time_entries(world, rng, new, changed)
    result["hubspot/companies"] = _hubspot(world, rng, "companies", new, changed)
    result["hubspot/deals"] = _hubspot(world, rng, "deals", new, changed)
    journals_before = {e.rid for e in world.get("xero", "Journals").entries}
    result["xero/Invoices"] = _invoices(world, rng, new, changed)
    result["xero/Payments"] = _payments(world, rng, paid)
    result["xero/Invoices"]["changed"] += result["xero/Payments"].pop("paid")
    result["xero/Journals"] = {
        "added": [
            e.rid for e in world.get("xero", "Journals").entries if e.rid not in journals_before
        ],
        "changed": [],
    }
    return result


def _pick(rng: random.Random, ids: list[Any], count: int) -> list[Any]:
    """`count` of `ids` (given in a deterministic order), returned sorted."""
    return sorted(rng.sample(ids, min(count, len(ids))))


def _time_entries(world: World, rng: random.Random, new: int, changed: int) -> dict[str, list[Any]]:
    resource = world.get("harvest", "time_entries")
    existing = sorted(resource.by_id)
    if not existing:
        return {"added": [], "changed": []}
    to_change = _pick(rng, existing, changed)
    templates = [resource.by_id[i].rec for i in _pick(rng, existing, min(len(existing), 50))]
    last_day = max(str(e.day or "") for e in resource.entries)
    next_id = existing[-1] + 1
    stamp = ms_to_iso_s(world.now_ms() + 1000)
    records: list[Record] = []
    added: list[int] = []
    for offset in range(new):
        template = rng.choice(templates)
        hours = rng.choice(HOURS)
        billable = bool(template.get("billable"))
        rec = {
            **template,
            "id": next_id + offset,
            "spent_date": add_days(last_day, rng.randint(0, 2))
            if last_day
            else template["spent_date"],
            "hours": hours,
            "hours_without_timer": hours,
            "rounded_hours": hours,
            "notes": f"Work logged after advance {offset + 1}",
            "is_locked": False,
            "locked_reason": None,
            "is_closed": False,
            "is_billed": False,
            "invoice": None,
            "billable": billable,
            "created_at": stamp,
            "updated_at": stamp,
        }
        records.append(rec)
        added.append(rec["id"])
    for position, entry_id in enumerate(to_change):
        rec = dict(resource.by_id[entry_id].rec)
        if position % 2 == 0 or rec.get("is_billed"):
            hours = round(float(rec.get("hours") or 0) + rng.choice([-0.5, 0.5, 1.0]), 2)
            hours = max(hours, 0.25)
            rec.update({"hours": hours, "hours_without_timer": hours, "rounded_hours": hours})
        else:
            rec["is_closed"] = not rec.get("is_closed")
            rec["is_locked"] = rec["is_closed"]
            rec["locked_reason"] = "Item Approved" if rec["is_closed"] else None
        rec["updated_at"] = stamp
        records.append(rec)
    resource.upsert(records)
    return {"added": added, "changed": to_change}


def _hubspot(
    world: World, rng: random.Random, name: str, new: int, changed: int
) -> dict[str, list[Any]]:
    resource = world.get("hubspot", name)
    existing = sorted(resource.by_id, key=int)
    if not existing:
        return {"added": [], "changed": []}
    to_change = [str(i) for i in _pick(rng, [int(i) for i in existing], changed)]
    stamp = ms_to_iso_ms(world.now_ms() + 1000)
    next_id = int(existing[-1]) + 1
    records: list[Record] = []
    added: list[str] = []
    for offset in range(new):
        template = resource.by_id[rng.choice(existing)].rec
        new_id = str(next_id + offset)
        props = dict(template.get("properties") or {})
        props.update({"hs_object_id": new_id, "createdate": stamp, "hs_lastmodifieddate": stamp})
        if name == "deals":
            props.update(
                {
                    "dealname": f"{props.get('dealname') or 'Deal'} - follow-up {new_id}",
                    "amount": str(rng.randrange(2_000, 40_000, 500)),
                    "dealstage": "appointmentscheduled",
                    "parent_deal_id": None,
                }
            )
        else:
            props.update(
                {"name": f"Advance Company {new_id} GmbH", "domain": f"company-{new_id}.example"}
            )
        rec: Record = {
            **template,
            "id": new_id,
            "properties": props,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        if name == "deals" and "associations" in template:
            rec["associations"] = {
                k: v for k, v in template["associations"].items() if k == "companies"
            }
        records.append(rec)
        added.append(new_id)
    for record_id in to_change:
        rec = dict(resource.by_id[record_id].rec)
        props = dict(rec.get("properties") or {})
        if name == "deals":
            if props.get("dealstage") == "closedwon":
                props["amount"] = str(int(float(props.get("amount") or 0)) + 500)
            else:
                props["dealstage"] = "closedwon" if rng.random() < 0.5 else "closedlost"
        else:
            props["payment_terms_days"] = "30" if props.get("payment_terms_days") == "14" else "14"
        props["hs_lastmodifieddate"] = stamp
        rec.update({"properties": props, "updatedAt": stamp})
        records.append(rec)
    resource.upsert(records)
    return {"added": added, "changed": to_change}


def _invoices(world: World, rng: random.Random, new: int, changed: int) -> dict[str, list[Any]]:
    invoices = world.get("xero", "Invoices")
    contacts = sorted(e.rec["ContactID"] for e in world.get("xero", "Contacts").entries)
    revenue = sorted(
        code for code, a in accounts_by_code(world).items() if a.get("Type") in ("REVENUE", "SALES")
    )
    added: list[str] = []
    taken: set[str] = set()
    if contacts and revenue:
        for offset in range(new):
            code = rng.choice(revenue)
            element = {
                "Type": "ACCREC",
                "Contact": {"ContactID": rng.choice(contacts)},
                "Date": ms_to_xero(world.now_ms()),
                "Reference": f"Advance {offset + 1}",
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": "Consulting (advance)",
                        "Quantity": rng.choice(HOURS),
                        "UnitAmount": float(rng.choice([90, 95, 110, 120])),
                        "AccountCode": code,
                    }
                ],
            }
            element["DueDate"] = element["Date"]
            element["InvoiceID"] = _uuid(rng)
            element["LineItems"][0]["LineItemID"] = _uuid(rng)
            doc, errors = build_document(world, INVOICE, element, taken)
            if doc is None:
                raise ValueError(f"advance could not build an invoice: {errors}")
            invoices.upsert([doc])
            post_journal(world, doc, INVOICE, journal_id=_uuid(rng))
            added.append(doc["InvoiceID"])
    candidates = [
        e.rec["InvoiceID"]
        for e in invoices.entries
        if e.rec.get("Status") in ("DRAFT", "SUBMITTED", "AUTHORISED")
        and e.rec["InvoiceID"] not in added
        and not e.rec.get("AmountPaid")
    ]
    to_change = _pick(rng, candidates, changed)
    for invoice_id in to_change:
        rec = dict(invoices.by_id[invoice_id].rec)
        stamp = ms_to_xero(world.now_ms())
        if rec.get("Status") == "AUTHORISED":
            due = rec.get("DueDate") or rec["Date"]
            rec["DueDate"] = ms_to_xero(xero_to_ms(due) + 14 * 86_400_000)
            rec["UpdatedDateUTC"] = stamp
            invoices.upsert([rec])
        else:
            rec.update({"Status": "AUTHORISED", "UpdatedDateUTC": stamp})
            invoices.upsert([rec])
            post_journal(world, rec, INVOICE, journal_id=_uuid(rng))
    return {"added": added, "changed": to_change}


def _payments(world: World, rng: random.Random, count: int) -> dict[str, list[Any]]:
    """`count` open sales invoices (AUTHORISED, nothing paid or credited yet) paid in full,
    each on its own date (Xero takes a payment's Date as given): a new ACCRECPAYMENT on
    the first bank account, and the invoice PAID with nothing due, both stamped now. No
    journal is posted for the payment (the sandbox posts those of invoices and credit
    notes only). Returns the new payment ids ("added") and the invoices paid ("paid")."""
    invoices = world.get("xero", "Invoices")
    accounts = accounts_by_code(world)
    banks = sorted(code for code, a in accounts.items() if a.get("Type") == "BANK")
    candidates = [
        e.rec["InvoiceID"]
        for e in invoices.entries
        if e.rec.get("Type") == "ACCREC"
        and e.rec.get("Status") == "AUTHORISED"
        and not e.rec.get("AmountPaid")
        and not e.rec.get("AmountCredited")
        and (e.rec.get("AmountDue") or 0) > 0
    ]
    to_pay = _pick(rng, candidates, count) if banks else []
    stamp = ms_to_xero(world.now_ms())
    added: list[str] = []
    for invoice_id in to_pay:
        rec = dict(invoices.by_id[invoice_id].rec)
        payment_id = _uuid(rng)
        payment = {
            "PaymentID": payment_id,
            "Date": rec["Date"],
            "Amount": rec["AmountDue"],
            "CurrencyRate": rec.get("CurrencyRate") or 1.0,
            "Reference": rec.get("InvoiceNumber") or "",
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT",
            "IsReconciled": False,
            "HasAccount": True,
            "Account": {
                "AccountID": accounts[banks[0]].get("AccountID"),
                "Code": banks[0],
            },
            "Invoice": {
                "InvoiceID": invoice_id,
                "InvoiceNumber": rec.get("InvoiceNumber"),
                "Type": "ACCREC",
                "Contact": rec.get("Contact"),
                "CurrencyCode": rec.get("CurrencyCode"),
            },
            "UpdatedDateUTC": stamp,
        }
        world.get("xero", "Payments").upsert([payment])
        rec.update(
            {
                "Status": "PAID",
                "AmountPaid": rec["Total"],
                "AmountDue": 0.0,
                "FullyPaidOnDate": rec["Date"],
                "Payments": [
                    {
                        "PaymentID": payment_id,
                        "Date": rec["Date"],
                        "Amount": payment["Amount"],
                        "CurrencyRate": payment["CurrencyRate"],
                        "Reference": payment["Reference"],
                        "HasAccount": True,
                    }
                ],
                "UpdatedDateUTC": stamp,
            }
        )
        invoices.upsert([rec])
        added.append(payment_id)
    return {"added": added, "changed": [], "paid": to_pay}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
