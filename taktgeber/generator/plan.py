"""Phase 1: master data, deals, projects, invoice slots and which findings go where.

Everything here is small (proportional to deals, not to hours), so it is held in memory;
the hours themselves are generated and streamed by :mod:`taktgeber.generator.work`.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from taktgeber.generator.model import Company, Deal, LineItem, Member, Project, Slot, User
from taktgeber.generator.names import FIRST_NAMES, LAST_NAMES, CompanyNames, vat_id
from taktgeber.generator.params import WORLD_START, Scale, planted_count
from taktgeber.generator.reference import BILLABLE_SERVICES, Calendar, Fx, card_rate

COUNTRIES = (("DE", 50), ("AT", 12), ("FR", 8), ("NL", 8), ("CH", 10), ("GB", 7), ("US", 5))
CURRENCY_OF = {
    "DE": "EUR",
    "AT": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "CH": "CHF",
    "GB": "GBP",
    "US": "USD",
}
EU_OTHER = {"AT", "FR", "NL"}
MEAN_QUARTER_HOURS = 16  # entries are 1–7 h in quarter hours, mean 4 h
OPEN_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def add_months(day: date, months: int) -> date:
    for _ in range(months):
        day = next_month(day)
    return day


def season(day: date) -> float:
    """Relative working intensity: summer and Christmas dips."""
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 6):
        return 0.15
    return {7: 0.85, 8: 0.6, 12: 0.75}.get(day.month, 1.0)


@dataclass
class World:
    scale: Scale
    seed: int
    as_of: date
    rates: dict[str, float]
    fx: Fx
    calendar: Calendar
    users: list[User] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)  # all deals incl. change requests
    projects: list[Project] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    entry_plants: dict[tuple[int, date], str] = field(default_factory=dict)
    unallocated_credit_notes: list[tuple[Company, date, int]] = field(default_factory=list)
    manual_journals: list[tuple[date, str, str, str, int, bool]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    vat_blocked: set[str] = field(default_factory=set)
    lost_deal_ids: list[str] = field(default_factory=list)
    products: dict[str, str] = field(default_factory=dict)  # service type → product id
    _business_days: list[date] = field(default_factory=list)

    @property
    def as_of_month(self) -> date:
        return month_start(self.as_of)

    def business_days(self, start: date, end: date) -> list[date]:
        if not self._business_days:
            day = date(2024, 1, 1)
            while day <= date(2028, 1, 1):
                if self.calendar.is_business_day(day):
                    self._business_days.append(day)
                day += timedelta(days=1)
        days = self._business_days
        return days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]


class Planner:
    def __init__(self, world: World) -> None:
        self.w = world
        self.rng = random.Random(world.seed)
        self.users_by_service: dict[str, list[User]] = {}
        self.picked = 0
        self.counter = {"company": 0, "deal": 0, "item": 0, "project": 0, "ta": 0, "ua": 0}

    # -- ids -------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        self.counter[kind] += 1
        return self.counter[kind]

    def count(self, check: str, eligible: int) -> int:
        return planted_count(self.w.rates[check], eligible, self.w.scale.min_findings)

    # -- master data -------------------------------------------------------------------
    def users(self) -> None:
        rng = self.rng
        for n in range(1, self.w.scale.users + 1):
            service = BILLABLE_SERVICES[(n - 1) % len(BILLABLE_SERVICES)]
            self.w.users.append(
                User(
                    id=3_100_000 + n,
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    service_type=service.service_type,
                    cost_rate=rng.randint(45, 85),
                    default_rate=service.eur_rate_2025,
                    is_contractor=rng.random() < 0.1,
                    created=date(2024, 1, 8) + timedelta(days=rng.randint(0, 400)),
                )
            )
        for user in self.w.users:
            self.users_by_service.setdefault(user.service_type, []).append(user)

    def companies(self) -> None:
        rng, names = self.rng, CompanyNames(self.rng)
        countries = [c for c, _ in COUNTRIES]
        weights = [w for _, w in COUNTRIES]
        for n in range(1, self.w.scale.companies + 1):
            country = countries[0] if n <= 2 else rng.choices(countries, weights)[0]
            if 3 <= n <= 8:  # every country from the start, so even small worlds have them
                country = ("AT", "CH", "FR", "NL", "GB", "US")[n - 3]
            name = names.make(country)
            vat = vat_id(rng, country)
            category = "S" if country == "DE" else ("AE" if country in EU_OTHER else "O")
            discount = rng.random() < 0.3 and country in ("DE", "AT")
            self.w.companies.append(
                Company(
                    n=n,
                    id=str(8_200_000_000 + n),
                    name=name,
                    domain=name.split()[0].lower().encode("ascii", "ignore").decode()
                    + f"-{n}.example",
                    country=country,
                    currency=CURRENCY_OF[country],
                    vat_id=vat,
                    tax_number=vat,
                    tax_category=category,
                    terms=rng.choice((14, 14, 30, 30, 30, 45)) if country != "US" else 45,
                    discount_percent=2 if discount else None,
                    discount_days=10 if discount else None,
                    grouping="per_project" if rng.random() < 0.3 else "collective",
                    payer=rng.choices(("punctual", "late", "slow"), (55, 35, 10))[0],
                    created=date(2024, 6, 3) + timedelta(days=rng.randint(0, 280)),
                    contact_id="",
                    client_id=5_400_000 + n,
                )
            )

    # -- deals and projects --------------------------------------------------------------
    def pick_company(self) -> Company:
        # every company wins a deal first; then a few big customers, many small ones
        self.picked += 1
        if self.picked <= len(self.w.companies):
            return self.w.companies[self.picked - 1]
        index = min(int(self.rng.paretovariate(1.1)) - 1, len(self.w.companies) - 1)
        if self.rng.random() < 0.5:
            index = self.rng.randrange(len(self.w.companies))
        return self.w.companies[index]

    def closedate(self) -> date:
        span = (self.w.as_of - timedelta(days=12) - (WORLD_START - timedelta(days=8))).days
        while True:
            day = WORLD_START - timedelta(days=8) + timedelta(days=self.rng.randrange(span))
            if self.calendar_ok(day) and self.rng.random() < season(day):
                return day

    def calendar_ok(self, day: date) -> bool:
        return self.w.calendar.is_business_day(day)

    def new_deal(
        self, company: Company, model: str, stage: str, closedate: date, parent: Deal | None = None
    ) -> Deal:
        n = self.next_id("deal")
        created = closedate - timedelta(days=self.rng.randint(10, 90))
        name = f"{company.name.split()[0]} – {('CR ' + str(len(parent.change_requests) + 1)) if parent else self.rng.choice(('Rollout', 'Relaunch', 'Audit', 'Platform', 'Migration', 'Portal', 'Analytics', 'Redesign'))}"
        deal = Deal(
            id=str(11_500_000_000 + n),
            company=company,
            name=name,
            model=model,
            stage=stage,
            currency=company.currency,
            closedate=closedate,
            created=created,
            parent=parent,
        )
        self.w.deals.append(deal)
        return deal

    def new_item(
        self,
        deal: Deal,
        service_type: str,
        quantity: int,
        price_cents: int,
        billing_date: date | None = None,
    ) -> LineItem:
        n = self.next_id("item")
        name = service_type.replace("_", " ").title()
        if billing_date is not None:
            name = f"Milestone {len(deal.items) + 1}: {name}"
        item = LineItem(
            id=str(27_000_000_000 + n),
            deal_id=deal.id,
            name=name,
            service_type=service_type,
            quantity=quantity,
            price_cents=price_cents,
            created=deal.created,
            product_id=self.w.products.get(service_type if billing_date is None else "milestone"),
            billing_date=billing_date,
        )
        deal.items.append(item)
        return item

    def team(self, services: list[str]) -> list[Member]:
        size = self.rng.randint(*self.w.scale.team)
        members = []
        for i in range(size):
            service = services[i % len(services)]
            user = self.rng.choice(self.users_by_service[service])
            if any(m.user.id == user.id for m in members):
                continue
            members.append(Member(user, service, 7_700_000 + self.next_id("ua")))
        return members

    def expected_hours(self, start: date, end: date, members: int, probability: float) -> float:
        total = 0.0
        for day in self.w.business_days(start, end):
            total += season(day)
        return total * members * probability * MEAN_QUARTER_HOURS / 4

    def new_project(
        self,
        deal: Deal | None,
        customer: Company,
        model: str,
        closedate: date,
        months: int | None = None,
    ) -> Project:
        rng, cal = self.rng, self.w.calendar
        lag = rng.choices((0, 1, 2, rng.randint(3, 6)), (45, 30, 15, 10))[0]
        created = cal.add_business_days(closedate, lag) if lag else closedate
        starts = max(created, WORLD_START)
        starts = cal.next_business_day(starts + timedelta(days=rng.randint(0, 4)))
        months = months or rng.randint(*self.w.scale.months)
        ends = starts + timedelta(days=30 * months - 1)
        services = rng.sample([s.service_type for s in BILLABLE_SERVICES], rng.randint(1, 3))
        members = self.team(services)
        services = sorted({m.service_type for m in members})
        rates = {}
        for service in services:
            base = card_rate(service, customer.currency, closedate)
            rates[service] = base if rng.random() < 0.7 else int(base * rng.choice((0.9, 0.95)))
        pid = 4_400_000 + self.next_id("project")
        probability = self.w.scale.log_probability * (0.6 if model == "fixed_price" else 1.0)
        tas = {s: 9_100_000 + self.next_id("ta") for s in [*services, "presales"]}
        name = (
            deal.name if deal else f"{customer.name.split()[0]} – Support"
        ) + f" ({pid % 10000})"
        return Project(
            id=pid,
            name=name,
            code=deal.id if deal else None,
            deal=deal,
            customer=customer,
            client=customer,
            currency=customer.currency,
            is_fixed_fee=model == "fixed_price",
            bills_time=model != "fixed_price",
            starts_on=starts,
            ends_on=ends,
            created=created,
            updated=created,
            cost_budget_cents=None,
            fee_cents=None,
            members=members,
            rates=rates,
            task_assignment_ids=tas,
            log_probability=probability,
            cap_cents=None,
        )

    def tm_deal(self) -> Deal:
        company = self.pick_company()
        deal = self.new_deal(company, "time_and_materials", "closedwon", self.closedate())
        project = self.new_project(deal, company, "time_and_materials", deal.closedate)
        per_member = self.expected_hours(
            project.starts_on, project.ends_on, 1, project.log_probability
        )
        for service, rate in project.rates.items():
            people = sum(1 for m in project.members if m.service_type == service)
            quantity = max(10, round(per_member * people / 0.8 / 10) * 10)
            self.new_item(deal, service, quantity, rate * 100)
        deal.amount_cents = sum(i.amount_cents for i in deal.items)
        deal.project = project
        self.w.projects.append(project)
        return deal

    def fp_deal(self) -> Deal:
        rng = self.rng
        company = self.pick_company()
        deal = self.new_deal(company, "fixed_price", "closedwon", self.closedate())
        project = self.new_project(deal, company, "fixed_price", deal.closedate)
        hours = self.expected_hours(
            project.starts_on, project.ends_on, len(project.members), project.log_probability / 0.6
        )
        rate = max(project.rates.values())
        amount = max(5_000, round(hours * rate / 0.85 / 1000) * 1000)
        parts = rng.randint(2, 4)
        service = min(project.rates)
        span = (project.ends_on - project.starts_on).days
        shares = [amount // parts // 100 * 100] * (parts - 1)
        shares.append(amount - sum(shares))
        for j, share in enumerate(shares, start=1):
            billing = project.starts_on + timedelta(days=span * j // parts)
            self.milestone(deal, service, share * 100, billing)
        deal.amount_cents = sum(i.amount_cents for i in deal.items)
        deal.project = project
        self.w.projects.append(project)
        return deal

    def milestone(self, deal: Deal, service: str, cents: int, billing: date) -> LineItem:
        item = self.new_item(deal, service, 1, cents, billing_date=billing)
        if self.rng.random() < 0.3:
            item.requires_acceptance = True
            accepted = billing + timedelta(days=self.rng.randint(0, 15))
            item.accepted_date = accepted if accepted < self.w.as_of else None
        return item

    def change_requests(self, deal: Deal) -> None:
        rng, project = self.rng, deal.project
        assert project is not None
        first = project.starts_on + timedelta(days=30)
        last = min(project.ends_on - timedelta(days=10), self.w.as_of - timedelta(days=5))
        if first >= last or rng.random() > 0.2:
            return
        closedate = self.w.calendar.next_business_day(
            first + timedelta(days=rng.randrange((last - first).days))
        )
        stage = rng.choices(("closedwon", "contractsent", "closedlost"), (60, 25, 15))[0]
        if closedate > self.w.as_of - timedelta(days=3):
            return
        cr = self.new_deal(deal.company, deal.model, stage, closedate, parent=deal)
        cr.currency = deal.currency
        service = min(project.rates)
        if deal.model == "time_and_materials":
            self.new_item(cr, service, rng.randint(2, 8) * 10, project.rates[service] * 100)
        else:
            billing = min(closedate + timedelta(days=rng.randint(10, 40)), project.ends_on)
            self.milestone(cr, service, rng.randint(5, 20) * 1000_00, billing)
        cr.amount_cents = sum(i.amount_cents for i in cr.items)
        deal.change_requests.append(cr)
        if stage == "closedwon":
            project.updated = max(project.updated, closedate)

    def other_deals(self) -> None:
        rng = self.rng
        for _ in range(self.w.scale.lost_deals):
            company = self.pick_company()
            model = rng.choice(("time_and_materials", "fixed_price"))
            deal = self.new_deal(company, model, "closedlost", self.closedate())
            service = rng.choice(BILLABLE_SERVICES).service_type
            if model == "fixed_price":
                self.new_item(
                    deal,
                    service,
                    1,
                    rng.randint(10, 80) * 1000_00,
                    deal.closedate + timedelta(days=60),
                )
            else:
                self.new_item(
                    deal,
                    service,
                    rng.randint(5, 40) * 10,
                    card_rate(service, company.currency, deal.closedate) * 100,
                )
            deal.amount_cents = sum(i.amount_cents for i in deal.items)
            self.w.lost_deal_ids.append(deal.id)
        for _ in range(self.w.scale.open_deals):
            company = self.pick_company()
            closedate = self.w.as_of + timedelta(days=rng.randint(1, 14))
            deal = self.new_deal(company, "time_and_materials", rng.choice(OPEN_STAGES), closedate)
            deal.created = self.w.as_of - timedelta(days=rng.randint(5, 120))
            service = rng.choice(BILLABLE_SERVICES).service_type
            self.new_item(
                deal,
                service,
                rng.randint(5, 40) * 10,
                card_rate(service, company.currency, self.w.as_of) * 100,
            )
            deal.amount_cents = sum(i.amount_cents for i in deal.items)


def plan_world(world: World) -> Planner:
    """Build every object of phase 1 and decide where each finding is planted."""
    from taktgeber.generator.planting import plan_slots, plant_findings

    planner = Planner(world)
    world.products = {
        s.service_type: str(1_600_000 + i) for i, s in enumerate(BILLABLE_SERVICES, start=1)
    }
    world.products["milestone"] = str(1_600_000 + len(BILLABLE_SERVICES) + 1)
    planner.users()
    planner.companies()
    tm = [planner.tm_deal() for _ in range(world.scale.tm_deals)]
    fp = [planner.fp_deal() for _ in range(world.scale.fp_deals)]
    planner.other_deals()
    plant_findings(planner, tm, fp)
    plan_slots(planner)
    return planner
