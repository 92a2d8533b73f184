"""`make demo`: generate the demo world, serve it, load, build, push, show the results.

Everything runs on loopback against the sandbox; the warehouse is `warehouse/taktgeber.duckdb`
(or `TAKTGEBER_WAREHOUSE`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from taktgeber.config import REPO_ROOT


def ensure_world(world: Path, seed: int, scale: str = "demo") -> Path:
    """Generate the world unless a complete one with the same seed is already there."""
    from taktgeber.generator import generate

    marker = world / "answer_key.json"
    stamp = world / ".generated-with"
    wanted = f"{scale}:{seed}"
    if marker.exists() and stamp.exists() and stamp.read_text() == wanted:
        print(f"== world: reusing {world}")
        return world
    print(f"== world: generating {scale} (seed {seed}) into {world}")
    counts = generate(scale=scale, seed=seed, out=world)
    stamp.write_text(wanted)
    print(f"   {sum(counts.values()):,} records in {len(counts)} resources")
    return world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="taktgeber-demo")
    parser.add_argument("--world", default=str(REPO_ROOT / "worlds" / "demo"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--dashboard-port", type=int, default=8501)
    parser.add_argument("--no-serve", action="store_true", help="stop after the pipeline")
    args = parser.parse_args(argv)

    from taktgeber.run import run_all
    from taktgeber.sandbox import Sandbox

    world = ensure_world(Path(args.world), args.seed, args.scale)
    as_of = date.fromisoformat(json.loads((world / "answer_key.json").read_text())["as_of_date"])
    with Sandbox(world, port=args.port) as sandbox:
        print(f"== sandbox: serving {world} at {sandbox.base_url}")
        code = run_all(world=world, as_of=as_of, base_url=sandbox.base_url)
        if code == 1 or args.no_serve:
            return code
        from taktgeber.dashboard import serve

        print(
            f"== dashboard: http://127.0.0.1:{args.dashboard_port}  (sandbox stays up; Ctrl-C ends)"
        )
        serve(port=args.dashboard_port)
    return code


if __name__ == "__main__":
    sys.exit(main())
