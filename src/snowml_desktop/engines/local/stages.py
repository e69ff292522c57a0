"""Local stages: folders in the workspace. Listing files and uploading (copying) into them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from snowml_desktop.core.errors import InvalidInput, NotFound
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import StageFile
from snowml_desktop.engines.local.workspace import UPLOAD_SUFFIX, Workspace

#: File types the load command understands; ``.gz`` wraps one of them (``data.csv.gz``) or, bare, a CSV.
LOADABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
COMPRESSED_SUFFIX = ".gz"
UPLOAD_STAGE = "LOAD_DATA"
_COPY_CHUNK = 8 * 1024 * 1024


def list_files(workspace: Workspace, stage: str) -> list[StageFile]:
    """Files on a stage sorted by name (hidden and temporary files are skipped). Raises NotFound."""
    name = workspace.stage_name(stage)
    folder = workspace.stage_dir(name)
    files = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        files.append(_stage_file(name, path))
    return files


def stage_file_path(workspace: Workspace, stage: str, file: str) -> Path:
    """The path of ``file`` on ``stage``. Only plain file names are allowed (no folders, no ``..``).

    Raises NotFound (unknown stage or missing file), InvalidInput (a path instead of a name).
    """
    folder = workspace.stage_dir(stage)
    name = file.strip()
    if not name or Path(name).name != name or name in (".", ".."):
        raise InvalidInput(
            f"{file!r} is not a file name on stage {workspace.stage_name(stage)}.",
            hint="Give the file's name only, as shown by `snowml files`.",
        )
    path = folder / name
    if not path.is_file():
        raise NotFound(
            f"There is no file {name!r} on stage {workspace.stage_name(stage)}.",
            hint="Upload it first (`snowml put FILE`), or list the stage with `snowml files`.",
        )
    return path


def check_loadable(path: Path) -> None:
    """Raise InvalidInput unless ``path`` names a file type the loader reads (csv, tsv, txt, parquet, .gz)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == COMPRESSED_SUFFIX:
        suffixes = suffixes[:-1] or [".csv"]  # a bare .gz is read as gzipped CSV
    if not suffixes or suffixes[-1] not in LOADABLE_SUFFIXES:
        raise InvalidInput(
            f"{path.name} is not a file type that can be loaded.",
            hint="Use CSV (.csv, .tsv, .txt, optionally gzipped: .gz) or Parquet (.parquet).",
        )


def upload(
    workspace: Workspace, paths: Sequence[Path], stage: str, task: TaskContext | None = None
) -> list[StageFile]:
    """Copy local files onto a stage, replacing same-named files atomically (temp file + rename).

    Only LOAD_DATA takes uploads (MODELS holds artifacts the catalog checks by sha256). Every path is
    checked before anything is copied: NotFound for a missing path, InvalidInput for a folder, a type
    that cannot be loaded, or another stage. A cancelled upload keeps the files already completed and
    never a partial one.
    """
    task = task or TaskContext()
    name = workspace.stage_name(stage)
    if name != UPLOAD_STAGE:
        raise InvalidInput(
            f"Files cannot be uploaded to stage {name}: it holds the engine's model artifacts.",
            hint=f"Upload data files to {UPLOAD_STAGE}.",
        )
    folder = workspace.stage_dir(name)
    sources = [Path(p).expanduser() for p in paths]
    if not sources:
        raise InvalidInput("No files to upload were given.", hint="Name at least one file.")
    for source in sources:
        if not source.exists():
            raise NotFound(f"The file {source} does not exist.", hint="Check the path and try again.")
        if not source.is_file():
            raise InvalidInput(
                f"{source} is a folder, not a file.", hint="Upload the files inside it instead."
            )
        check_loadable(source)
    total = sum(source.stat().st_size for source in sources) or 1
    done = 0
    uploaded = []
    for source in sources:
        part = task.sub(done / total, (done + source.stat().st_size) / total)
        _copy_atomically(source, folder / source.name, part)
        done += source.stat().st_size
        uploaded.append(_stage_file(name, folder / source.name))
    task.report(1.0, "Uploaded")
    return uploaded


def _copy_atomically(source: Path, target: Path, task: TaskContext) -> None:
    """Copy to a hidden temporary file beside ``target`` and rename it over ``target`` when complete."""
    size = source.stat().st_size or 1
    copied = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=UPLOAD_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            task.report(0.0, f"Uploading {source.name}")
            while chunk := src.read(_COPY_CHUNK):
                out.write(chunk)
                copied += len(chunk)
                task.report(copied / size, f"Uploading {source.name}")
        shutil.copystat(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stage_file(stage: str, path: Path) -> StageFile:
    stat = path.stat()
    modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
    return StageFile(stage=stage, name=path.name, size=stat.st_size, modified=modified)
