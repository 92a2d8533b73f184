"""World size per scale and the finding rates (DESIGN.md §6 checks planted on purpose)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WORLD_START = date(2025, 4, 1)
DEFAULT_AS_OF = date(2026, 10, 15)
SELLER_COUNTRY = "DE"
BASE_CURRENCY = "EUR"


@dataclass(frozen=True)
class Scale:
    name: str
    companies: int
    tm_deals: int  # closed-won time & materials deals (each gets an hourly project)
    fp_deals: int  # closed-won fixed-price deals (fixed-fee project, payment schedule)
    lost_deals: int
    open_deals: int
    users: int
    team: tuple[int, int]  # people per project (min, max)
    log_probability: float  # chance a team member logs time on a project on a business day
    months: tuple[int, int]  # project duration in months (min, max)
    min_findings: int  # at least this many of every check (if the world has candidates)


SCALES: dict[str, Scale] = {
    "small": Scale("small", 24, 26, 10, 10, 4, 16, (2, 3), 0.5, (3, 6), 2),
    "demo": Scale("demo", 160, 330, 80, 140, 40, 110, (2, 4), 0.5, (3, 9), 3),
    "1m": Scale("1m", 3_200, 6_600, 1_600, 2_800, 800, 2_200, (2, 4), 0.5, (3, 9), 3),
    "10m": Scale("10m", 32_000, 66_000, 16_000, 28_000, 8_000, 22_000, (2, 4), 0.5, (3, 9), 3),
}

# Fraction of the eligible candidates that get each finding planted (DESIGN.md §6).
# Deal / project checks: of won deals; record checks: of project-months; invoice checks:
# of invoices; master-data checks: of companies.
DEFAULT_FINDING_RATES: dict[str, float] = {
    "won_deal_without_project": 0.02,
    "project_without_won_deal": 0.01,
    "project_budget_mismatch": 0.02,
    "billing_model_mismatch": 0.03,
    "customer_mismatch": 0.02,
    "currency_mismatch": 0.02,
    "unbilled_approved_work": 0.008,
    "unapproved_work_invoiced": 0.005,
    "unapproved_work_aging": 0.005,
    "rate_mismatch": 0.008,
    "over_budget_without_change_request": 0.02,
    "work_outside_project_period": 0.02,
    "double_billed_work": 0.004,
    "milestone_due_not_invoiced": 0.03,
    "schedule_total_mismatch": 0.03,
    "invoice_not_posted": 0.004,
    "invoice_journal_mismatch": 0.004,
    "manual_revenue_posting": 0.2,  # of manual journals
    "pushed_draft_missing_in_accounting": 0.004,
    "credit_note_without_reference": 0.003,
    "payment_mismatch": 0.005,
    "overdue_receivable": 0.006,
    "customer_unmatched": 0.03,
    "missing_vat_id_for_reverse_charge": 0.03,
}
CHECKS = tuple(DEFAULT_FINDING_RATES)


def resolve_rates(
    finding_rate: float | None = None, overrides: dict[str, float] | None = None
) -> dict[str, float]:
    """Defaults, all set to ``finding_rate`` when given, then per-check ``overrides``."""
    rates = {
        check: (finding_rate if finding_rate is not None else rate)
        for check, rate in DEFAULT_FINDING_RATES.items()
    }
    for check, rate in (overrides or {}).items():
        if check not in rates:
            raise ValueError(
                f"unknown check {check!r} in finding_rates; known: {', '.join(CHECKS)}"
            )
        rates[check] = rate
    return rates


def planted_count(rate: float, eligible: int, minimum: int) -> int:
    """How many to plant: rate × eligible, at least ``minimum`` (0 when the rate is 0)."""
    if rate <= 0 or eligible <= 0:
        return 0
    return min(eligible, max(minimum, round(rate * eligible)))
