"""The one-click, idempotent, versioned bootstrap of a database for snowml-desktop.

What it creates (all ``IF NOT EXISTS``; views are replaced): the app schema (default SNOWML) and the user data
schema (default DATA); stages LOAD_DATA, MODELS, PROCEDURES; file formats for loading; MODELS_CATALOG and
INFERENCE_RUNS with the same columns as the local engine (JSON as VARIANT); the MODELS and RUNS views for SQL
users; the SNOWML_SEQ sequence (model numbers and run ids); SETUP_STATE; and the permanent procedures
SNOWML_LOAD, SNOWML_TRAIN, SNOWML_SCORE with this app's code shipped as one zip on @PROCEDURES.

Packages: before registering, ``INFORMATION_SCHEMA.PACKAGES`` is read and one version of each needed package
that exists in the account's Anaconda channel for this Python runtime is pinned; procedures and per-model UDFs
use the same set, so an artifact written by a procedure unpickles in a UDF. The app version, package set and
code path are stored in SETUP_STATE; setup runs again only when the app version or the package set changes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from snowml_desktop import __version__
from snowml_desktop.core import records
from snowml_desktop.core.errors import EngineError, NotFound, PermissionDenied
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.session import SqlRunner

log = logging.getLogger(__name__)

SETUP_FORMAT = 2  # bump when the objects created here change shape (2: THRESHOLD and drift columns)
#: Packages the procedures and UDFs import (Anaconda channel names).
REQUIRED_PACKAGES = ("snowflake-snowpark-python", "scikit-learn", "pandas", "numpy", "joblib", "optuna")
#: The oldest version of each the shipped core code supports (the same floors as pyproject.toml).
MIN_VERSIONS = {
    "snowflake-snowpark-python": "1.20",
    "scikit-learn": "1.3",
    "pandas": "2.0",
    "numpy": "1.24",
    "joblib": "1.3",
    "optuna": "3.5",
}
STATE_KEY = "setup"


@dataclass(frozen=True)
class PackageSet:
    runtime: str  # Python "3.11"
    versions: dict[str, str]  # package -> pinned version

    def pins(self) -> list[str]:
        return [f"{name}=={version}" for name, version in sorted(self.versions.items())]


@dataclass(frozen=True)
class SetupState:
    app_version: str
    setup_format: int
    packages: PackageSet
    code_import: str  # stage path of the code zip, for procedures and UDFs


@dataclass(frozen=True)
class BootstrapPlan:
    """What setup will do and with which packages (the engine shows it as an ``engines.base.SetupPlan``)."""

    location: sql.Location
    needed: bool
    reason: str
    objects: list[str]
    privileges: list[str]
    statements: list[sql.Statement] = field(repr=False, default_factory=list)
    packages: PackageSet | None = None


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.\-+]", version))


def choose_packages(rows: Sequence[dict[str, Any]], runtime: str | None = None) -> PackageSet:
    """Newest version of each required package available for ``runtime`` (default: this Python, which is
    the runtime Snowpark registers procedures and UDFs for), at least ``MIN_VERSIONS``.
    Raises EngineError naming every package the account's channel lacks (or has only too old)."""
    runtime = runtime or f"{sys.version_info.major}.{sys.version_info.minor}"
    found: dict[str, list[str]] = {}
    for row in rows:
        upper = {str(k).upper(): v for k, v in row.items()}
        if upper.get("RUNTIME_VERSION") not in (None, runtime):
            continue
        name, version = str(upper["PACKAGE_NAME"]).lower(), str(upper["VERSION"])
        if _version_key(version) >= _version_key(MIN_VERSIONS.get(name, "0")):
            found.setdefault(name, []).append(version)
    missing = [f"{name}>={MIN_VERSIONS[name]}" for name in REQUIRED_PACKAGES if name not in found]
    if missing:
        raise EngineError(
            f"The account's Anaconda channel has no {', '.join(missing)} for Python {runtime}.",
            hint="Ask an admin to accept the Anaconda terms (Admin > Billing & Terms), or run the app on a "
            "Python version Snowflake offers these packages for; the procedures and UDFs need them.",
        )
    return PackageSet(runtime, {name: max(found[name], key=_version_key) for name in REQUIRED_PACKAGES})


