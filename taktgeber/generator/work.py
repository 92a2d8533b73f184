"""Phase 2: time entries and expenses, month by month, streamed to disk.

Only aggregates are kept: per invoice slot the hours per project × service × rate with
the entry ids (the push ledger needs them), per project the billable value.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from taktgeber.generator.books import Books
from taktgeber.generator.formats import (
    JsonArrayWriter,
    at,
    dumps,
    harvest_stamp,
    harvest_ts,
    money_number,
)
from taktgeber.generator.model import Member, Project, Slot
from taktgeber.generator.plan import World, month_start, next_month, season
from taktgeber.generator.planting import record
from taktgeber.generator.reference import SERVICE_BY_TYPE, card_rate

EXPENSE_CATEGORIES = (
    (7_000_001, "Travel", None, None, (80_00, 450_00)),
    (7_000_002, "Hotel", None, None, (90_00, 320_00)),
    (7_000_003, "Meals", None, None, (15_00, 90_00)),
    (7_000_004, "Mileage", 0.3, "km", (40, 600)),
)
NOTES = (
    "Workshop",
    "Umsetzung",
    "Abstimmung mit Kunde",
    "Review",
    "Konzept",
    "Testing",
    "Dokumentation",
    "Daily",
    "Deployment",
    "Analyse",
)
ID_TIME, ID_EXPENSE = 2_600_000_000, 910_000_000


def _b(flag: bool) -> str:
    return "true" if flag else "false"


class WorkStream:
    def __init__(
        self,
        world: World,
        books: Books,
        entries: JsonArrayWriter,
        expenses: JsonArrayWriter,
        seed: int,
    ) -> None:
        self.w, self.books = world, books
        self.entries, self.expenses = entries, expenses
        self.rng = random.Random(seed * 7919 + 11)
        self.entry_id = ID_TIME
        self.expense_id = ID_EXPENSE
        self.slot_of: dict[tuple, Slot] = {s.key: s for s in world.slots}
        # draftable work of companies whose drafts a bad VAT id blocks (cents)
        self.blocked_net: dict[str, int] = {c: 0 for c in world.vat_blocked}
        # per project: (person, service) → nested objects, dropped when the project is over
        self.statics: dict[int, dict[tuple[int, str], dict[str, Any]]] = {}
        self.orphan_value: dict[int, int] = {}
        recent = world.as_of
        while world.calendar.business_days_between(recent - timedelta(days=1), world.as_of) <= 4:
            recent -= timedelta(days=1)
        self.recent_from = recent

    # -- helpers ---------------------------------------------------------------------
    def slot(self, project: Project, month: date) -> Slot | None:
        own = project.customer.grouping == "per_project" or project.orphan
        key = (
            "work",
            project.customer.id,
            project.currency,
            month.isoformat(),
            project.id if own else 0,
        )
        return self.slot_of.get(key)

    def static(self, project: Project, member: Member, service: str) -> dict[str, Any]:
        cache = self.statics.setdefault(project.id, {})
        key = (member.user.id, service)
        hit = cache.get(key)
        if hit is None:
            spec = SERVICE_BY_TYPE[service]
            billable = project.bills_time and spec.is_billable
            rate = project.rates.get(service) if billable else None
            hit = {
                "user": {"id": member.user.id, "name": member.user.name},
                "client": {
                    "id": project.client.client_id,
                    "name": project.client.name,
                    "currency": project.currency,
                },
                "project": {"id": project.id, "name": project.name, "code": project.code},
                "task": {
                    "id": 2_100_001 + list(SERVICE_BY_TYPE).index(service),
                    "name": spec.task_name,
                },
                "user_assignment": {
                    "id": member.assignment_id,
                    "is_project_manager": False,
                    "is_active": True,
                    "budget": None,
                    "hourly_rate": rate,
                },
                "task_assignment": {
                    "id": project.task_assignment_ids.get(service, 0),
                    "billable": billable,
                    "is_active": True,
                    "hourly_rate": rate,
                    "budget": None,
                },
                "billable": billable,
                "rate": rate,
                "cost_rate": float(member.user.cost_rate),
                "service": service,
            }
            nested = {
                k: hit[k]
                for k in ("user", "client", "project", "task", "user_assignment", "task_assignment")
            }
            hit["json"] = dumps(nested)[1:-1]
            cache[key] = hit
        return hit

    def is_recent(self, day: date) -> bool:
        """Within the approval SLA: may still be waiting for approval at as_of."""
        return day >= self.recent_from

    # -- the month loop ----------------------------------------------------------------
    def run(self) -> None:
        w = self.w
        month = month_start(min(p.starts_on for p in w.projects))
        slots_by_month: dict[date, list[Slot]] = {}
        for slot in w.slots:
            slots_by_month.setdefault(month_start(slot.date), []).append(slot)
        projects = sorted(w.projects, key=lambda p: p.id)
        while month <= w.as_of_month:
            end = min(next_month(month) - timedelta(days=1), w.as_of)
            days = w.business_days(month, end)
            for project in projects:
                if project.starts_on <= end and (
                    project.ends_on >= month
                    or (project.outside_date and project.outside_date >= month)
                ):
                    self.project_month(project, month, days)
                last = max(project.ends_on, project.outside_date or project.ends_on)
                if last < next_month(month):
                    self.statics.pop(project.id, None)
            for slot in slots_by_month.get(month, []):
                if slot.kind == "double":
                    continue
                self.books.invoice(slot)
                if slot.double is not None:
                    self.books.invoice(slot.double)
                    slot.double.double_entries.clear()
                slot.lines.clear()  # written: keep memory flat
                slot.expenses.clear()
            month = next_month(month)
        for project in projects:
            self.project_findings(project)

    def project_month(self, project: Project, month: date, days: list[date]) -> None:
        rng, w = self.rng, self.w
        plant = w.entry_plants.get((project.id, month))
        slot = self.slot(project, month) if month < w.as_of_month else None
        for day in days:
            if day < project.starts_on or day > project.ends_on:
                continue
            chance = project.log_probability * season(day)
            for member in project.members:
                if rng.random() >= chance:
                    continue
                service = "presales" if rng.random() < 0.06 else member.service_type
                qh = rng.randint(4, 28)
                static = self.static(project, member, service)
                rate = static["rate"]
                if static["billable"] and project.cap_cents is not None:
                    value = qh * rate * 25
                    if project.value_cents + project.expense_cents + value > project.cap_cents:
                        continue  # the budget is used up: the team stops booking
                check = None
                if plant and static["billable"] and not self.is_recent(day):
                    check, plant = plant, None
                self.entry(project, member, static, day, qh, slot, check)
        self.month_expenses(project, month, days, slot)
        if project.outside_date and month_start(project.outside_date) == month:
            member = project.members[0]
            static = self.static(project, member, member.service_type)
            self.entry(
                project,
                member,
                static,
                project.outside_date,
                rng.randint(4, 12),
                slot,
                "work_outside_project_period",
            )

    def entry(
        self,
        project: Project,
        member: Member,
        static: dict[str, Any],
        day: date,
        qh: int,
        slot: Slot | None,
        check: str | None,
    ) -> None:
        w, rng = self.w, self.rng
        self.entry_id += 1
        entry_id = self.entry_id
        billable = static["billable"]
        rate = static["rate"]
        if project.orphan and billable:
            rate = card_rate(static["service"], project.currency, day)  # no deal: the rate card
        if check == "rate_mismatch":
            rate = rate + rng.choice((-20, -15, -10, 10, 15))
        approved = not (self.is_recent(day) and rng.random() < 0.5)
        if check in ("unapproved_work_invoiced", "unapproved_work_aging"):
            approved = False
        billed = billable and slot is not None and (approved or check == "unapproved_work_invoiced")
        if check in ("unbilled_approved_work", "unapproved_work_aging"):
            billed = False
        value = qh * rate * 25 if billable else 0
        if billable:
            project.value_cents += value
            if project.orphan:
                self.orphan_value[project.id] = self.orphan_value.get(project.id, 0) + value
        invoice = None
        if billed and slot is not None:
            target = slot
            cell = slot.lines.setdefault((project.id, static["service"], rate), [0, []])
            cell[0] += qh
            cell[1].append(entry_id)
            if check == "double_billed_work" and slot.double is not None:
                slot.double.double_entries.append(
                    (entry_id, qh, rate, static["service"], project.id, day)
                )
            invoice = {"id": target.harvest_invoice_id, "number": target.number}
        elif billable and approved and project.customer.id in self.blocked_net:
            self.blocked_net[project.customer.id] += value
        if check is not None:
            cents = qh * abs(rate - static["rate"]) * 25 if check == "rate_mismatch" else value
            record(w, check, {"harvest_time_entry_id": entry_id}, cents, project.currency, day)
        created = harvest_stamp(day, 61_200 + (entry_id % 7200))
        if billed and slot is not None:
            updated = harvest_stamp(slot.date, 30_000 + (entry_id % 3600))
        elif approved:
            updated = harvest_stamp(
                min(day + timedelta(days=3), w.as_of), 32_400 + (entry_id % 3600)
            )
        else:
            updated = created
        hours = repr(qh / 4)
        if approved:
            reason = '"Item Invoiced and Approved"' if billed else '"Item Approved"'
        else:
            reason = '"Item Invoiced"' if billed else "null"
        invoice_json = dumps(invoice) if invoice else "null"
        # hand-assembled compact JSON: the nested objects are serialised once per
        # project × person × task (static["json"]), which keeps 10 M entries affordable
        self.entries.write_raw(
            f'{{"id":{entry_id},"spent_date":"{day.isoformat()}","hours":{hours},'
            f'"rounded_hours":{hours},"notes":"{NOTES[entry_id % len(NOTES)]}",'
            f'"is_locked":{_b(approved or billed)},"locked_reason":{reason},"is_closed":{_b(approved)},'
            f'"is_billed":{_b(billed)},"timer_started_at":null,"started_time":null,"ended_time":null,'
            f'"is_running":false,"billable":{_b(billable)},"budgeted":true,'
            f'"billable_rate":{repr(float(rate)) if billable else "null"},'
            f'"cost_rate":{static["cost_rate"]!r},"created_at":"{created}","updated_at":"{updated}",'
            f'{static["json"]},"invoice":{invoice_json},"external_reference":null}}'
        )

    def month_expenses(
        self, project: Project, month: date, days: list[date], slot: Slot | None
    ) -> None:
        rng, w = self.rng, self.w
        window = [d for d in days if project.starts_on <= d <= project.ends_on]
        if not window:
            return
        plant = w.entry_plants.get((project.id, month))
        extra = plant == "unbilled_approved_work" and (project.id + month.month) % 2 == 0
        for member in project.members:
            if rng.random() >= 0.2 and not extra:
                continue
            day = rng.choice(window)
            cat_id, cat_name, unit_price, unit_name, (low, high) = rng.choice(EXPENSE_CATEGORIES)
            units = None
            if unit_price is not None:
                units = rng.randint(low, high)
                cents = units * 30
            else:
                cents = rng.randint(low, high)
            billable = project.bills_time and not project.over_budget and not project.orphan
            if (
                billable
                and project.cap_cents is not None
                and project.value_cents + project.expense_cents + cents > project.cap_cents
            ):
                billable = False
            check = (
                "unbilled_approved_work" if extra and billable and not self.is_recent(day) else None
            )
            extra = extra and check is None
            approved = not (self.is_recent(day) and rng.random() < 0.5)
            billed = billable and approved and slot is not None and check is None
            if billable:
                project.expense_cents += cents
            self.expense_id += 1
            expense_id = self.expense_id
            invoice = None
            if billed and slot is not None:
                slot.expenses.append((expense_id, cents, cat_name, project.id, day))
                invoice = {"id": slot.harvest_invoice_id, "number": slot.number}
            elif billable and approved and project.customer.id in self.blocked_net:
                self.blocked_net[project.customer.id] += cents
            if check:
                record(w, check, {"harvest_expense_id": expense_id}, cents, project.currency, day)
            created = at(day, 64_800 + expense_id % 3600)
            updated = at(slot.date, 30_000) if billed and slot is not None else created
            self.expenses.write(
                {
                    "id": expense_id,
                    "notes": f"{cat_name} {project.name}",
                    "total_cost": money_number(cents),
                    "units": units,
                    "is_closed": approved,
                    "is_locked": approved or billed,
                    "is_billed": billed,
                    "locked_reason": "Item Invoiced and Approved"
                    if billed
                    else ("Item Approved" if approved else None),
                    "spent_date": day.isoformat(),
                    "created_at": harvest_ts(created),
                    "updated_at": harvest_ts(updated),
                    "billable": billable,
                    "receipt": None,
                    "user": {"id": member.user.id, "name": member.user.name},
                    "user_assignment": {
                        "id": member.assignment_id,
                        "is_project_manager": False,
                        "is_active": True,
                        "budget": None,
                        "hourly_rate": None,
                    },
                    "project": {"id": project.id, "name": project.name, "code": project.code},
                    "expense_category": {
                        "id": cat_id,
                        "name": cat_name,
                        "unit_price": unit_price,
                        "unit_name": unit_name,
                    },
                    "client": {
                        "id": project.client.client_id,
                        "name": project.client.name,
                        "currency": project.currency,
                    },
                    "invoice": invoice,
                }
            )

    def project_findings(self, project: Project) -> None:
        w = self.w
        if (
            project.over_budget
            and project.cost_budget_cents is not None
            and project.value_cents > project.cost_budget_cents
        ):
            record(
                w,
                "over_budget_without_change_request",
                {"harvest_project_id": project.id},
                project.value_cents - project.cost_budget_cents,
                project.currency,
                project.ends_on,
            )
        if project.orphan and self.orphan_value.get(project.id):
            record(
                w,
                "project_without_won_deal",
                {"harvest_project_id": project.id},
                self.orphan_value[project.id],
                project.currency,
                project.ends_on,
            )
