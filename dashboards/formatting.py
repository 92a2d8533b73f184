"""Finance formatting for the dashboard: thousands separators, currency codes, ISO dates."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

KPI_LABELS = {
    "dso_countback": "DSO (countback)",
    "time_to_invoice_median_days": "Time to invoice (median)",
    "first_correction_rate": "First-correction rate",
    "dunning_rate": "Dunning rate",
    "automation_share": "Automation share",
    "unbilled_wip_eur": "Unbilled WIP (EUR)",
    "revenue_leakage_eur": "Revenue leakage (EUR)",
    "realisation_rate": "Realisation rate",
}
# KPIs where a rise is bad news (the delta arrow turns red).
LOWER_IS_BETTER = {
    "dso_countback",
    "time_to_invoice_median_days",
    "first_correction_rate",
    "dunning_rate",
    "unbilled_wip_eur",
    "revenue_leakage_eur",
}


def money(value: Decimal | float | None, currency: str = "EUR") -> str:
    """`EUR 1,234.56`; `–` for a missing value."""
    if value is None:
        return "–"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{currency} {amount:,.2f}"


def kpi_value(kpi: str, value: Decimal | None) -> str:
    if value is None:
        return "–"
    if kpi.endswith("_eur"):
        return money(value)
    if kpi.endswith("_days") or kpi.startswith("dso"):
        return f"{Decimal(str(value)):,.1f} days"
    return f"{Decimal(str(value)) * 100:,.2f} %"


def kpi_delta(kpi: str, value: Decimal | None, previous: Decimal | None) -> str | None:
    """Change against the previous month in the KPI's unit (percentage points for rates)."""
    if value is None or previous is None:
        return None
    change = Decimal(str(value)) - Decimal(str(previous))
    sign = "+" if change >= 0 else "-"
    if kpi.endswith("_eur"):
        return f"{sign}{money(abs(change))}"
    if kpi.endswith("_days") or kpi.startswith("dso"):
        return f"{sign}{abs(change):,.1f} days"
    return f"{sign}{abs(change) * 100:,.2f} pp"
