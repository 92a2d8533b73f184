"""Shared, session-scoped worlds: generated once, served by the real sandbox over loopback,
loaded by the real dlt pipelines and built by real dbt. Tests read from them; none writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

SMALL_SEED = 7


@dataclass(frozen=True)
class LoadedWorld:
    world: Path
    warehouse: Path
    answer_key: dict

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.answer_key["as_of_date"])


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from taktgeber.generator import generate

    out = tmp_path_factory.mktemp("world-small")
    generate(scale="small", seed=SMALL_SEED, out=out)
    return out


@pytest.fixture(scope="session")
def loaded_small_world(
    small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoadedWorld]:
    from taktgeber.load import load
    from taktgeber.sandbox import Sandbox

    workdir = tmp_path_factory.mktemp("warehouse-small")
    warehouse = workdir / "taktgeber.duckdb"
    previous = os.environ.get("TAKTGEBER_WAREHOUSE")
    os.environ["TAKTGEBER_WAREHOUSE"] = str(warehouse)
    try:
        with Sandbox(small_world) as sandbox:
            load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=workdir / "dlt")
        answer_key = json.loads((small_world / "answer_key.json").read_text())
        yield LoadedWorld(world=small_world, warehouse=warehouse, answer_key=answer_key)
    finally:
        if previous is None:
            os.environ.pop("TAKTGEBER_WAREHOUSE", None)
        else:
            os.environ["TAKTGEBER_WAREHOUSE"] = previous


@pytest.fixture(scope="session")
def built_small_world(loaded_small_world: LoadedWorld) -> LoadedWorld:
    from taktgeber.build import build

    build(
        world=loaded_small_world.world,
        as_of=loaded_small_world.as_of,
        warehouse=loaded_small_world.warehouse,
    )
    return loaded_small_world
