"""The procedures' code zip, run as Snowflake runs it: a clean interpreter (``python -I -S``) whose sys.path holds
the zip and the channel's packages (here: this environment's site-packages without snowml-desktop itself, its
metadata or its editable-install hook), with ``-X snowflake_import_directory=...`` pointing at the UDF's
imports. Snowflake adds a zip import to sys.path and puts the imports in that directory:
https://docs.snowflake.com/en/developer-guide/udf/python/udf-python-creating#reading-files-from-a-udf-handler"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from snowml_desktop import __version__
from snowml_desktop.core.artifacts import artifact_bytes, sha256_hex
from snowml_desktop.core.demo_data import BREAST_CANCER_TARGET, breast_cancer_frames
from snowml_desktop.core.scoring import predict
from snowml_desktop.core.training import TrainSpec, train_model
from snowml_desktop.engines.snowflake import setup

PROBE = """
import json, sys
archive, channel, artifact, sha256, features, rows = sys.argv[1:]
sys.path[:0] = [archive, channel]
import pandas as pd
import snowml_desktop
from snowml_desktop.core.records import Feature
from snowml_desktop.engines.snowflake import procedures, udf
handler = udf.make_artifact_handler(artifact, sha256, [Feature(**f) for f in json.loads(features)])
scored = handler(pd.DataFrame(json.loads(rows)))
print(json.dumps({
    "version": snowml_desktop.__version__,
    "files": [m.__file__ for m in (snowml_desktop, procedures, udf)],
    "path": sys.path,
    "scored": [[item[udf.PREDICTION_KEY], item[udf.PROBABILITY_KEY]] for item in scored],
}))
"""


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This environment's packages, minus everything of snowml-desktop (links, so nothing is copied)."""
    folder = tmp_path_factory.mktemp("channel")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("snowml_desktop", "__editable__", "_snowml_desktop")) or name.endswith(".pth"):
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def test_the_zip_scores_a_batch_in_a_clean_interpreter_with_the_real_version(
    channel: Path, tmp_path: Path
) -> None:
    archive = setup.code_zip(tmp_path)
    imports = tmp_path / "imports"
    imports.mkdir()
    rows, new_rows = breast_cancer_frames()
    outcome = train_model(rows, TrainSpec(target=BREAST_CANCER_TARGET, method="logistic_regression"))
    data = artifact_bytes(outcome.pipeline, {"model": "LOGISTIC_REGRESSION_1"})
    (imports / "LOGISTIC_REGRESSION_1.joblib").write_bytes(data)
    batch = new_rows[[f.name for f in outcome.features]].iloc[5:45]
    features = json.dumps(
        [{"name": f.name, "kind": f.kind, "sql_type": f.sql_type} for f in outcome.features]
    )

    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-X",
            f"snowflake_import_directory={imports}",
            "-c",
            PROBE,
            str(archive),
            str(channel),
            "LOGISTIC_REGRESSION_1.joblib",
            sha256_hex(data),
            features,
            json.dumps(batch.to_numpy().tolist()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert all(f.startswith(str(archive)) for f in found["files"]), found["files"]
    assert not any("snowml" in p and p != str(archive) for p in found["path"]), found["path"]
    assert found["version"] == __version__ and found["version"] != "0+unknown"
    labels, probabilities = predict(outcome.pipeline, batch, outcome.features)
    assert [label for label, _ in found["scored"]] == labels.tolist()
    assert [p for _, p in found["scored"]] == pytest.approx(probabilities.tolist())
    assert len(set(labels.tolist())) == 2  # both classes scored, so the comparison means something
