"""DESIGN.md §6 "Billing → ledger → cash" checks."""

from __future__ import annotations

from decimal import Decimal

from taktgeber.money import round_money
from taktgeber.oracle.context import Context, Finding, finding
from taktgeber.oracle.world import Invoice, Journal, JournalLine

REVENUE_TYPES = frozenset({"REVENUE", "SALES"})


def posted_invoices(ctx: Context) -> list[Invoice]:
    """ACCREC, AUTHORISED or PAID, dated on or before as_of."""
    return sorted(
        (i for i in ctx.links.posted_invoices.values() if i.date <= ctx.as_of), key=lambda i: i.id
    )


def is_revenue(ctx: Context, line: JournalLine) -> bool:
    kind = line.account_type or ctx.world.account_types.get(line.account_code or "", "")
    return kind.upper() in REVENUE_TYPES


def _journals(ctx: Context, source_type: str) -> list[Journal]:
    return [j for j in ctx.world.journals if j.source_type == source_type and j.date <= ctx.as_of]


def invoice_not_posted(ctx: Context) -> list[Finding]:
    posted = {j.source_id for j in _journals(ctx, "ACCREC")}
    return [
        finding(ctx, "invoice_not_posted", {"xero_invoice_id": i.id}, i.total, i.currency, i.date)
        for i in posted_invoices(ctx)
        if i.id not in posted
    ]


def invoice_journal_mismatch(ctx: Context) -> list[Finding]:
    """Journal gross / net / tax vs the invoice in EUR at its own CurrencyRate."""
    receivables, vat = ctx.ref.roles["receivables"], ctx.ref.roles["output_vat"]
    by_invoice: dict[str, list[JournalLine]] = {}
    for journal in _journals(ctx, "ACCREC"):
        by_invoice.setdefault(journal.source_id or "", []).extend(journal.lines)
    out = []
    for invoice in posted_invoices(ctx):
        lines = by_invoice.get(invoice.id)
        if lines is None:
            continue
        gross = sum((ln.gross for ln in lines if ln.account_code == receivables), Decimal(0))
        net = -sum((ln.net for ln in lines if is_revenue(ctx, ln)), Decimal(0))
        tax = -sum((ln.net for ln in lines if ln.account_code == vat), Decimal(0))
        rate = invoice.rate
        total_eur = round_money(invoice.total / rate)
        pairs = (
            (total_eur, gross),
            (round_money(invoice.subtotal / rate), net),
            (round_money(invoice.total_tax / rate), tax),
        )
        tolerance = max(
            ctx.settings.tolerance_eur, abs(total_eur) * ctx.settings.tolerance_percent / 100
        )
        if any(abs(expected - actual) > tolerance for expected, actual in pairs):
            gap_eur = abs(total_eur - gross)
            # EUR at the invoice's own CurrencyRate, not the FX seed (DESIGN.md §5).
            out.append(
                Finding(
                    "invoice_journal_mismatch",
                    {"xero_invoice_id": invoice.id},
                    round_money(gap_eur * rate),
                    invoice.currency,
                    gap_eur,
                )
            )
    return out


def manual_revenue_posting(ctx: Context) -> list[Finding]:
    out = []
    for journal in sorted(_journals(ctx, "MANJOURNAL"), key=lambda j: j.id):
        revenue = [ln for ln in journal.lines if is_revenue(ctx, ln)]
        if revenue:
            amount = sum((ln.net for ln in revenue), Decimal(0))
            keys = {"xero_journal_id": journal.id}
            out.append(finding(ctx, "manual_revenue_posting", keys, amount, "EUR", journal.date))
    return out


def pushed_draft_missing_in_accounting(ctx: Context) -> list[Finding]:
    ids = set(ctx.world.invoices)
    references = {i.reference for i in ctx.world.invoices.values() if i.reference}
    out = []
    for record in sorted(ctx.world.ledger, key=lambda r: r.draft_key):
        if record.status != "succeeded":
            continue
        if record.pushed_on is not None and record.pushed_on > ctx.as_of:
            continue
        if record.xero_invoice_id in ids or (record.reference or record.draft_key) in references:
            continue
        out.append(
            finding(
                ctx,
                "pushed_draft_missing_in_accounting",
                {"draft_key": record.draft_key},
                record.total,
                record.currency,
                record.pushed_on or ctx.as_of,
            )
        )
    return out


def credit_note_without_reference(ctx: Context) -> list[Finding]:
    out = []
    for note in sorted(ctx.world.credit_notes.values(), key=lambda n: n.id):
        if note.type != "ACCRECCREDIT" or note.status not in ("AUTHORISED", "PAID"):
            continue
        if note.date > ctx.as_of:
            continue
        allocations = [a for a in note.allocations if a.date <= ctx.as_of]
        targets = {a.invoice_id for a in allocations}
        covered = sum(
            (ctx.world.invoices[i].total for i in targets if i in ctx.world.invoices), Decimal(0)
        )
        excess = note.total - covered
        if not allocations or excess > 0:
            keys = {"xero_credit_note_id": note.id}
            amount = note.total if not allocations else excess
            out.append(
                finding(
                    ctx, "credit_note_without_reference", keys, amount, note.currency, note.date
                )
            )
    return out


def payment_mismatch(ctx: Context) -> list[Finding]:
    """Paid (or part-paid) invoices whose payments don't settle total − credits."""
    discount_account = ctx.ref.roles["cash_discount"]
    out = []
    for invoice in posted_invoices(ctx):
        payments = sorted(
            (p for p in ctx.links.payments_by_invoice.get(invoice.id, []) if p.date <= ctx.as_of),
            key=lambda p: (p.date, p.id),
        )
        if not payments:
            continue
        paid = sum((p.amount for p in payments), Decimal(0))
        gap = invoice.total - ctx.credits_to(invoice.id, ctx.as_of) - paid
        if abs(gap) <= ctx.tolerance(invoice.total, invoice.currency, invoice.date):
            continue
        link = ctx.links.contact_link.get(invoice.contact_id or "")
        company = ctx.world.companies.get(link.company_id or "") if link else None
        bank = [p for p in payments if p.account_code != discount_account]
        if company is not None and company.cash_discount_percent and bank:
            discount = round_money(invoice.total * company.cash_discount_percent / 100)
            in_time = (bank[-1].date - invoice.date).days <= company.cash_discount_days
            if gap == discount and in_time:
                continue
        keys = {"xero_invoice_id": invoice.id, "xero_payment_id": payments[-1].id}
        out.append(finding(ctx, "payment_mismatch", keys, gap, invoice.currency, invoice.date))
    return out


def dunning_level(ctx: Context, days_past_due: int) -> int:
    return sum(days_past_due >= d for d in ctx.settings.dunning_days)


def overdue_receivable(ctx: Context) -> list[Finding]:
    out = []
    for invoice in posted_invoices(ctx):
        if invoice.due_date is None:
            continue
        due = ctx.amount_due(invoice, ctx.as_of)
        level = dunning_level(ctx, (ctx.as_of - invoice.due_date).days)
        if due > 0 and level >= 1:
            out.append(
                finding(
                    ctx,
                    "overdue_receivable",
                    {"xero_invoice_id": invoice.id},
                    due,
                    invoice.currency,
                    invoice.date,
                    dunning_level=level,
                )
            )
    return out


CHECKS = (
    invoice_not_posted,
    invoice_journal_mismatch,
    manual_revenue_posting,
    pushed_draft_missing_in_accounting,
    credit_note_without_reference,
    payment_mismatch,
    overdue_receivable,
)
