"""DESIGN.md §8 KPIs, month totals for every month of the world up to as_of."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from taktgeber.keys import is_draft_reference
from taktgeber.money import round_days, round_money
from taktgeber.oracle.checks_ledger import posted_invoices
from taktgeber.oracle.checks_work import due_unbilled_milestones, over_budget, rate_gap
from taktgeber.oracle.context import Context
from taktgeber.oracle.links import ContactLink, Links, milestone_due
from taktgeber.oracle.world import Invoice, Project, Work

RATE_PLACES = Decimal("0.0001")
WIP_BUCKETS = (("0_30", 0, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("91_plus", 91, None))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _prev_month(start: date) -> date:
    return _month_start(start - timedelta(days=1))


def world_months(ctx: Context) -> list[date]:
    """First days of every month from the earliest work or invoice date to as_of."""
    dates = [w.spent_date for w in ctx.world.work if w.spent_date <= ctx.as_of]
    dates += [i.date for i in posted_invoices(ctx)]
    if not dates:
        return []
    month, last, out = _month_start(min(dates)), _month_start(ctx.as_of), []
    while month <= last:
        out.append(month)
        month = _month_end(month) + timedelta(days=1)
    return out


def quantile_cont(values: list[Decimal], q: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (DuckDB quantile_cont)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rate(numerator: Decimal | int, denominator: Decimal | int) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, "ROUND_HALF_UP"))


class Kpis:
    def __init__(self, ctx: Context, months: list[date] | None = None) -> None:
        self.ctx = ctx
        self.invoices = posted_invoices(ctx)
        self.months = world_months(ctx) if months is None else months
        self.first_month = self.months[0] if self.months else _month_start(ctx.as_of)
        # work by the month of its Harvest invoice (time to invoice, realisation)
        self.invoiced: dict[date, list[tuple[Work, Invoice]]] = defaultdict(list)
        for work in ctx.world.work:
            invoice = ctx.links.harvest_invoice(work)
            if invoice is not None and invoice.date <= ctx.as_of:
                self.invoiced[_month_start(invoice.date)].append((work, invoice))

    def end(self, month: date) -> date:
        return min(_month_end(month), self.ctx.as_of)

    def eur(self, amount: Decimal, currency: str, on: date) -> Decimal:
        return self.ctx.ref.fx.to_eur(amount, currency, on)

    def _dated_in(self, month: date) -> list[Invoice]:
        return [i for i in self.invoices if month <= i.date <= self.end(month)]

    # -- DSO -------------------------------------------------------------------------
    def ar(self, end: date) -> Decimal:
        return sum(
            (
                self.eur(self.ctx.amount_due(i, end), i.currency, i.date)
                for i in self.invoices
                if i.date <= end
            ),
            Decimal(0),
        )

    def sales(self, start: date, end: date) -> Decimal:
        return sum(
            (
                self.eur(i.total, i.currency, i.date)
                for i in self.invoices
                if start <= i.date <= end
            ),
            Decimal(0),
        )

    def dso_countback(self, month: date) -> Decimal:
        ar, days, current = self.ar(self.end(month)), Decimal(0), month
        while ar > 0 and current >= self.first_month:
            end = self.end(current)
            sales = self.sales(current, end)
            period = Decimal((end - current).days + 1)
            if ar >= sales:
                days += period
                ar -= sales
                current = _prev_month(current)
            else:
                days += period * ar / sales
                break
        return round_days(days)

    def dso_simple(self, month: date) -> Decimal | None:
        end = self.end(month)
        sales = self.sales(end - timedelta(days=89), end)
        if not sales:
            return None
        return round_days(self.ar(end) / sales * 90)

    # -- time to invoice / realisation -----------------------------------------------
    def time_to_invoice(self, month: date) -> list[Decimal]:
        end, links = self.end(month), self.ctx.links
        days = [Decimal((i.date - w.spent_date).days) for w, i in self.invoiced.get(month, [])]
        for item in self.ctx.world.line_items.values():
            billed = [
                self.ctx.world.invoices[i]
                for i in links.milestone_billed_on(item)
                if i in links.posted_invoices
            ]
            if not billed:
                continue
            first = min(billed, key=lambda i: (i.date, i.id))
            due = milestone_due(item) or item.billing_date
            if due is not None and month <= first.date <= end:
                days.append(Decimal((first.date - due).days))
        return days

    def realisation(self, month: date) -> str | None:
        billed, contracted = Decimal(0), Decimal(0)
        for work, _ in self.invoiced.get(month, []):
            if work.kind != "time" or not work.billable:
                continue
            rate = self.ctx.links.contracted_rate(work)
            if rate is None:
                continue
            currency = self.ctx.links.work_currency(work)
            billed += self.eur(work.value, currency, work.spent_date)
            contracted += self.eur(work.hours * rate, currency, work.spent_date)
        return _rate(billed, contracted)

    # -- invoice rates ---------------------------------------------------------------
    def first_correction_rate(self, month: date) -> str | None:
        invoices = self._dated_in(month)
        corrected = sum(
            any(
                a.date <= self.ctx.as_of and 0 <= (a.date - invoice.date).days <= 90
                for a in self.ctx.links.allocations_by_invoice.get(invoice.id, [])
            )
            for invoice in invoices
        )
        return _rate(corrected, len(invoices))

    def settled_on(self, invoice: Invoice) -> date | None:
        links = self.ctx.links
        events = [(p.date, p.amount) for p in links.payments_by_invoice.get(invoice.id, [])]
        events += [(a.date, a.amount) for a in links.allocations_by_invoice.get(invoice.id, [])]
        settled = Decimal(0)
        for day, amount in sorted(events):
            if day > self.ctx.as_of:
                break
            settled += amount
            if settled >= invoice.total:
                return day
        return None

    def dunning_rate(self, month: date) -> str | None:
        first_level = self.ctx.settings.dunning_days[0]
        due = [i for i in self.invoices if i.due_date and month <= i.due_date <= _month_end(month)]
        dunned = 0
        for invoice in due:
            threshold = invoice.due_date + timedelta(days=first_level)  # type: ignore[operator]
            settled = self.settled_on(invoice)
            dunned += threshold <= self.ctx.as_of and (settled is None or settled >= threshold)
        return _rate(dunned, len(due))

    def automation_share(self, month: date) -> str | None:
        invoices = self._dated_in(month)
        return _rate(sum(is_draft_reference(i.reference) for i in invoices), len(invoices))

    def handover_automation(self, month: date) -> str | None:
        ctx, end = self.ctx, self.end(month)
        won = [
            d
            for d in ctx.world.deals.values()
            if d.is_won and not d.is_change_request and d.closedate and month <= d.closedate <= end
        ]
        sla = ctx.settings.handover_sla_business_days
        in_time = sum(
            any(
                p.created_on is not None
                and ctx.ref.calendar.business_days_between(d.closedate, p.created_on) <= sla  # type: ignore[arg-type]
                for p in ctx.links.projects_by_code.get(d.id, [])
            )
            for d in won
        )
        return _rate(in_time, len(won))

    # -- WIP and leakage -------------------------------------------------------------
    def wip(self, month: date) -> dict[str, Decimal]:
        end, links = self.end(month), self.ctx.links
        out = {"unbilled_wip_eur": Decimal(0), "unbilled_wip_approved_eur": Decimal(0)}
        out.update({f"unbilled_wip_{name}_eur": Decimal(0) for name, _, _ in WIP_BUCKETS})
        for work in self.ctx.world.work:
            if not work.billable or work.spent_date > end:
                continue
            if not links.unbilled_at(work, end):
                continue
            value = links.work_eur(work)
            age = (end - work.spent_date).days
            out["unbilled_wip_eur"] += value
            if work.is_closed:
                out["unbilled_wip_approved_eur"] += value
            for name, low, high in WIP_BUCKETS:
                if age >= low and (high is None or age <= high):
                    out[f"unbilled_wip_{name}_eur"] += value
        return {k: round_money(v) for k, v in out.items()}

    def leakage(self, month: date) -> Decimal:
        ctx, end, links = self.ctx, self.end(month), self.ctx.links
        total = Decimal(0)
        for work in ctx.world.work:
            if not work.billable or work.spent_date > end:
                continue
            currency = links.work_currency(work)
            age = (end - work.spent_date).days
            limit = 90 if work.kind == "time" else 30
            if work.is_closed and age > limit and links.unbilled_at(work, end):
                total += links.work_eur(work)
            gap = rate_gap(ctx, work)
            if gap is not None and gap > 0:
                total += self.eur(gap * work.hours, currency, work.spent_date)
        for project in ctx.world.projects.values():
            excess = over_budget(ctx, project, end)
            if excess is not None:
                total += self.eur(excess, project.currency, end)
        for item, deal, due in due_unbilled_milestones(ctx, end):
            if (end - due).days > 30:
                total += self.eur(item.amount, links.milestone_currency(deal), due)
        return round_money(total)

    # -- all -------------------------------------------------------------------------
    def month_values(self, month: date) -> dict[str, str | None]:
        times = self.time_to_invoice(month)
        values: dict[str, str | None] = {
            "dso_countback": str(self.dso_countback(month)),
            "dso_simple": _str(self.dso_simple(month)),
            "time_to_invoice_median_days": (
                str(round_days(quantile_cont(times, Decimal("0.5")))) if times else None
            ),
            "time_to_invoice_p90_days": (
                str(round_days(quantile_cont(times, Decimal("0.9")))) if times else None
            ),
            "first_correction_rate": self.first_correction_rate(month),
            "dunning_rate": self.dunning_rate(month),
            "automation_share": self.automation_share(month),
            "handover_automation": self.handover_automation(month),
            "revenue_leakage_eur": str(self.leakage(month)),
            "realisation_rate": self.realisation(month),
        }
        values.update({k: str(v) for k, v in self.wip(month).items()})
        return values


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def compute_kpis(ctx: Context, months: list[date] | None = None) -> list[dict[str, str]]:
    """One row per month × KPI; a KPI with an empty denominator that month is left out."""
    kpis = Kpis(ctx, months)
    rows = []
    for month in kpis.months:
        label = f"{month.year:04d}-{month.month:02d}"
        for name, value in sorted(kpis.month_values(month).items()):
            if value is not None:
                rows.append({"month": label, "kpi": name, "value": value})
    return rows


def _customer_context(ctx: Context, company_id: str) -> Context:
    """The world as one customer sees it: its invoices (by its Xero contact), its deals
    (change requests by their parent's customer), the work and projects of its deals (a
    project without a won deal by its client). Ledger, credit notes and master data stay."""
    links, world = ctx.links, ctx.world

    def project_customer(project: Project) -> str | None:
        deal = links.won_deal_of_project(project)
        return deal.company_id if deal else links.company_of_client.get(project.client_id)

    projects = {p.id: p for p in world.projects.values() if project_customer(p) == company_id}
    invoices = {
        i.id: i
        for i in world.invoices.values()
        if links.contact_link.get(i.contact_id or "", ContactLink(None, None)).company_id
        == company_id
    }
    sub = replace(
        world,
        deals={
            k: d for k, d in world.deals.items() if links.customer_deal(d).company_id == company_id
        },
        projects=projects,
        work=[w for w in world.work if w.project_id in projects],
        invoices=invoices,
        payments=[p for p in world.payments if p.invoice_id in invoices],
    )
    return Context(sub, ctx.ref, Links(sub, ctx.ref), ctx.as_of, ctx.seller_country, ctx.settings)


def compute_customer_kpis(ctx: Context) -> list[dict[str, str]]:
    """Per customer (`hubspot_company_id`), the same rows over the whole world's months."""
    months = world_months(ctx)
    rows = []
    for company_id in sorted(ctx.world.companies):
        for row in compute_kpis(_customer_context(ctx, company_id), months):
            rows.append({"hubspot_company_id": company_id, **row})
    return rows
