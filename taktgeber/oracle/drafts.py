"""DESIGN.md §7: invoice-ready drafts from unbilled approved work and due milestones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from taktgeber.keys import draft_key
from taktgeber.money import round_money
from taktgeber.oracle.checks_work import due_unbilled_milestones, is_unbilled, over_budget, rate_gap
from taktgeber.oracle.context import Context
from taktgeber.oracle.links import EU_COUNTRIES, vat_is_valid
from taktgeber.oracle.world import Company, Work

REVERSE_CHARGE_NOTE = "Steuerschuldnerschaft des Leistungsempfängers / reverse charge"
KIND_ORDER = {"time": 0, "expense": 1, "milestone": 2}


@dataclass(frozen=True)
class DraftLine:
    kind: str  # time | expense | milestone
    harvest_project_id: int | None
    service_type: str | None
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal
    source_ids: tuple[int | str, ...]


@dataclass
class Draft:
    draft_key: str
    hubspot_company_id: str
    harvest_project_id: int | None
    currency: str
    billing_month: str
    tax_category: str
    lines: list[DraftLine]
    net: Decimal
    tax: Decimal
    gross: Decimal
    status: str
    reasons: list[str]
    draft_date: date
    due_date: date
    cash_discount_percent: Decimal
    cash_discount_deadline: date | None
    cash_discount_amount: Decimal
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The answer-key shape (docs/answer-key.md)."""
        return {
            "draft_key": self.draft_key,
            "hubspot_company_id": self.hubspot_company_id,
            "harvest_project_id": self.harvest_project_id,
            "currency": self.currency,
            "billing_month": self.billing_month,
            "tax_category": self.tax_category,
            "net": str(self.net),
            "tax": str(self.tax),
            "gross": str(self.gross),
            "line_count": len(self.lines),
            "status": self.status,
            "reasons": list(self.reasons),
        }


def tax_category(ctx: Context, company: Company | None) -> tuple[str, bool]:
    """(EN 16931 category, blocked for a missing/invalid VAT id)."""
    country = company.country if company else None
    if country is None or country == ctx.seller_country:
        return "S", False
    if country in EU_COUNTRIES:
        if vat_is_valid(company.vat_id if company else None, country):
            return "AE", False
        return "S", True
    return "O", False


@dataclass
class _Group:
    time: list[Work] = field(default_factory=list)
    expenses: list[Work] = field(default_factory=list)
    milestones: list[tuple[str, Decimal, int | None]] = field(default_factory=list)
    projects: set[int] = field(default_factory=set)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def draft_content(ctx: Context) -> dict[tuple[str, str, str, int | None], _Group]:
    """Group key: (company id, currency, billing month, project id when per_project)."""
    groups: dict[tuple[str, str, str, int | None], _Group] = defaultdict(_Group)

    def key(company_id: str, currency: str, day: date, project_id: int | None) -> tuple:
        company = ctx.world.companies.get(company_id)
        per_project = company is not None and company.invoice_grouping == "per_project"
        return (company_id, currency, _month(day), project_id if per_project else None)

    for work in sorted(ctx.world.work, key=lambda w: (w.kind, w.id)):
        if not (work.is_closed and work.billable and work.spent_date <= ctx.as_of):
            continue
        if not is_unbilled(ctx, work, ctx.as_of):
            continue
        project = ctx.world.projects[work.project_id]
        deal = ctx.links.won_deal_of_project(project)
        if deal is None or deal.company_id is None:
            continue  # no customer: reported by project_without_won_deal
        group = groups[key(deal.company_id, project.currency, work.spent_date, project.id)]
        (group.time if work.kind == "time" else group.expenses).append(work)
        group.projects.add(project.id)

    for item, deal, due in due_unbilled_milestones(ctx, ctx.as_of):
        customer = ctx.links.customer_deal(deal)
        if customer.company_id is None:
            continue
        project = ctx.links.project_of_deal(deal)
        project_id = project.id if project else None
        currency = ctx.links.milestone_currency(deal)
        group = groups[key(customer.company_id, currency, due, project_id)]
        group.milestones.append((item.id, item.amount, project_id))
        if project_id is not None:
            group.projects.add(project_id)
    return groups


