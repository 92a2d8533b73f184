"""Where each DESIGN.md §6 finding is planted, and the invoice slots of the world.

Every planted finding is recorded (docs/answer-key.md) once its amount is known: deal and
company findings here, record and invoice findings while the world is written.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from taktgeber.generator.formats import money_text
from taktgeber.generator.model import Company, Deal, Project, Slot
from taktgeber.generator.names import broken_vat_id
from taktgeber.money import round_money

if TYPE_CHECKING:
    from taktgeber.generator.plan import Planner, World

ENTRY_CHECKS = (
    "unbilled_approved_work",
    "unapproved_work_invoiced",
    "unapproved_work_aging",
    "rate_mismatch",
    "double_billed_work",
)
INVOICE_CHECKS = (
    "invoice_not_posted",
    "invoice_journal_mismatch",
    "pushed_draft_missing_in_accounting",
    "payment_mismatch",
    "overdue_receivable",
)


def eur_cents(
    world: World, cents: int, currency: str, on: date, rate: Decimal | None = None
) -> int:
    rate = rate if rate is not None else world.fx.rate(currency, on)
    return int(round_money(Decimal(cents) / 100 / rate) * 100)


def record(
    world: World,
    check: str,
    keys: dict[str, Any],
    cents: int,
    currency: str,
    on: date,
    rate: Decimal | None = None,
    **extra: Any,
) -> None:
    """One planted finding as docs/answer-key.md writes it."""
    world.findings.append(
        {
            "check_name": check,
            "keys": keys,
            "amount_at_stake_eur": money_text(eur_cents(world, abs(cents), currency, on, rate)),
            "amount_at_stake": {"amount": money_text(abs(cents)), "currency": currency},
            **extra,
        }
    )


def _take(planner: Planner, candidates: list[Deal], n: int, used: set[str]) -> list[Deal]:
    pool = [d for d in candidates if d.id not in used]
    planner.rng.shuffle(pool)
    chosen = pool[:n]
    used.update(d.id for d in chosen)
    return chosen


def _record_deal(world: World, check: str, deal: Deal, cents: int | None = None) -> None:
    record(
        world,
        check,
        {"hubspot_deal_id": deal.id},
        deal.amount_cents if cents is None else cents,
        deal.currency,
        deal.closedate,
    )


def plant_findings(p: Planner, tm: list[Deal], fp: list[Deal]) -> None:
    w, rng = p.w, p.rng
    as_of = w.as_of
    used: set[str] = set()
    won = len(tm) + len(fp)

    def eur(d: Deal) -> bool:
        return d.company.currency == "EUR"

    # -- handover --------------------------------------------------------------------
    dropped: set[int] = set()
    for deal in _take(
        p,
        [d for d in tm if eur(d) and d.closedate <= as_of - timedelta(days=7)],
        p.count("won_deal_without_project", won),
        used,
    ):
        assert deal.project is not None
        dropped.add(deal.project.id)
        deal.project = None
        _record_deal(w, "won_deal_without_project", deal)
    w.projects = [x for x in w.projects if x.id not in dropped]

    eur_companies = [c for c in w.companies if c.currency == "EUR"]
    for deal in _take(p, [d for d in tm if eur(d)], p.count("customer_mismatch", won), used):
        other = rng.choice(eur_companies)
        while other is deal.company:
            other = rng.choice(eur_companies)
        assert deal.project is not None
        deal.project.client = other
        _record_deal(w, "customer_mismatch", deal)

    for deal in _take(p, [d for d in tm if not eur(d)], p.count("currency_mismatch", won), used):
        deal.currency = "EUR"
        _record_deal(w, "currency_mismatch", deal)

    bumps: dict[int, int] = {}
    for deal in _take(
        p, [d for d in tm + fp if eur(d)], p.count("project_budget_mismatch", won), used
    ):
        assert deal.project is not None
        bump = max(1000_00, deal.amount_cents * rng.randint(5, 20) // 100 // 100_00 * 100_00)
        bumps[deal.project.id] = bump
        record(
            w,
            "project_budget_mismatch",
            {"harvest_project_id": deal.project.id},
            bump,
            "EUR",
            deal.project.created,
        )

    for deal in _take(p, [d for d in fp if eur(d)], p.count("billing_model_mismatch", won), used):
        assert deal.project is not None
        deal.project.is_fixed_fee = False
        _record_deal(w, "billing_model_mismatch", deal)

    # -- work → billing ----------------------------------------------------------------
    late = as_of - timedelta(days=60)
    for deal in _take(
        p,
        [d for d in tm if eur(d) and d.project and d.project.ends_on <= late],
        p.count("over_budget_without_change_request", won),
        used,
    ):
        for item in deal.items:
            item.quantity = max(10, round(item.quantity * 0.6 / 10) * 10)
        deal.amount_cents = sum(i.amount_cents for i in deal.items)
        assert deal.project is not None
        deal.project.over_budget = True

    for deal in _take(
        p,
        [
            d
            for d in tm
            if d.project
            and d.project.ends_on <= as_of - timedelta(days=50)
            and d.amount_cents >= 20_000_00
        ],
        p.count("work_outside_project_period", won),
        used,
    ):
        assert deal.project is not None
        after = deal.project.ends_on + timedelta(days=rng.randint(1, 5))
        deal.project.outside_date = w.calendar.next_business_day(after)

    for deal in _take(p, [d for d in fp if eur(d)], p.count("schedule_total_mismatch", won), used):
        size = max(500_00, deal.amount_cents * rng.randint(2, 8) // 100 // 100_00 * 100_00)
        delta = rng.choice((-1, 1)) * size  # beyond the 0.5 % tolerance
        deal.amount_cents += delta
        _record_deal(w, "schedule_total_mismatch", deal, delta)

    due_fp = [d for d in fp if eur(d) and any(i.due and i.due < as_of for i in d.items)]
    for deal in _take(p, due_fp, p.count("milestone_due_not_invoiced", won), used):
        item = rng.choice([i for i in deal.items if i.due and i.due < as_of])
        item.skip_invoice = True
        assert item.due is not None
        record(
            w,
            "milestone_due_not_invoiced",
            {"hubspot_line_item_id": item.id},
            item.amount_cents,
            deal.currency,
            item.due,
        )

    orphans = p.count("project_without_won_deal", won)
    for k in range(orphans):
        company = rng.choice(eur_companies)
        start = date(2025, 5, 1) + timedelta(
            days=rng.randrange(max(1, (as_of - date(2025, 5, 1)).days - 200))
        )
        project = p.new_project(
            None, company, "time_and_materials", start, months=rng.randint(2, 3)
        )
        project.orphan = True
        codes = [
            rng.choice(w.lost_deal_ids) if w.lost_deal_ids else None,
            f"P-{2025 + k % 2}-{100 + k}",
            None,
        ]
        project.code = codes[k % 3]
        w.projects.append(project)

    # -- change requests and budgets (clean deals only) -----------------------------------
    for deal in tm + fp:
        if deal.id not in used and deal.project is not None:
            p.change_requests(deal)
    for deal in tm + fp:
        project = deal.project
        if project is None:
            continue
        expected = deal.amount_cents + deal.won_cr_cents
        actual = expected + bumps.get(project.id, 0)
        if project.is_fixed_fee:
            project.fee_cents = actual
        else:
            project.cost_budget_cents = actual
            project.bills_time = deal.model == "time_and_materials"
        if project.bills_time and not project.over_budget:
            project.cap_cents = expected * 9 // 10

    # -- master data -------------------------------------------------------------------------
    busy = {d.company.id for d in w.deals if d.id in used}
    pool = [c for c in eur_companies if c.id not in busy and c.tax_number]
    rng.shuffle(pool)
    n_unmatched = p.count("customer_unmatched", len(w.companies))
    for k, company in enumerate(pool[:n_unmatched]):
        company.contact_link = "vat" if k % 2 == 0 else "name"
        if company.contact_link == "name":
            company.tax_number = None
    rest = [c for c in pool[n_unmatched:] if c.country in ("AT", "FR", "NL")]
    for k, company in enumerate(
        rest[: p.count("missing_vat_id_for_reverse_charge", len(w.companies))]
    ):
        company.vat_id = None if k % 2 == 0 else broken_vat_id(company.vat_id or "")
        w.vat_blocked.add(company.id)


def _slot_date(w: World, month: date, rng_lag: int) -> date:
    from taktgeber.generator.plan import next_month

    day = w.calendar.add_business_days(w.calendar.next_business_day(next_month(month)), rng_lag)
    while day >= w.as_of:
        day -= timedelta(days=1)
    return day


def _project_business_days(w: World, project: Project, month: date) -> int:
    from taktgeber.generator.plan import next_month

    start = max(month, project.starts_on)
    end = min(next_month(month) - timedelta(days=1), project.ends_on, w.as_of)
    return len(w.business_days(start, end)) if start <= end else 0


def plan_slots(p: Planner) -> None:
    from taktgeber.generator.plan import WORLD_START, month_start, next_month

    w, rng = p.w, p.rng
    slots: dict[tuple, Slot] = {}
    span = (w.as_of_month.year - WORLD_START.year) * 12 + w.as_of_month.month - WORLD_START.month
    month_cells: list[tuple[Project, date, Slot]] = []
    for project in sorted(w.projects, key=lambda x: x.id):
        if not project.bills_time:
            continue
        month = month_start(project.starts_on)
        last = min(project.ends_on, w.as_of)
        if project.outside_date:
            last = max(last, project.outside_date)
        while month <= last and month < w.as_of_month:
            customer = project.customer
            own = customer.grouping == "per_project" or project.orphan
            key = (
                "work",
                customer.id,
                project.currency,
                month.isoformat(),
                project.id if own else 0,
            )
            slot = slots.get(key)
            if slot is None:
                elapsed = (month.year - WORLD_START.year) * 12 + month.month - WORLD_START.month
                automation = 0.35 + 0.55 * elapsed / max(1, span)
                slot = Slot(
                    kind="work",
                    key=key,
                    customer=customer,
                    currency=project.currency,
                    month=month,
                    project_id=project.id if own else None,
                    date=_slot_date(w, month, rng.randint(0, 6)),
                    pushed=not project.orphan and rng.random() < automation,
                )
                slots[key] = slot
            if project.orphan:
                slot.pushed = False
            days = _project_business_days(w, project, month)
            slot.weight += days * len(project.members)
            month_cells.append((project, month, slot))
            month = next_month(month)
    work_slots = list(slots.values())

    # milestones: billed through the push ledger on their due date
    milestone_slots = []
    for deal in w.deals:
        root = deal.parent or deal
        if deal.model != "fixed_price" or deal.stage != "closedwon" or root.project is None:
            continue
        for item in deal.items:
            due = item.due
            if due is None or due >= w.as_of or item.skip_invoice:
                continue
            milestone_slots.append(
                Slot(
                    kind="milestone",
                    key=("milestone", item.id),
                    customer=deal.company,
                    currency=root.project.currency,
                    month=month_start(due),
                    project_id=root.project.id,
                    date=due,
                    pushed=True,
                    milestone=(item, deal, root.project.id),
                )
            )

    # record findings: one planted record per chosen project-month
    two_months_ago = month_start(w.as_of_month - timedelta(days=40))
    cells = [
        (pr, m, s)
        for pr, m, s in month_cells
        if pr.deal is not None
        and not pr.orphan
        and not pr.over_budget
        and m < two_months_ago
        and _project_business_days(w, pr, m) >= 10
    ]
    rng.shuffle(cells)
    taken: set[tuple[int, date]] = set()
    doubles = []
    for check in ENTRY_CHECKS:
        n = p.count(check, len(cells))
        for project, month, slot in [c for c in cells if (c[0].id, c[1]) not in taken][:n]:
            taken.add((project.id, month))
            w.entry_plants[(project.id, month)] = check
            if check == "double_billed_work" and slot.double is None:
                day = min(
                    slot.date + timedelta(days=rng.randint(3, 10)), w.as_of - timedelta(days=1)
                )
                slot.double = Slot(
                    kind="double",
                    key=("double", *slot.key),
                    customer=slot.customer,
                    currency=slot.currency,
                    month=slot.month,
                    project_id=slot.project_id,
                    date=day,
                    pushed=True,
                )
                doubles.append(slot.double)

    # invoice findings: one per chosen work invoice
    candidates = [s for s in work_slots if s.weight >= 10 and s.double is None]
    rng.shuffle(candidates)
    chosen: set[tuple] = set()
    for check in INVOICE_CHECKS:
        n = p.count(check, len(work_slots))
        eligible = [s for s in candidates if s.key not in chosen and _invoice_eligible(w, check, s)]
        for slot in eligible[:n]:
            slot.plant = check
            chosen.add(slot.key)

    # credit notes without reference, manual journals
    eur_customers = sorted(
        {s.customer.id: s.customer for s in work_slots if s.customer.currency == "EUR"}.values(),
        key=lambda c: c.n,
    )
    for _ in range(p.count("credit_note_without_reference", len(work_slots))):
        company = rng.choice(eur_customers)
        day = date(2025, 6, 2) + timedelta(days=rng.randrange((w.as_of - date(2025, 6, 10)).days))
        w.unallocated_credit_notes.append((company, day, rng.randint(200, 3000) * 100))
    month_ends = []
    month = WORLD_START
    while next_month(month) <= w.as_of_month:
        month_ends.append(next_month(month) - timedelta(days=1))
        month = next_month(month)
    for end in month_ends:
        w.manual_journals.append((end, "Abschreibungen", "4830", "0420", 850_00, False))
        w.manual_journals.append(
            (end, "Gehaltsabgrenzung", "4120", "3790", rng.randint(20, 40) * 1000_00, False)
        )
    for end in rng.sample(
        month_ends, min(len(month_ends), p.count("manual_revenue_posting", len(w.manual_journals)))
    ):
        w.manual_journals.append(
            (end, "Umsatzabgrenzung", "0990", "8400", rng.randint(10, 150) * 100_00, True)
        )
    w.manual_journals.sort(key=lambda j: (j[0], j[1]))

    everything = work_slots + milestone_slots + doubles
    order = {"work": 0, "double": 1, "milestone": 2}
    everything.sort(key=lambda s: (s.date, order[s.kind], str(s.key)))
    for i, slot in enumerate(everything):
        slot.number = f"INV-{10001 + i}"
        slot.harvest_invoice_id = 6_300_001 + i
    w.slots = everything


def _invoice_eligible(w: World, check: str, slot: Slot) -> bool:
    eur = slot.currency == "EUR"
    if check == "overdue_receivable":
        return slot.date + timedelta(
            days=slot.customer.terms + 15
        ) <= w.as_of and slot.date >= w.as_of - timedelta(days=240)
    if check == "payment_mismatch":
        return eur and slot.date <= w.as_of - timedelta(days=8)
    if check in ("invoice_journal_mismatch", "pushed_draft_missing_in_accounting"):
        return eur and (slot.pushed or check == "invoice_journal_mismatch")
    return True


def company_for(world: World, company_id: str) -> Company:
    return next(c for c in world.companies if c.id == company_id)
