"""`taktgeber run`: load → build → push → load and build again (so the pushed invoices
show) → publish for the dashboard."""

from __future__ import annotations

from datetime import date
from pathlib import Path


def run_all(
    world: Path | None = None,
    as_of: date | None = None,
    base_url: str | None = None,
    push: bool = True,
) -> int:
    """Run the whole pipeline once; return the process exit code (0 ok, 1 failed,
    2 when the push was only partly done).
    Ends by publishing the marts for the dashboard."""
    from taktgeber.build import build, print_report
    from taktgeber.config import warehouse_path
    from taktgeber.load import load, print_summary
    from taktgeber.publish import publish

    print("== load")
    print_summary(load(base_url=base_url))
    print("== build")
    result = build(world=world, as_of=as_of)
    print_report(result)
    if not result.ok:
        return 1
    push_code = 0
    if push:
        from taktgeber.push import push as push_drafts

        print("== push")
        run = push_drafts(base_url=base_url)
        print(run.summary())
        push_code = run.exit_code
        print("== reload and rebuild")
        print_summary(load(base_url=base_url))
        result = build(world=world, as_of=as_of)
        print_report(result)
        if not result.ok:
            return 1
    print(f"== published for the dashboard: {publish(warehouse_path())}")
    return push_code
