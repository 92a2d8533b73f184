"""The reference oracle: an independent Python reading of DESIGN.md §6 (checks), §7
(drafts) and §8 (KPIs) over a fixture folder (§11). Readings are in docs/rules.md.

    from taktgeber.oracle import evaluate
    result = evaluate(Path("worlds/demo"))  # {"findings": [...], "kpis": [...], "drafts": [...]}
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from taktgeber.oracle import checks_handover, checks_ledger, checks_work
from taktgeber.oracle.checks_master import customer_unmatched, missing_vat_id_for_reverse_charge
from taktgeber.oracle.context import Context, Finding, Settings
from taktgeber.oracle.corrections import CorrectionDraft, correction_drafts
from taktgeber.oracle.drafts import Draft, build_drafts
from taktgeber.oracle.kpis import compute_customer_kpis, compute_kpis
from taktgeber.oracle.links import Links
from taktgeber.oracle.refdata import load_refdata
from taktgeber.oracle.world import load_world

__all__ = [
    "Context",
    "CorrectionDraft",
    "Draft",
    "Finding",
    "Settings",
    "build_context",
    "compute_customer_kpis",
    "compute_kpis",
    "correction_drafts",
    "evaluate",
]


def build_context(
    world_dir: Path, as_of: date | None = None, settings: Settings | None = None
) -> Context:
    world_dir = Path(world_dir)
    world = load_world(world_dir)
    ref = load_refdata(world_dir)
    if as_of is None:
        stated = world.answer_key.get("as_of_date")
        if not stated:
            raise ValueError(
                f"{world_dir}: no as_of given and no answer_key.json as_of_date; pass as_of"
            )
        as_of = date.fromisoformat(stated)
    return Context(
        world=world,
        ref=ref,
        links=Links(world, ref),
        as_of=as_of,
        seller_country=world.answer_key.get("seller_country") or "DE",
        settings=settings or Settings(),
    )


def all_findings(ctx: Context, drafts: list[Draft]) -> list[Finding]:
    findings: list[Finding] = []
    for check in (*checks_handover.CHECKS, *checks_work.CHECKS, *checks_ledger.CHECKS):
        findings.extend(check(ctx))
    findings.extend(customer_unmatched(ctx))
    findings.extend(missing_vat_id_for_reverse_charge(ctx, drafts))
    return findings


def _finding_sort_key(item: dict[str, Any]) -> tuple[str, str]:
    return item["check_name"], json.dumps(item["keys"], sort_keys=True, default=str)


def evaluate(
    world_dir: Path, as_of: date | None = None, settings: Settings | None = None
) -> dict[str, list[dict[str, Any]]]:
    ctx = build_context(world_dir, as_of, settings)
    drafts = build_drafts(ctx)
    findings = [f.as_dict() for f in all_findings(ctx, drafts)]
    return {
        "findings": sorted(findings, key=_finding_sort_key),
        "kpis": compute_kpis(ctx),
        "drafts": [d.as_dict() for d in drafts],
    }
