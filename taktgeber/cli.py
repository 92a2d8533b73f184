"""The `taktgeber` command line. Thin: every subcommand calls an importable function."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from taktgeber.config import DEFAULT_SANDBOX_PORT


def _cmd_generate(args: argparse.Namespace) -> int:
    from taktgeber.generator import generate

    summary = generate(
        scale=args.scale, seed=args.seed, out=Path(args.out), finding_rate=args.finding_rate
    )
    for resource, count in sorted(summary.items()):
        print(f"{resource:32s} {count:>12,}")
    print(f"world written to {args.out}")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from taktgeber.sandbox import serve_forever

    serve_forever(Path(args.world), port=args.port, faults=args.faults, fault_seed=args.fault_seed)
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from taktgeber.load import load, print_summary

    result = load(sources=args.source or None, base_url=args.base_url)
    print_summary(result)
    return 0


def _as_of(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _cmd_build(args: argparse.Namespace) -> int:
    from taktgeber.build import build, print_report

    result = build(
        world=Path(args.world) if args.world else None,
        as_of=_as_of(args.as_of),
        full_refresh=args.full_refresh,
    )
    print_report(result)
    if not result.ok:
        return 1
    _publish()
    return 0


def _publish() -> None:
    """Swap in a fresh read-only copy of the marts for the dashboard."""
    from taktgeber.config import warehouse_path
    from taktgeber.publish import publish

    print(f"published for the dashboard: {publish(warehouse_path())}")


def _cmd_publish(args: argparse.Namespace) -> int:
    _publish()
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from taktgeber.dashboard import serve

    print(f"dashboard: http://127.0.0.1:{args.port}")
    serve(port=args.port)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from taktgeber.run import run_all

    return run_all(
        world=Path(args.world) if args.world else None,
        as_of=_as_of(args.as_of),
        base_url=args.base_url,
        push=not args.no_push,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taktgeber", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a deterministic world (fixture folder)")
    gen.add_argument("--scale", choices=["small", "demo", "1m", "10m"], default="demo")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", required=True)
    gen.add_argument(
        "--finding-rate",
        type=float,
        default=None,
        help="share of records planted with each finding (default: per-check defaults; 0 = clean)",
    )
    gen.set_defaults(func=_cmd_generate)

    sb = sub.add_parser("sandbox", help="serve a world as HubSpot, Harvest and Xero on loopback")
    sb.add_argument("--world", required=True)
    sb.add_argument("--port", type=int, default=DEFAULT_SANDBOX_PORT)
    sb.add_argument("--faults", default=None, help="e.g. '429=0.02,5xx=0.1,drop=0.05'")
    sb.add_argument("--fault-seed", type=int, default=0)
    sb.set_defaults(func=_cmd_sandbox)

    ld = sub.add_parser("load", help="load HubSpot, Harvest and Xero into the warehouse (dlt)")
    ld.add_argument("--source", action="append", choices=["hubspot", "harvest", "xero"])
    ld.add_argument("--base-url", default=None, help="sandbox root, e.g. http://127.0.0.1:8765")
    ld.set_defaults(func=_cmd_load)

    bd = sub.add_parser("build", help="dbt seed + build the warehouse; report failures")
    bd.add_argument("--world", default=None, help="use this world's seeds/ and push ledger")
    bd.add_argument("--as-of", default=None, help="as_of_date (YYYY-MM-DD); default today")
    bd.add_argument(
        "--full-refresh",
        action="store_true",
        help="restage the incremental facts (time entries, journal lines) from scratch",
    )
    bd.set_defaults(func=_cmd_build)

    from taktgeber.push.command import add_arguments as add_push_arguments
    from taktgeber.push.command import run_push_command

    ps = sub.add_parser("push", help="push ready drafts to Xero exactly once (see docs/push.md)")
    add_push_arguments(ps)
    ps.set_defaults(func=run_push_command)

    pb = sub.add_parser("publish", help="publish the marts for the dashboard (build does this)")
    pb.set_defaults(func=_cmd_publish)

    db = sub.add_parser("dashboard", help="serve the Streamlit dashboard on loopback")
    db.add_argument("--port", type=int, default=8501)
    db.set_defaults(func=_cmd_dashboard)

    rn = sub.add_parser("run", help="load → build → push → publish")
    rn.add_argument("--world", default=None)
    rn.add_argument("--as-of", default=None)
    rn.add_argument("--base-url", default=None)
    rn.add_argument("--no-push", action="store_true", help="stop after the build")
    rn.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from taktgeber.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"taktgeber: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