def _lines(ctx: Context, group: _Group) -> list[DraftLine]:
    lines: list[DraftLine] = []
    buckets: dict[tuple[int, str, Decimal], list[Work]] = defaultdict(list)
    for work in group.time:
        service = ctx.links.service_type(work) or ""
        buckets[(work.project_id, service, work.billable_rate or Decimal(0))].append(work)
    for (project_id, service, rate), entries in sorted(buckets.items()):
        hours = sum((w.hours for w in entries), Decimal(0))
        ids = tuple(sorted(w.id for w in entries))
        lines.append(
            DraftLine("time", project_id, service, hours, rate, round_money(hours * rate), ids)
        )
    for work in sorted(group.expenses, key=lambda w: w.id):
        cost = work.total_cost
        lines.append(
            DraftLine(
                "expense", work.project_id, None, Decimal(1), cost, round_money(cost), (work.id,)
            )
        )
    for item_id, amount, project_id in sorted(group.milestones, key=lambda m: m[0]):
        lines.append(
            DraftLine(
                "milestone", project_id, None, Decimal(1), amount, round_money(amount), (item_id,)
            )
        )
    return lines


def build_drafts(ctx: Context) -> list[Draft]:
    drafts = []
    for (company_id, currency, month, project_id), group in draft_content(ctx).items():
        company = ctx.world.companies.get(company_id)
        category, vat_blocked = tax_category(ctx, company)
        lines = _lines(ctx, group)
        net = sum((line.line_amount for line in lines), Decimal(0))
        tax = round_money(net * ctx.ref.tax[category].rate_percent / 100)
        gross = net + tax

        reasons = set()
        if vat_blocked:
            reasons.add("missing_vat_id_for_reverse_charge")
        if any(rate_gap(ctx, w) is not None for w in group.time):
            reasons.add("rate_mismatch")
        if any(over_budget(ctx, ctx.world.projects[p], ctx.as_of) for p in group.projects):
            reasons.add("over_budget_without_change_request")
        if company_id not in ctx.links.contact_of_company:
            reasons.add("customer_unmatched")
        if reasons:
            status = "blocked"
        elif ctx.ref.fx.to_eur(net, currency, ctx.as_of) < ctx.settings.minimum_draft_eur:
            status = "deferred"
        else:
            status = "ready"

        terms = company.payment_terms_days if company else 0
        percent = company.cash_discount_percent if company else Decimal(0)
        deadline = (
            ctx.as_of + timedelta(days=company.cash_discount_days) if percent and company else None
        )
        notes = [REVERSE_CHARGE_NOTE] if category == "AE" else []
        if percent and deadline:
            notes.append(f"{percent.normalize():f} % Skonto bei Zahlung bis {deadline:%d.%m.%Y}")
        drafts.append(
            Draft(
                draft_key=draft_key(i for line in lines for i in line.source_ids),
                hubspot_company_id=company_id,
                harvest_project_id=project_id,
                currency=currency,
                billing_month=month,
                tax_category=category,
                lines=lines,
                net=net,
                tax=tax,
                gross=gross,
                status=status,
                reasons=sorted(reasons),
                draft_date=ctx.as_of,
                due_date=ctx.as_of + timedelta(days=terms),
                cash_discount_percent=percent,
                cash_discount_deadline=deadline,
                cash_discount_amount=round_money(gross * percent / 100),
                notes=notes,
            )
        )
    return sorted(
        drafts,
        key=lambda d: (
            d.hubspot_company_id,
            d.currency,
            d.billing_month,
            d.harvest_project_id or 0,
            d.draft_key,
        ),
    )