def setup_statements(loc: sql.Location) -> list[sql.Statement]:
    """Every DDL statement of the bootstrap, in order; each is idempotent."""
    statements = [
        sql.create_schema(loc, loc.app_schema, "snowml-desktop: catalog, runs, stages and procedures"),
        sql.create_schema(loc, loc.data_schema, "snowml-desktop: user tables"),
        *(sql.create_stage(loc, stage) for stage in sql.STAGES),
        *(sql.create_file_format(loc, name) for name in sql.FILE_FORMATS),
        sql.create_catalog_table(loc),
        sql.create_runs_table(loc),
        *sql.add_record_columns(loc, sql.MODELS_CATALOG, records.MODELS_CATALOG_COLUMNS),
        *sql.add_record_columns(loc, sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS),
        sql.create_setup_state_table(loc),
        sql.create_sequence(loc),
        sql.create_models_view(loc),
        sql.create_runs_view(loc),
    ]
    return statements


def required_privileges(loc: sql.Location) -> list[str]:
    db, app, data = loc.database, loc.app_schema, loc.data_schema
    return [
        f"USAGE on database {db}",
        f"CREATE SCHEMA on database {db} (or ownership of schemas {app} and {data})",
        f"CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE SEQUENCE, CREATE FILE FORMAT, CREATE PROCEDURE and "
        f"CREATE FUNCTION on schema {app}",
        f"CREATE TABLE on schema {data}",
        "Anaconda packages accepted for the account (an ORGADMIN step, once)",
        f"Every other role that uses the app (the procedures run with the caller's rights): USAGE on "
        f"database {db} and both schemas, USAGE on the procedures, READ and WRITE on stages LOAD_DATA and "
        f"MODELS, READ on PROCEDURES, SELECT, INSERT, UPDATE and DELETE on {sql.MODELS_CATALOG} and "
        f"{sql.INFERENCE_RUNS}, SELECT on {sql.SETUP_STATE}, USAGE on {sql.SEQUENCE}, CREATE FUNCTION on "
        f"{app}, CREATE TABLE on {data}",
    ]


def read_state(runner: SqlRunner, loc: sql.Location) -> SetupState | None:
    """The stored setup state, or None when setup never ran (or the table is not visible)."""
    try:
        rows = runner.execute(sql.read_setup_state(loc), operation="setup_state").rows
    except (NotFound, PermissionDenied):
        return None
    for row in rows:
        upper = {str(k).upper(): v for k, v in row.items()}
        if upper.get("KEY") == STATE_KEY:
            value = upper["VALUE"]
            data = json.loads(value) if isinstance(value, str) else value
            return SetupState(
                data["app_version"],
                int(data["setup_format"]),
                PackageSet(**data["packages"]),
                data["code_import"],
            )
    return None


def available_packages(runner: SqlRunner, loc: sql.Location) -> PackageSet:
    rows = runner.execute(sql.python_packages(loc, REQUIRED_PACKAGES), operation="setup_packages").rows
    return choose_packages(rows)


def plan_setup(runner: SqlRunner, loc: sql.Location) -> BootstrapPlan:
    """What setup would do now and why (never changes anything). Raises EngineError for missing packages."""
    state = read_state(runner, loc)
    packages = available_packages(runner, loc)
    if state is None:
        needed, reason = True, "The app schema has not been set up in this database yet."
    elif state.app_version != __version__ or state.setup_format != SETUP_FORMAT:
        needed, reason = True, f"The app changed ({state.app_version} -> {__version__})."
    elif state.packages != packages:
        needed, reason = True, "The account's package versions changed; procedures will be re-registered."
    else:
        needed, reason = False, f"Set up by {__version__}; nothing to do."
    statements = setup_statements(loc)
    objects = [
        f"schemas {loc.app_schema} and {loc.data_schema} in database {loc.database}",
        f"stages {', '.join(sql.STAGES)}; file formats {', '.join(sql.FILE_FORMATS)}",
        f"tables {sql.MODELS_CATALOG}, {sql.INFERENCE_RUNS}, {sql.SETUP_STATE}; views MODELS, RUNS; sequence {sql.SEQUENCE}",
        f"procedures {', '.join(sql.PROCEDURES)} (packages: {', '.join(packages.pins())})",
    ]
    return BootstrapPlan(loc, needed, reason, objects, required_privileges(loc), statements, packages)


