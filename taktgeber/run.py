"""`taktgeber run`: load → build → push → build again (so the pushed invoices show)."""

from __future__ import annotations

from datetime import date
from pathlib import Path


def run_all(
    world: Path | None = None,
    as_of: date | None = None,
    base_url: str | None = None,
    push: bool = True,
) -> int:
    """Run the whole pipeline once; return the process exit code (0 ok, 1 failed)."""
    from taktgeber.build import build, print_report
    from taktgeber.load import load, print_summary

    print("== load")
    print_summary(load(base_url=base_url))
    print("== build")
    result = build(world=world, as_of=as_of)
    print_report(result)
    if not result.ok:
        return 1
    if push:
        from taktgeber.push import push as push_drafts

        print("== push")
        run = push_drafts(base_url=base_url)
        print(run.summary())
        print("== reload and rebuild")
        print_summary(load(base_url=base_url))
        result = build(world=world, as_of=as_of)
        print_report(result)
        return 0 if result.ok else 1
    return 0
