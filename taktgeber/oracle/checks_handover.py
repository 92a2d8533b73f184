"""DESIGN.md §6 "Handover CRM → PM" checks."""

from __future__ import annotations

from decimal import Decimal

from taktgeber.oracle.context import Context, Finding, finding
from taktgeber.oracle.world import Deal


def _won_deals(ctx: Context) -> list[Deal]:
    """Closed-won deals that are not change requests, closed on or before as_of."""
    return sorted(
        (
            d
            for d in ctx.world.deals.values()
            if d.is_won and not d.is_change_request and d.closedate and d.closedate <= ctx.as_of
        ),
        key=lambda d: d.id,
    )


def _deal_finding(ctx: Context, check: str, deal: Deal) -> Finding:
    on = deal.closedate or ctx.as_of
    return finding(
        ctx, check, {"hubspot_deal_id": deal.id}, deal.amount, deal.currency or "EUR", on
    )


def won_deal_without_project(ctx: Context) -> list[Finding]:
    sla = ctx.settings.handover_sla_business_days
    return [
        _deal_finding(ctx, "won_deal_without_project", deal)
        for deal in _won_deals(ctx)
        if not ctx.links.projects_by_code.get(deal.id)
        and ctx.ref.calendar.business_days_between(deal.closedate, ctx.as_of) > sla  # type: ignore[arg-type]
    ]


def project_without_won_deal(ctx: Context) -> list[Finding]:
    out = []
    for project in sorted(ctx.world.projects.values(), key=lambda p: p.id):
        if not project.is_billable or ctx.links.won_deal_of_project(project) is not None:
            continue
        value = sum(
            (
                w.value
                for w in ctx.links.work_by_project.get(project.id, [])
                if w.billable and w.spent_date <= ctx.as_of
            ),
            Decimal(0),
        )
        out.append(
            finding(
                ctx,
                "project_without_won_deal",
                {"harvest_project_id": project.id},
                value,
                project.currency,
                ctx.as_of,
            )
        )
    return out


def project_budget_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for deal in _won_deals(ctx):
        expected = ctx.links.expected_budget(deal)
        for project in ctx.links.projects_by_code.get(deal.id, []):
            actual = (project.fee if project.is_fixed_fee else project.cost_budget) or Decimal(0)
            if ctx.beyond_tolerance(expected, actual, project.currency, ctx.as_of):
                out.append(
                    finding(
                        ctx,
                        "project_budget_mismatch",
                        {"harvest_project_id": project.id},
                        expected - actual,
                        project.currency,
                        ctx.as_of,
                    )
                )
    return out


def billing_model_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for deal in _won_deals(ctx):
        projects = ctx.links.projects_by_code.get(deal.id, [])
        if any(
            (deal.billing_model == "fixed_price" and not p.is_fixed_fee)
            or (deal.billing_model == "time_and_materials" and p.is_fixed_fee)
            for p in projects
        ):
            out.append(_deal_finding(ctx, "billing_model_mismatch", deal))
    return out


def customer_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for deal in _won_deals(ctx):
        for project in ctx.links.projects_by_code.get(deal.id, []):
            client_company = ctx.links.company_of_client.get(project.client_id)
            if client_company is not None and client_company != deal.company_id:
                out.append(_deal_finding(ctx, "customer_mismatch", deal))
                break
    return out


def currency_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for deal in _won_deals(ctx):
        projects = ctx.links.projects_by_code.get(deal.id, [])
        if deal.currency and any(p.currency != deal.currency for p in projects):
            out.append(_deal_finding(ctx, "currency_mismatch", deal))
    return out


CHECKS = (
    won_deal_without_project,
    project_without_won_deal,
    project_budget_mismatch,
    billing_model_mismatch,
    customer_mismatch,
    currency_mismatch,
)
