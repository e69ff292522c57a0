"""Artifacts: atomic write, sha256-guarded load, clear errors for deleted and tampered files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.artifacts import (
    artifact_bytes,
    library_versions,
    load_artifact,
    load_artifact_bytes,
    sha256_hex,
    write_artifact,
)
from snowml_desktop.core.errors import IntegrityError, NotFound
from snowml_desktop.core.scoring import predict
from snowml_desktop.core.training import TrainSpec, train_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    outcome = train_model(frame, TrainSpec(target="target", method="rf", params={"n_estimators": 10}))
    return frame, outcome


def test_round_trip_predicts_the_same(tmp_path: Path, trained) -> None:
    frame, outcome = trained
    metadata = {"model": "RANDOM_FOREST_1", "features": [f.name for f in outcome.features]}
    data = artifact_bytes(outcome.pipeline, metadata)
    path = tmp_path / "models" / "RANDOM_FOREST_1.joblib"
    digest = write_artifact(path, data)
    assert digest == sha256_hex(data) and len(digest) == 64
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind

    artifact = load_artifact(path, digest)
    assert artifact.metadata == metadata
    before = predict(outcome.pipeline, frame, outcome.features)
    after = predict(artifact.pipeline, frame, outcome.features)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(before[1], after[1])


def test_tampered_file_is_refused_before_unpickling(tmp_path: Path, trained) -> None:
    _, outcome = trained
    path = tmp_path / "m.joblib"
    digest = write_artifact(path, artifact_bytes(outcome.pipeline, {}))
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))
    with pytest.raises(IntegrityError, match="does not match"):
        load_artifact(path, digest, model="RANDOM_FOREST_1")
    # A pickle that would run code if loaded: refused on the digest alone.
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."
    with pytest.raises(IntegrityError):
        load_artifact_bytes(evil, digest)


def test_deleted_file_names_model_and_path(tmp_path: Path) -> None:
    path = tmp_path / "gone.joblib"
    with pytest.raises(NotFound) as raised:
        load_artifact(path, "0" * 64, model="KNN_3")
    text = str(raised.value)
    assert "KNN_3" in text and str(path) in text and "retrain" in text.lower()


def test_overwrite_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    write_artifact(path, b"one")
    write_artifact(path, b"two")
    assert path.read_bytes() == b"two" and len(list(tmp_path.iterdir())) == 1


def test_library_versions() -> None:
    versions = library_versions()
    assert {"python", "scikit-learn", "pandas", "numpy", "joblib", "optuna"} <= set(versions)
    assert versions["pandas"] == pd.__version__


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    from snowml_desktop.core.errors import EngineError

    blocker = tmp_path / "models"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(EngineError, match="Cannot write the model artifact"):
        write_artifact(blocker / "m.joblib", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["models"]


def test_valid_digest_of_non_artifact_bytes_is_a_clear_error() -> None:
    from snowml_desktop.core.errors import EngineError

    data = b"not a joblib file"
    with pytest.raises(EngineError, match="cannot be loaded"):
        load_artifact_bytes(data, sha256_hex(data))
