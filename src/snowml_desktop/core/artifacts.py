"""Model artifacts: the fitted Pipeline plus metadata, serialized with joblib and guarded by sha256.

The catalog records each artifact's sha256; :func:`load_artifact` refuses a file whose digest differs
*before* unpickling it, since unpickling runs code chosen by whoever wrote the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowml_desktop.core.errors import EngineError, IntegrityError, NotFound

log = logging.getLogger(__name__)

#: zlib level 3: a fraction of the size of raw pickles of forests, at little CPU cost.
_COMPRESS = ("zlib", 3)


@dataclass
class Artifact:
    pipeline: Any
    metadata: dict


def artifact_bytes(pipeline: Any, metadata: dict) -> bytes:
    """joblib bytes of ``{"pipeline", "metadata"}``, moderately compressed."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"pipeline": pipeline, "metadata": dict(metadata)}, buffer, compress=_COMPRESS)
    return buffer.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_artifact(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename) and return
    its sha256. A failure leaves no partial file. Raises EngineError when the folder cannot be written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise EngineError(f"Cannot write the model artifact to {path.parent}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EngineError(f"Cannot write the model artifact {path}: {exc.strerror}.") from exc
    _sync_folder(path.parent)
    return sha256_hex(data)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open folders and needs no such step."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the data itself is already synced
        pass
    finally:
        os.close(fd)


def load_artifact(path: Path, expected_sha256: str, *, model: str | None = None) -> Artifact:
    """Read and verify an artifact file.

    Raises NotFound when the file is missing, IntegrityError when its sha256 differs from
    ``expected_sha256`` (checked before unpickling), EngineError when it cannot be read or unpickled.
    """
    path = Path(path)
    what = f"model {model}" if model else "the model"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"The artifact of {what} is missing: {path}.",
            hint="The file was deleted or moved; retrain the model, or delete it from the catalog.",
        ) from None
    except OSError as exc:
        raise EngineError(f"Cannot read the artifact of {what} at {path}: {exc.strerror}.") from exc
    return load_artifact_bytes(data, expected_sha256, source=f"{what} ({path})")


def load_artifact_bytes(data: bytes, expected_sha256: str, *, source: str = "the model") -> Artifact:
    """Verify ``data`` against ``expected_sha256`` and unpickle it.

    Raises IntegrityError on a digest mismatch (before unpickling), EngineError when the bytes are not an
    artifact or were written by incompatible library versions.
    """
    actual = sha256_hex(data)
    if actual.lower() != str(expected_sha256).strip().lower():
        raise IntegrityError(
            f"The artifact of {source} does not match the catalog (sha256 {actual[:12]}… instead of "
            f"{str(expected_sha256)[:12]}…); it was modified after training and will not be loaded.",
            hint="Retrain the model, or restore the original file.",
        )
    import joblib

    try:
        content = joblib.load(io.BytesIO(data))
        return Artifact(pipeline=content["pipeline"], metadata=dict(content.get("metadata") or {}))
    except Exception as exc:  # unpickling raises anything; the digest matched, so it is a version problem
        log.exception("Unpickling the artifact of %s failed", source)
        raise EngineError(
            f"The artifact of {source} cannot be loaded with the installed libraries ({exc}).",
            hint=f"Retrain the model with the current versions ({_versions_text()}).",
        ) from exc


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artifact depends on, recorded with every model."""
    import joblib
    import numpy
    import pandas
    import sklearn

    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
    }
    try:
        import optuna

        versions["optuna"] = optuna.__version__
    except ImportError:  # optional inside Snowflake stored procedures without Auto
        pass
    return versions


def _versions_text() -> str:
    return ", ".join(f"{name} {version}" for name, version in library_versions().items())
