"""Master data and CRM records in each API's own JSON shape (specs/source-apis.md)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from taktgeber.generator.formats import (
    Uuids,
    at,
    harvest_ts,
    hubspot_ts,
    money_text,
    write_array,
    xero_datetime,
)
from taktgeber.generator.model import Company, Deal, LineItem
from taktgeber.generator.plan import World
from taktgeber.generator.reference import (
    ACCOUNTS,
    BANK,
    BILLABLE_SERVICES,
    CASH_DISCOUNT,
    SERVICE_BY_TYPE,
    SERVICES,
    TAX_RATES,
)

COUNTRY_CITY = {
    "DE": "Berlin",
    "AT": "Wien",
    "FR": "Lyon",
    "NL": "Utrecht",
    "CH": "Zürich",
    "GB": "Manchester",
    "US": "Boston",
}


def _hs(day: date, n: int) -> str:
    return hubspot_ts(at(day, 32_400 + n % 28_800), n)


def _hubspot(
    record_id: str,
    properties: dict[str, Any],
    created: date,
    updated: date,
    n: int,
    associations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    props = {k: (None if v is None else str(v)) for k, v in properties.items()}
    props["createdate"] = _hs(created, n)
    props["hs_lastmodifieddate"] = _hs(updated, n + 1)
    props["hs_object_id"] = record_id
    record: dict[str, Any] = {
        "id": record_id,
        "properties": props,
        "createdAt": props["createdate"],
        "updatedAt": props["hs_lastmodifieddate"],
        "archived": False,
    }
    if associations is not None:
        record["associations"] = associations
    return record


def company_record(c: Company, as_of: date) -> dict[str, Any]:
    return _hubspot(
        c.id,
        {
            "name": c.name,
            "domain": c.domain,
            "country": c.country,
            "city": COUNTRY_CITY[c.country],
            "vat_id": c.vat_id,
            "payment_terms_days": c.terms,
            "cash_discount_percent": c.discount_percent,
            "cash_discount_days": c.discount_days,
            "invoice_grouping": c.grouping,
        },
        c.created,
        min(c.created + timedelta(days=200), as_of),
        c.n,
    )


def deal_record(d: Deal, as_of: date) -> dict[str, Any]:
    modified = min(max(d.closedate, d.created) + timedelta(days=1), as_of)
    return _hubspot(
        d.id,
        {
            "dealname": d.name,
            "amount": money_text(d.amount_cents),
            "closedate": hubspot_ts(at(d.closedate, 43_200)),
            "pipeline": "default",
            "dealstage": d.stage,
            "deal_currency_code": d.currency,
            "billing_model": d.model,
            "parent_deal_id": d.parent.id if d.parent else None,
        },
        d.created,
        modified,
        int(d.id) % 100_000,
        {
            "companies": {"results": [{"id": d.company.id, "type": "deal_to_company"}]},
            "line items": {"results": [{"id": i.id, "type": "deal_to_line_item"} for i in d.items]},
        },
    )


def line_item_record(i: LineItem, products: dict[str, str], as_of: date) -> dict[str, Any]:
    updated = i.created
    if i.accepted_date:
        updated = max(updated, i.accepted_date)
    sku = "MS-FIX" if i.billing_date else f"SVC-{i.service_type.upper()}"
    return _hubspot(
        i.id,
        {
            "name": i.name,
            "quantity": i.quantity,
            "price": money_text(i.price_cents),
            "amount": money_text(i.amount_cents),
            "hs_product_id": i.product_id,
            "hs_sku": sku,
            "service_type": i.service_type,
            "billing_date": i.billing_date.isoformat() if i.billing_date else None,
            "requires_acceptance": "true" if i.requires_acceptance else "false",
            "accepted_date": i.accepted_date.isoformat() if i.accepted_date else None,
        },
        i.created,
        min(updated, as_of),
        int(i.id) % 100_000,
        {
            "deals": {"results": [{"id": i.deal_id, "type": "line_item_to_deal"}]},
        },
    )


def product_records(products: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for n, service in enumerate(BILLABLE_SERVICES, start=1):
        out.append(
            _hubspot(
                products[service.service_type],
                {
                    "name": service.service_name,
                    "price": f"{service.eur_rate_2026}.00",
                    "hs_sku": f"SVC-{service.service_type.upper()}",
                    "description": "Hourly rate",
                },
                date(2024, 1, 2),
                date(2025, 12, 15),
                n,
            )
        )
    out.append(
        _hubspot(
            products["milestone"],
            {
                "name": "Fixed-price milestone",
                "price": "0.00",
                "hs_sku": "MS-FIX",
                "description": "Payment-schedule item of a fixed-price deal",
            },
            date(2024, 1, 2),
            date(2024, 1, 2),
            99,
        )
    )
    return out


def write_hubspot(world: World, out: Path) -> dict[str, int]:
    folder = out / "hubspot"
    deals = sorted(world.deals, key=lambda d: d.id)
    items = [i for d in deals for i in d.items]
    return {
        "hubspot/companies": write_array(
            folder / "companies.json", [company_record(c, world.as_of) for c in world.companies]
        ),
        "hubspot/deals": write_array(
            folder / "deals.json", [deal_record(d, world.as_of) for d in deals]
        ),
        "hubspot/line_items": write_array(
            folder / "line_items.json",
            [line_item_record(i, world.products, world.as_of) for i in items],
        ),
        "hubspot/products": write_array(folder / "products.json", product_records(world.products)),
    }


def _ts(day: date, n: int = 0) -> str:
    return harvest_ts(at(day, 30_000 + n % 20_000))


def write_harvest(world: World, out: Path) -> dict[str, int]:
    folder = out / "harvest"
    clients = [
        {
            "id": c.client_id,
            "name": c.name,
            "is_active": True,
            "address": f"{COUNTRY_CITY[c.country]}, {c.country}",
            "statement_key": f"{c.client_id:x}",
            "currency": c.currency,
            "created_at": _ts(c.created, c.n),
            "updated_at": _ts(c.created, c.n),
        }
        for c in world.companies
    ]
    tasks = [
        {
            "id": 2_100_001 + n,
            "name": s.task_name,
            "billable_by_default": s.is_billable,
            "default_hourly_rate": float(s.eur_rate_2026) if s.is_billable else None,
            "is_default": s.is_billable,
            "is_active": True,
            "created_at": "2024-01-02T09:00:00Z",
            "updated_at": "2025-12-15T09:00:00Z",
        }
        for n, s in enumerate(SERVICES)
    ]
    task_ids = {s.service_type: 2_100_001 + n for n, s in enumerate(SERVICES)}
    users = [
        {
            "id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": f"{u.first_name.lower()}.{u.id}@taktgeber-demo.example",
            "telephone": "",
            "timezone": "Europe/Berlin",
            "has_access_to_all_future_projects": False,
            "is_contractor": u.is_contractor,
            "is_active": True,
            "weekly_capacity": 144_000,
            "default_hourly_rate": float(u.default_rate),
            "cost_rate": float(u.cost_rate),
            "roles": [SERVICE_BY_TYPE[u.service_type].service_name],
            "access_roles": ["member"],
            "created_at": _ts(u.created, u.id),
            "updated_at": _ts(u.created, u.id),
        }
        for u in world.users
    ]
    projects, assignments = [], []
    for p in sorted(world.projects, key=lambda x: x.id):
        projects.append(
            {
                "id": p.id,
                "name": p.name,
                "code": p.code,
                "client": {"id": p.client.client_id, "name": p.client.name, "currency": p.currency},
                "is_active": p.ends_on >= world.as_of,
                "is_billable": True,
                "is_fixed_fee": p.is_fixed_fee,
                "bill_by": "Tasks" if p.bills_time else "none",
                "hourly_rate": None,
                "budget": None,
                "budget_by": "project_cost" if p.cost_budget_cents is not None else "none",
                "budget_is_monthly": False,
                "notify_when_over_budget": True,
                "over_budget_notification_percentage": 80.0,
                "show_budget_to_all": False,
                "cost_budget": p.cost_budget_cents / 100
                if p.cost_budget_cents is not None
                else None,
                "cost_budget_include_expenses": False,
                "fee": p.fee_cents / 100 if p.fee_cents is not None else None,
                "notes": "",
                "starts_on": p.starts_on.isoformat(),
                "ends_on": p.ends_on.isoformat(),
                "created_at": _ts(p.created, p.id),
                "updated_at": _ts(p.updated, p.id),
            }
        )
        for service, ta_id in p.task_assignment_ids.items():
            billable = p.bills_time and SERVICE_BY_TYPE[service].is_billable
            assignments.append(
                {
                    "id": ta_id,
                    "project": {"id": p.id, "name": p.name, "code": p.code},
                    "task": {"id": task_ids[service], "name": SERVICE_BY_TYPE[service].task_name},
                    "is_active": True,
                    "billable": billable,
                    "hourly_rate": float(p.rates[service])
                    if billable and service in p.rates
                    else None,
                    "budget": None,
                    "created_at": _ts(p.created, ta_id),
                    "updated_at": _ts(p.created, ta_id),
                }
            )
    return {
        "harvest/clients": write_array(folder / "clients.json", clients),
        "harvest/projects": write_array(folder / "projects.json", projects),
        "harvest/tasks": write_array(folder / "tasks.json", tasks),
        "harvest/task_assignments": write_array(folder / "task_assignments.json", assignments),
        "harvest/users": write_array(folder / "users.json", users),
    }


def write_xero_masters(world: World, out: Path, uuids: Uuids) -> dict[str, int]:
    folder = out / "xero"
    contacts = []
    for c in world.companies:
        contact: dict[str, Any] = {"ContactID": c.contact_id}
        if c.contact_link == "number":
            contact["ContactNumber"] = c.id
        contact.update(
            {
                "AccountNumber": f"D{10000 + c.n}",
                "ContactStatus": "ACTIVE",
                "Name": c.name,
                "EmailAddress": f"buchhaltung@{c.domain}",
            }
        )
        if c.tax_number:
            contact["TaxNumber"] = c.tax_number
        contact.update(
            {
                "Addresses": [
                    {"AddressType": "POBOX", "City": COUNTRY_CITY[c.country], "Country": c.country}
                ],
                "IsCustomer": True,
                "IsSupplier": False,
                "DefaultCurrency": c.currency,
                "PaymentTerms": {"Sales": {"Day": c.terms, "Type": "DAYSAFTERBILLDATE"}},
                "UpdatedDateUTC": xero_datetime(at(c.created, 36_000 + c.n % 3600)),
            }
        )
        contacts.append(contact)
    accounts = [
        {
            "AccountID": uuids.make("account", code),
            "Code": code,
            "Name": name,
            "Type": kind,
            "Class": klass,
            "Status": "ACTIVE",
            "TaxType": tax_type,
            "EnablePaymentsToAccount": code in (BANK, CASH_DISCOUNT),
            "UpdatedDateUTC": xero_datetime(at(date(2024, 1, 2), 36_000)),
        }
        for code, name, kind, klass, tax_type in ACCOUNTS
    ]
    tax_rates = [
        {
            "Name": name,
            "TaxType": tax_type,
            "Status": "ACTIVE",
            "ReportTaxType": "OUTPUT",
            "CanApplyToRevenue": True,
            "DisplayTaxRate": float(rate),
            "EffectiveRate": float(rate),
            "TaxComponents": [
                {"Name": "USt" if rate else "Steuerfrei", "Rate": float(rate), "IsCompound": False}
            ],
        }
        for name, tax_type, rate in TAX_RATES
    ]
    return {
        "xero/Contacts": write_array(folder / "Contacts.json", contacts),
        "xero/Accounts": write_array(folder / "Accounts.json", accounts),
        "xero/TaxRates": write_array(folder / "TaxRates.json", tax_rates),
    }
