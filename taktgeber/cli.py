"""The `taktgeber` command line. Thin: every subcommand calls an importable function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from taktgeber.config import DEFAULT_SANDBOX_PORT


def _cmd_generate(args: argparse.Namespace) -> int:
    from taktgeber.generator import generate

    summary = generate(scale=args.scale, seed=args.seed, out=Path(args.out))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taktgeber", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a deterministic world (fixture folder)")
    gen.add_argument("--scale", choices=["small", "demo", "1m", "10m"], default="demo")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", required=True)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

