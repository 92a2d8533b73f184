"""DESIGN.md §6 "Work → billing" checks, and the per-record facts drafts and KPIs reuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from taktgeber.oracle.context import Context, Finding, finding
from taktgeber.oracle.links import milestone_due
from taktgeber.oracle.world import Deal, LineItem, Project, Work


def _work(ctx: Context, end: date) -> list[Work]:
    return sorted((w for w in ctx.world.work if w.spent_date <= end), key=lambda w: (w.kind, w.id))


def _work_finding(ctx: Context, check: str, work: Work, amount: Decimal | None = None) -> Finding:
    value = work.value if amount is None else amount
    keys = {work.key_name: work.id}
    return finding(ctx, check, keys, value, ctx.links.work_currency(work), work.spent_date)


def is_unbilled(ctx: Context, work: Work, end: date) -> bool:
    return ctx.links.unbilled_at(work, end)


def rate_gap(ctx: Context, work: Work) -> Decimal | None:
    """contracted − billed rate for a billable time entry with a contracted rate ≠ billed."""
    if work.kind != "time" or not work.billable:
        return None
    key = ("rate_gap", work.id)
    if key not in ctx.cache:
        contracted = ctx.links.contracted_rate(work)
        billed = work.billable_rate or Decimal(0)
        same = contracted is None or contracted == billed
        ctx.cache[key] = None if same else contracted - billed  # type: ignore[operator]
    return ctx.cache[key]


def over_budget(ctx: Context, project: Project, end: date) -> Decimal | None:
    """Billable time value up to `end` minus cost_budget, for hourly projects of won deals."""
    key = ("over_budget", project.id, end)
    if key not in ctx.cache:
        ctx.cache[key] = _over_budget(ctx, project, end)
    return ctx.cache[key]


def _over_budget(ctx: Context, project: Project, end: date) -> Decimal | None:
    if project.is_fixed_fee or project.cost_budget is None:
        return None
    if ctx.links.won_deal_of_project(project) is None:
        return None
    value = sum(
        (
            w.value
            for w in ctx.links.work_by_project.get(project.id, [])
            if w.kind == "time" and w.billable and w.spent_date <= end
        ),
        Decimal(0),
    )
    excess = value - project.cost_budget
    return excess if excess > 0 else None


def schedule_items(ctx: Context) -> list[tuple[LineItem, Deal]]:
    """Payment-schedule items of closed-won fixed-price deals (change requests included)."""
    out = []
    for deal in sorted(ctx.world.deals.values(), key=lambda d: d.id):
        if not deal.is_won or deal.billing_model != "fixed_price":
            continue
        for item_id in sorted(deal.line_item_ids):
            item = ctx.world.line_items.get(item_id)
            if item is not None and item.billing_date is not None:
                out.append((item, deal))
    return out


def due_unbilled_milestones(ctx: Context, end: date) -> list[tuple[LineItem, Deal, date]]:
    """Schedule items due before `end` and billed on no invoice dated ≤ `end`."""
    out = []
    for item, deal in schedule_items(ctx):
        due = milestone_due(item)
        if due is None or due >= end:
            continue
        if not ctx.links.billed_by(ctx.links.milestone_billed_on(item), end):
            out.append((item, deal, due))
    return out


def unbilled_approved_work(ctx: Context) -> list[Finding]:
    days = ctx.settings.unbilled_after_days
    return [
        _work_finding(ctx, "unbilled_approved_work", w)
        for w in _work(ctx, ctx.as_of)
        if w.is_closed
        and w.billable
        and (ctx.as_of - w.spent_date).days > days
        and is_unbilled(ctx, w, ctx.as_of)
    ]


def unapproved_work_invoiced(ctx: Context) -> list[Finding]:
    return [
        _work_finding(ctx, "unapproved_work_invoiced", w)
        for w in _work(ctx, ctx.as_of)
        if not w.is_closed and not is_unbilled(ctx, w, ctx.as_of)
    ]


def unapproved_work_aging(ctx: Context) -> list[Finding]:
    sla = ctx.settings.approval_sla_business_days
    return [
        _work_finding(ctx, "unapproved_work_aging", w)
        for w in _work(ctx, ctx.as_of)
        if w.billable
        and not w.is_closed
        and is_unbilled(ctx, w, ctx.as_of)
        and ctx.ref.calendar.business_days_between(w.spent_date, ctx.as_of) > sla
    ]


def rate_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for w in _work(ctx, ctx.as_of):
        gap = rate_gap(ctx, w)
        if gap is not None:
            out.append(_work_finding(ctx, "rate_mismatch", w, abs(gap) * w.hours))
    return out


def over_budget_without_change_request(ctx: Context) -> list[Finding]:
    out = []
    for project in sorted(ctx.world.projects.values(), key=lambda p: p.id):
        excess = over_budget(ctx, project, ctx.as_of)
        if excess is not None:
            keys = {"harvest_project_id": project.id}
            out.append(
                finding(
                    ctx,
                    "over_budget_without_change_request",
                    keys,
                    excess,
                    project.currency,
                    ctx.as_of,
                )
            )
    return out


def work_outside_project_period(ctx: Context) -> list[Finding]:
    out = []
    for w in _work(ctx, ctx.as_of):
        project = ctx.world.projects[w.project_id]
        before = project.starts_on is not None and w.spent_date < project.starts_on
        after = project.ends_on is not None and w.spent_date > project.ends_on
        if w.billable and (before or after):
            out.append(_work_finding(ctx, "work_outside_project_period", w))
    return out


def double_billed_work(ctx: Context) -> list[Finding]:
    out = []
    for w in _work(ctx, ctx.as_of):
        live = [
            i
            for i in ctx.links.billed_on(w)
            if ctx.credits_to(i, ctx.as_of) < ctx.world.invoices[i].total
        ]
        if len(live) >= 2:
            out.append(_work_finding(ctx, "double_billed_work", w))
    return out


def milestone_due_not_invoiced(ctx: Context) -> list[Finding]:
    return [
        finding(
            ctx,
            "milestone_due_not_invoiced",
            {"hubspot_line_item_id": item.id},
            item.amount,
            ctx.links.milestone_currency(deal),
            due,
        )
        for item, deal, due in due_unbilled_milestones(ctx, ctx.as_of)
    ]


def schedule_total_mismatch(ctx: Context) -> list[Finding]:
    out = []
    for deal in sorted(ctx.world.deals.values(), key=lambda d: d.id):
        if deal.billing_model != "fixed_price" or not deal.is_won:
            continue
        items = [ctx.world.line_items.get(i) for i in deal.line_item_ids]
        total = sum((i.amount for i in items if i and i.billing_date), Decimal(0))
        currency, on = deal.currency or "EUR", deal.closedate or ctx.as_of
        if ctx.beyond_tolerance(deal.amount, total, currency, on):
            keys = {"hubspot_deal_id": deal.id}
            out.append(
                finding(ctx, "schedule_total_mismatch", keys, deal.amount - total, currency, on)
            )
    return out


CHECKS = (
    unbilled_approved_work,
    unapproved_work_invoiced,
    unapproved_work_aging,
    rate_mismatch,
    over_budget_without_change_request,
    work_outside_project_period,
    double_billed_work,
    milestone_due_not_invoiced,
    schedule_total_mismatch,
)