def code_zip(directory: Path) -> Path:
    """Zip the code the procedures and UDFs import (``snowml_desktop.core`` and the Snowflake engine's
    in-warehouse modules, with their package ``__init__`` files) as one import, so the package resolves from
    a single sys.path entry in the warehouse."""
    root = Path(__file__).resolve().parents[2]  # .../snowml_desktop
    files = [
        root / "__init__.py",
        *sorted((root / "core").rglob("*.py")),
        root / "engines" / "__init__.py",
        root / "engines" / "base.py",
        *(root / "engines" / "snowflake" / n for n in ("__init__.py", "sql.py", "udf.py", "procedures.py")),
    ]
    target = directory / f"snowml_desktop_code_{re.sub(r'[^A-Za-z0-9]+', '_', __version__)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, Path("snowml_desktop") / path.relative_to(root))
    return target


def register_procedures(session: Any, loc: sql.Location, packages: PackageSet, code_import: str) -> None:
    """Register SNOWML_LOAD / SNOWML_TRAIN / SNOWML_SCORE permanently (replacing older versions)."""
    from snowflake.snowpark.types import StringType

    from snowml_desktop.engines.snowflake import procedures

    handlers = {
        "SNOWML_LOAD": procedures.load_procedure,
        "SNOWML_TRAIN": procedures.train_procedure,
        "SNOWML_SCORE": procedures.score_procedure,
    }
    for name, handler in handlers.items():
        session.sproc.register(
            handler,
            return_type=StringType(),
            input_types=[StringType()],
            name=loc.app(name),
            is_permanent=True,
            stage_location="@" + loc.app("PROCEDURES"),
            imports=[code_import],
            packages=packages.pins(),
            replace=True,
            # Caller's rights: a procedure may touch only what the calling role may (owner's rights would
            # lend every caller the setup role's privileges on any table named in a request), and it may
            # set its session's QUERY_TAG.
            execute_as="caller",
            comment=f"snowml-desktop {__version__}",
            statement_params={"QUERY_TAG": sql.query_tag("setup")},
        )


def run_setup(
    runner: SqlRunner, session: Any, loc: sql.Location, *, task: TaskContext | None = None
) -> SetupState:
    """Run the bootstrap when :func:`plan_setup` says it is needed, and return the stored state.
    Raises PermissionDenied naming the missing privilege, EngineError for missing packages."""
    task = task or TaskContext()
    plan = plan_setup(runner, loc)
    if not plan.needed:
        state = read_state(runner, loc)
        assert state is not None  # plan_setup found it
        return state
    packages = plan.packages
    assert packages is not None  # plan_setup raises when a package is missing
    for i, statement in enumerate(plan.statements):
        task.report(0.6 * i / len(plan.statements), "Creating schemas, stages and tables")
        runner.execute(statement, operation="setup", task=task)
    task.report(0.65, "Uploading the app's code")
    with tempfile.TemporaryDirectory() as tmp:
        archive = code_zip(Path(tmp))
        runner.execute(sql.put_file(loc, str(archive), "PROCEDURES"), operation="setup_upload", task=task)
    code_import = f"@{loc.app('PROCEDURES')}/{archive.name}"
    task.report(0.75, "Registering the procedures")
    register_procedures(session, loc, packages, code_import)
    state = SetupState(__version__, SETUP_FORMAT, packages, code_import)
    runner.execute(
        sql.write_setup_state(loc, STATE_KEY, json.dumps(asdict(state))), operation="setup", task=task
    )
    task.report(1.0, "Setup finished")
    log.info("Setup of %s.%s done with %s", loc.database, loc.app_schema, packages.pins())
    return state
