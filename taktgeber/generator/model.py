"""The world's objects before they are written in each API's shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(eq=False, slots=True)
class User:
    id: int
    first_name: str
    last_name: str
    service_type: str
    cost_rate: int
    default_rate: int
    is_contractor: bool
    created: date

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(eq=False, slots=True)
class Company:
    n: int
    id: str
    name: str
    domain: str
    country: str
    currency: str
    vat_id: str | None  # as HubSpot holds it (possibly planted missing/broken)
    tax_number: str | None  # as Xero holds it
    tax_category: str  # S | AE | O, how its invoices were taxed
    terms: int
    discount_percent: int | None
    discount_days: int | None
    grouping: str
    payer: str
    created: date
    contact_id: str
    client_id: int
    contact_link: str = "number"  # number | vat | name (the latter two planted)


@dataclass(eq=False, slots=True)
class LineItem:
    id: str
    deal_id: str
    name: str
    service_type: str
    quantity: int
    price_cents: int
    created: date
    product_id: str | None
    billing_date: date | None = None
    requires_acceptance: bool = False
    accepted_date: date | None = None
    skip_invoice: bool = False  # planted milestone_due_not_invoiced

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.price_cents

    @property
    def due(self) -> date | None:
        if self.billing_date is None:
            return None
        if self.requires_acceptance:
            if self.accepted_date is None:
                return None
            return max(self.billing_date, self.accepted_date)
        return self.billing_date


@dataclass(eq=False, slots=True)
class Deal:
    id: str
    company: Company
    name: str
    model: str  # time_and_materials | fixed_price
    stage: str
    currency: str  # deal_currency_code as written
    closedate: date
    created: date
    amount_cents: int = 0
    parent: Deal | None = None
    items: list[LineItem] = field(default_factory=list)
    change_requests: list[Deal] = field(default_factory=list)
    project: Project | None = None
    modified: date | None = None

    @property
    def won_cr_cents(self) -> int:
        return sum(cr.amount_cents for cr in self.change_requests if cr.stage == "closedwon")


@dataclass(eq=False, slots=True)
class Member:
    user: User
    service_type: str
    assignment_id: int


@dataclass(eq=False, slots=True)
class Project:
    id: int
    name: str
    code: str | None
    deal: Deal | None
    customer: Company  # the company invoices go to (the deal's)
    client: Company  # the Harvest client's company
    currency: str
    is_fixed_fee: bool
    bills_time: bool  # time and expenses are billable
    starts_on: date
    ends_on: date
    created: date
    updated: date
    cost_budget_cents: int | None
    fee_cents: int | None
    members: list[Member]
    rates: dict[str, int]  # service type → contracted hourly rate (whole units)
    task_assignment_ids: dict[str, int]
    log_probability: float
    cap_cents: int | None  # clean projects stop billable work here
    orphan: bool = False
    over_budget: bool = False
    outside_date: date | None = None
    value_cents: int = 0  # billable time value so far
    expense_cents: int = 0

    @property
    def budget_cents(self) -> int | None:
        return self.fee_cents if self.is_fixed_fee else self.cost_budget_cents


@dataclass(eq=False, slots=True)
class Slot:
    """One invoice to be: work of a customer × currency × month (× project), or a milestone."""

    kind: str  # work | milestone | double
    key: tuple
    customer: Company
    currency: str
    month: date | None
    project_id: int | None
    date: date
    pushed: bool
    plant: str | None = None
    number: str = ""
    invoice_id: str = ""
    harvest_invoice_id: int = 0
    lines: dict[tuple[int, str, int], list] = field(default_factory=dict)
    expenses: list[tuple[int, int, str, int, str]] = field(default_factory=list)
    milestone: tuple[LineItem, Deal, int] | None = None
    weight: int = 0
    double: Slot | None = None  # the planted second invoice for one of its entries
    double_entries: list[tuple[int, int, int, str, int, date]] = field(default_factory=list)
