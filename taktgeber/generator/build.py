"""``generate``: plan the world, stream it to disk, write seeds and the answer key."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

from taktgeber.generator.books import Books
from taktgeber.generator.formats import JsonArrayWriter, Uuids, money_text
from taktgeber.generator.masters import write_harvest, write_hubspot, write_xero_masters
from taktgeber.generator.params import DEFAULT_AS_OF, SCALES, SELLER_COUNTRY, resolve_rates
from taktgeber.generator.plan import World, plan_world
from taktgeber.generator.planting import eur_cents, record
from taktgeber.generator.reference import Calendar, Fx, write_seeds
from taktgeber.generator.work import WorkStream

ORACLE_SCALES = ("small", "demo")


def generate(
    scale: str = "demo",
    seed: int = 42,
    out: Path = Path("worlds/demo"),
    *,
    finding_rate: float | None = None,
    finding_rates: dict[str, float] | None = None,
    as_of: date = DEFAULT_AS_OF,
    with_oracle: bool | None = None,
) -> dict[str, int]:
    """Write a world to ``out``; return row counts per ``"<system>/<resource>"``.

    ``finding_rate`` sets every check's planting rate, ``finding_rates`` single
    checks (fractions of their candidates; see params.DEFAULT_FINDING_RATES). KPIs and
    drafts come from the reference oracle for the small and demo scales when it is
    importable (``with_oracle`` forces it on or off).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    out = Path(out)  # files are overwritten in place; nothing else in `out` is touched
    out.mkdir(parents=True, exist_ok=True)
    fx, calendar = Fx(), Calendar()
    world = World(
        scale=SCALES[scale],
        seed=seed,
        as_of=as_of,
        rates=resolve_rates(finding_rate, finding_rates),
        fx=fx,
        calendar=calendar,
    )
    uuids = Uuids(seed)
    plan_world(world)
    for company in world.companies:
        company.contact_id = uuids.make("contact", company.id)

    counts: dict[str, int] = {}
    counts |= write_hubspot(world, out)
    counts |= write_harvest(world, out)
    counts |= write_xero_masters(world, out, uuids)

    books = Books(
        world, out, uuids, random.Random(seed * 104_729 + 3), {p.id: p.name for p in world.projects}
    )
    entries = JsonArrayWriter(out / "harvest" / "time_entries.json")
    expenses = JsonArrayWriter(out / "harvest" / "expenses.json")
    stream = WorkStream(world, books, entries, expenses, seed)
    stream.run()
    entries.close()
    expenses.close()
    counts["harvest/time_entries"] = entries.count
    counts["harvest/expenses"] = expenses.count
    for company, day, net in world.unallocated_credit_notes:
        books.unallocated_credit_note(company, day, net)
    for day, narration, debit, credit, cents, planted in world.manual_journals:
        journal_id = books.journal(
            day,
            "MANJOURNAL",
            uuids.make("manual-journal", f"{day}-{narration}"),
            narration,
            [(debit, cents, 0, "NONE"), (credit, -cents, 0, "NONE")],
        )
        if planted:
            record(
                world, "manual_revenue_posting", {"xero_journal_id": journal_id}, cents, "EUR", day
            )
    counts |= books.close()
    _master_findings(world, books, stream)
    write_seeds(out / "seeds", fx, calendar)

    answer: dict[str, Any] = {
        "as_of_date": as_of.isoformat(),
        "seller_country": SELLER_COUNTRY,
        "scale": scale,
        "seed": seed,
        "counts": dict(sorted(counts.items())),
        "findings": sorted(
            world.findings, key=lambda f: (f["check_name"], json.dumps(f["keys"], sort_keys=True))
        ),
        "kpis": [],
        "drafts": [],
    }
    _write_answer(out, answer)
    if with_oracle is None:
        with_oracle = scale in ORACLE_SCALES
    if with_oracle:
        try:
            from taktgeber.oracle import evaluate
        except ImportError:
            evaluate = None
        if evaluate is not None:
            result = evaluate(out, as_of)
            answer["kpis"], answer["drafts"] = result["kpis"], result["drafts"]
            _write_answer(out, answer)
    return counts


def _write_answer(out: Path, answer: dict[str, Any]) -> None:
    text = json.dumps(answer, ensure_ascii=False, indent=1, default=str)
    (out / "answer_key.json").write_text(text + "\n", encoding="utf-8")


def _master_findings(world: World, books: Books, stream: WorkStream) -> None:
    for company in world.companies:
        if company.contact_link != "number":
            record(
                world,
                "customer_unmatched",
                {"xero_contact_id": company.contact_id},
                books.contact_gross_eur.get(company.id, 0),
                "EUR",
                world.as_of,
            )
        if company.id in world.vat_blocked:
            net = stream.blocked_net.get(company.id, 0)
            for deal in world.deals:
                if deal.company.id == company.id and deal.stage == "closedwon":
                    net += sum(i.amount_cents for i in deal.items if i.skip_invoice)
            record(
                world,
                "missing_vat_id_for_reverse_charge",
                {"hubspot_company_id": company.id},
                net,
                company.currency,
                world.as_of,
            )


__all__ = ["SCALES", "eur_cents", "generate", "money_text"]
