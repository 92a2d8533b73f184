"""DESIGN.md §6 "Master data" checks."""

from __future__ import annotations

from decimal import Decimal

from taktgeber.money import round_money
from taktgeber.oracle.context import Context, Finding, finding
from taktgeber.oracle.drafts import Draft
from taktgeber.oracle.links import EU_COUNTRIES, vat_is_valid


def _customer_contact_ids(ctx: Context) -> list[str]:
    with_invoices = {i.contact_id for i in ctx.world.invoices.values() if i.type == "ACCREC"}
    return sorted(
        c.id for c in ctx.world.contacts.values() if c.is_customer or c.id in with_invoices
    )


def customer_unmatched(ctx: Context) -> list[Finding]:
    """Customer contacts linked by a fallback or not at all; won customers with no contact;
    Harvest clients whose name matches no company."""
    out = []
    for contact_id in _customer_contact_ids(ctx):
        if ctx.links.contact_link[contact_id].how == "number":
            continue
        invoices = [
            i for i in ctx.links.invoices_by_contact.get(contact_id, []) if i.date <= ctx.as_of
        ]
        eur = sum((ctx.ref.fx.eur(i.total, i.currency, i.date) for i in invoices), Decimal(0))
        currencies = {i.currency for i in invoices}
        if len(currencies) == 1:
            amount, currency = sum((i.total for i in invoices), Decimal(0)), currencies.pop()
        else:
            amount, currency = eur, "EUR"
        keys = {"xero_contact_id": contact_id}
        out.append(Finding("customer_unmatched", keys, amount, currency, round_money(eur)))

    won_customers = {
        d.company_id
        for d in ctx.world.deals.values()
        if d.is_won and d.company_id and d.closedate and d.closedate <= ctx.as_of
    }
    for company_id in sorted(won_customers & set(ctx.world.companies)):
        if company_id not in ctx.links.contact_of_company:
            keys = {"hubspot_company_id": company_id}
            out.append(finding(ctx, "customer_unmatched", keys, Decimal(0), "EUR", ctx.as_of))
    for client_id in sorted(ctx.links.company_of_client):
        if ctx.links.company_of_client[client_id] is None:
            currency = ctx.world.clients[client_id].currency
            keys = {"harvest_client_id": client_id}
            out.append(finding(ctx, "customer_unmatched", keys, Decimal(0), currency, ctx.as_of))
    return out


def missing_vat_id_for_reverse_charge(ctx: Context, drafts: list[Draft]) -> list[Finding]:
    """EU companies abroad without a valid VAT id; amount = net of the drafts they block."""
    out = []
    for company in sorted(ctx.world.companies.values(), key=lambda c: c.id):
        country = company.country
        if not country or country == ctx.seller_country or country not in EU_COUNTRIES:
            continue
        if vat_is_valid(company.vat_id, country):
            continue
        blocked = [
            d
            for d in drafts
            if d.hubspot_company_id == company.id
            and "missing_vat_id_for_reverse_charge" in d.reasons
        ]
        eur = sum((ctx.ref.fx.to_eur(d.net, d.currency, ctx.as_of) for d in blocked), Decimal(0))
        currencies = {d.currency for d in blocked}
        if len(currencies) == 1:
            amount, currency = sum((d.net for d in blocked), Decimal(0)), currencies.pop()
        else:
            amount, currency = eur, "EUR"
        keys = {"hubspot_company_id": company.id}
        check = "missing_vat_id_for_reverse_charge"
        out.append(Finding(check, keys, amount, currency, round_money(eur)))
    return out
