"""The world generator: a deterministic quote-to-cash world as a fixture folder (DESIGN.md §11).

    from taktgeber.generator import generate
    counts = generate(scale="demo", seed=42, out=Path("worlds/demo"))

Same seed → same bytes. See docs/generator.md for the world, its parameters and findings.
"""

from __future__ import annotations

from taktgeber.generator.build import SCALES, generate

__all__ = ["SCALES", "generate"]
