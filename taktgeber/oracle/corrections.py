"""DESIGN.md §7 corrections: credit-note drafts for pushed work that changed afterwards.

Only invoices the push job made can be corrected line by line: the push ledger keeps each
line's quantity, price and source ids (Harvest's own invoices keep no lines per record).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from taktgeber.keys import draft_key
from taktgeber.money import round_money
from taktgeber.oracle.context import Context
from taktgeber.oracle.world import LedgerLine, Work


@dataclass(frozen=True)
class CorrectionLine:
    kind: str
    quantity: Decimal  # the quantity taken back (hours, or 1 for an expense)
    unit_amount: Decimal
    line_amount: Decimal  # positive: the amount credited
    source_ids: tuple[int, ...]


@dataclass(frozen=True)
class CorrectionDraft:
    draft_key: str
    original_invoice_id: str
    original_invoice_number: str | None
    hubspot_company_id: str | None
    currency: str
    tax_category: str
    lines: tuple[CorrectionLine, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "draft_key": self.draft_key,
            "original_invoice_id": self.original_invoice_id,
            "original_invoice_number": self.original_invoice_number,
            "hubspot_company_id": self.hubspot_company_id,
            "currency": self.currency,
            "tax_category": self.tax_category,
            "net": str(self.net),
            "tax": str(self.tax),
            "gross": str(self.gross),
            "line_count": len(self.lines),
        }


def _still_billable(work: Work | None) -> bool:
    return work is not None and work.billable and work.is_closed


def _correction(
    ctx: Context, line: LedgerLine, work: dict[tuple[str, int], Work]
) -> CorrectionLine | None:
    if line.kind not in ("time", "expense"):
        return None  # milestones don't change after billing
    records = [work.get((kind, int(i))) for kind, i in line.source_ids if kind == line.kind]
    kept = [w for w in records if _still_billable(w)]
    if line.kind == "time":
        hours = sum((w.hours for w in kept), Decimal(0))  # type: ignore[union-attr]
        now = round_money(hours * line.unit_amount)
        quantity = line.quantity - hours
    else:
        now = round_money(sum((w.total_cost for w in kept), Decimal(0)))  # type: ignore[union-attr]
        quantity = Decimal(1)
    credit = line.line_amount - now
    if credit <= 0:
        return None
    ids = tuple(sorted(int(i) for _, i in line.source_ids))
    unit = line.unit_amount if line.kind == "time" else credit
    return CorrectionLine(line.kind, quantity, unit, credit, ids)


def correction_drafts(ctx: Context) -> list[CorrectionDraft]:
    """One credit-note draft per pushed invoice whose billed work was cut, made
    non-billable, unapproved or deleted; none once credits of that size are allocated."""
    work = {(w.kind, w.id): w for w in ctx.world.work}
    out = []
    for record in sorted(ctx.world.ledger, key=lambda r: r.draft_key):
        if record.status != "succeeded":
            continue
        invoice_id = ctx.links.ledger_invoice(record)
        if invoice_id is None:
            continue
        lines = [c for line in record.lines if (c := _correction(ctx, line, work))]
        if not lines:
            continue
        category = record.tax_category or "S"
        net = sum((c.line_amount for c in lines), Decimal(0))
        tax = round_money(net * ctx.ref.tax[category].rate_percent / 100)
        if ctx.credits_to(invoice_id, ctx.as_of) >= net + tax:
            continue  # already corrected
        invoice = ctx.world.invoices[invoice_id]
        ids = [i for c in lines for i in c.source_ids]
        out.append(
            CorrectionDraft(
                draft_key=draft_key([f"credit:{invoice_id}", *ids]),
                original_invoice_id=invoice_id,
                original_invoice_number=invoice.number,
                hubspot_company_id=record.hubspot_company_id,
                currency=record.currency,
                tax_category=category,
                lines=tuple(lines),
                net=net,
                tax=tax,
                gross=net + tax,
            )
        )
    return out
