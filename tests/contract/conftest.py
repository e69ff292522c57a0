"""Engines under the contract suite. To add an engine, add one entry to ``HARNESSES``.

Each harness opens an engine on fresh storage and knows the one thing the protocol deliberately does not
expose: how to corrupt a model artifact (for the integrity test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from snowml_desktop.core.demo_data import write_demo_files
from snowml_desktop.engines.base import Engine, LoadRequest


@dataclass
class Harness:
    engine: Engine
    tamper_artifact: Callable[[str], None]  # flip a byte of the named model's artifact
    demo_files: list[Path]


def _local(root: Path) -> Harness:
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(root / "workspace")

    def tamper(model: str) -> None:
        path = engine.workspace.stage_dir("MODELS") / f"{model}.joblib"
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))

    return Harness(engine, tamper, write_demo_files(root / "demo"))


HARNESSES: dict[str, Callable[[Path], Harness]] = {
    "local": _local,
}


@pytest.fixture(scope="module", params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    opened = HARNESSES[request.param](tmp_path_factory.mktemp(f"contract-{request.param}"))
    try:
        yield opened
    finally:
        opened.engine.close()


@pytest.fixture(scope="module")
def engine(harness: Harness) -> Engine:
    """An engine with the demo files uploaded and loaded as BC, BC_NEW and CHURN."""
    engine = harness.engine
    engine.upload(harness.demo_files, "LOAD_DATA")
    for file, table in (
        ("BREAST_CANCER.csv", "BC"),
        ("BREAST_CANCER_NEW_PATIENTS.csv", "BC_NEW"),
        ("CHURN.csv", "CHURN"),
    ):
        engine.load(LoadRequest(stage="LOAD_DATA", file=file, table=table, mode="replace"))
    return engine
