"""`taktgeber push --dry-run`: what a push would do, without calling Xero or writing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from taktgeber.push.drafts import Draft
from taktgeber.push.ledger import LedgerState

if TYPE_CHECKING:
    from taktgeber.push.job import PushRun

ZERO = Decimal("0.00")


@dataclass
class Totals:
    count: int = 0
    net: Decimal = ZERO
    tax: Decimal = ZERO
    gross: Decimal = ZERO

    def add(self, draft: Draft) -> None:
        self.count += 1
        self.net += draft.net
        self.tax += draft.tax
        self.gross += draft.gross


@dataclass
class DryRunReport:
    """Drafts a push would send (new, plus those to look up first), totals, blocked ones."""

    to_send: int = 0
    to_look_up: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    per_currency: dict[str, Totals] = field(default_factory=dict)
    per_customer: dict[tuple[str, str], Totals] = field(default_factory=dict)
    blocked: list[tuple[str, str | None, tuple[str, ...]]] = field(default_factory=list)

    def text(self) -> str:
        out = [
            f"dry run: {self.to_send} draft(s) to create, {self.to_look_up} to look up first",
            "drafts by status: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.status_counts.items())),
            "to push per currency:",
        ]
        for currency, t in sorted(self.per_currency.items()):
            out.append(
                f"  {currency}  {t.count:>6}  net {t.net:>14}  tax {t.tax:>12}  gross {t.gross:>14}"
            )
        out.append("to push per customer (HubSpot company, currency):")
        for (company, currency), t in sorted(self.per_customer.items()):
            out.append(f"  {company:>14} {currency}  {t.count:>4}  gross {t.gross:>14}")
        out.append(f"blocked drafts: {len(self.blocked)}")
        for key, company, reasons in self.blocked:
            out.append(f"  {key} (company {company}): {', '.join(reasons) or 'no reason given'}")
        return "\n".join(out)


def dry_run_report(
    drafts: Sequence[Draft],
    states: dict[str, LedgerState],
    to_send: Sequence[Draft],
    to_look_up: Sequence[Draft],
    run: PushRun,
) -> DryRunReport:
    report = DryRunReport(to_send=len(to_send), to_look_up=len(to_look_up))
    for draft in drafts:
        report.status_counts[draft.status] = report.status_counts.get(draft.status, 0) + 1
        if draft.status == "blocked":
            report.blocked.append((draft.draft_key, draft.hubspot_company_id, draft.reasons))
    for draft in [*to_send, *(d for d in to_look_up if d.status == "ready")]:
        report.per_currency.setdefault(draft.currency_code, Totals()).add(draft)
        customer = (draft.hubspot_company_id or "?", draft.currency_code)
        report.per_customer.setdefault(customer, Totals()).add(draft)
    return report
