"""The one-click, idempotent, versioned bootstrap of a database for snowml-desktop.

What it creates (all ``IF NOT EXISTS``; views are replaced): the app schema (default SNOWML) and the user data
schema (default DATA); stages LOAD_DATA, MODELS, PROCEDURES; file formats for loading; MODELS_CATALOG and
INFERENCE_RUNS with the same columns as the local engine (JSON as VARIANT); the MODELS and RUNS views for SQL
users; the SNOWML_SEQ sequence (model numbers and run ids); SETUP_STATE; and the permanent procedures
SNOWML_LOAD, SNOWML_TRAIN, SNOWML_SCORE with this app's code shipped as one zip on @PROCEDURES.

Packages: before registering, ``INFORMATION_SCHEMA.PACKAGES`` is read and one consistent version of each needed
package (cloudpickle included) that exists in the account's Anaconda channel for this Python runtime is pinned
(``packages.py``); procedures and per-model UDFs use the same set, so an artifact written by a procedure unpickles
in a UDF. The app version, package set and code path are stored in SETUP_STATE; setup runs again only when the
app version or the package set changes. ``app_role_grants`` lets the other roles that use the app score any
model (each model's UDF is owned by the role that trained it).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from snowml_desktop import __version__
from snowml_desktop.core import records
from snowml_desktop.core.errors import EngineError, NotFound, PermissionDenied
from snowml_desktop.core.identifiers import normalize, qualified, quote
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.packages import REQUIRED_PACKAGES, PackageSet, resolve_packages
from snowml_desktop.engines.snowflake.session import SqlRunner

log = logging.getLogger(__name__)

SETUP_FORMAT = 3  # bump when the objects created here change shape (2: THRESHOLD, drift, SNOWML_COMPARE; 3: KIND)
STATE_KEY = "setup"


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
        f"Every other role that uses the app (the procedures run with the caller's rights, and each model's "
        f"PREDICT_* function is owned by the role that trained it): the grants `snowml setup --grant-role "
        f"ROLE` runs — USAGE on database {db}, both schemas, the procedures, the file formats, the sequence "
        f"and on all and FUTURE functions in {app} (a future grant needs MANAGE GRANTS); READ and WRITE on "
        f"the stages (WRITE on PROCEDURES: a model's scoring handler over 8 KB is staged there); SELECT, "
        f"INSERT, UPDATE and DELETE on {sql.MODELS_CATALOG} and {sql.INFERENCE_RUNS}; SELECT on "
        f"{sql.SETUP_STATE} and the views; CREATE FUNCTION on {app}; CREATE TABLE on {data}",
    ]


def app_role_grants(loc: sql.Location, role: str) -> list[sql.Statement]:
    """GRANTs that let ``role`` (granted to every user of the app) load, train and score with objects setup made
    and models any other role trained. Syntax and privileges per object type:
    https://docs.snowflake.com/en/sql-reference/sql/grant-privilege. Each model's PREDICT_* function is owned by
    the role that trained it, so USAGE on the functions there now and, as a future grant, on every function
    created later (defining a future grant in a schema needs MANAGE GRANTS, or ownership of a managed access
    schema: https://docs.snowflake.com/en/user-guide/security-access-control-configure). WRITE on PROCEDURES:
    Snowpark stages a UDF handler over 8 KB there when a model is trained. Raises InvalidInput for a bad name."""
    grantee = f"TO ROLE {quote(normalize(role, what='role name'))}"
    db, app, data = quote(loc.database), qualified(loc.database, loc.app_schema), qualified(loc.database, loc.data_schema)
    texts = [
        f"GRANT USAGE ON DATABASE {db} {grantee}",
        f"GRANT USAGE ON SCHEMA {app} {grantee}",
        f"GRANT USAGE, CREATE TABLE ON SCHEMA {data} {grantee}",
        f"GRANT CREATE FUNCTION ON SCHEMA {app} {grantee}",
        *(f"GRANT USAGE ON PROCEDURE {loc.app(name)}(VARCHAR) {grantee}" for name in sql.PROCEDURES),
        f"GRANT USAGE ON ALL FUNCTIONS IN SCHEMA {app} {grantee}",
        f"GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA {app} {grantee}",
        *(f"GRANT READ, WRITE ON STAGE {loc.app(stage)} {grantee}" for stage in sql.STAGES),
        *(f"GRANT USAGE ON FILE FORMAT {loc.app(name)} {grantee}" for name in sql.FILE_FORMATS),
        *(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {loc.app(table)} {grantee}"
            for table in (sql.MODELS_CATALOG, sql.INFERENCE_RUNS)
        ),
        f"GRANT SELECT ON TABLE {loc.app(sql.SETUP_STATE)} {grantee}",
        *(f"GRANT SELECT ON VIEW {loc.app(view)} {grantee}" for view in ("MODELS", "RUNS")),
        f"GRANT USAGE ON SEQUENCE {loc.app(sql.SEQUENCE)} {grantee}",
    ]
    return [sql.Statement(text, verify=sql.GOLDEN) for text in texts]


def grant_app_role(
    runner: SqlRunner, loc: sql.Location, role: str, *, task: TaskContext | None = None
) -> list[sql.Statement]:
    """Run :func:`app_role_grants` (each GRANT is idempotent) and return them. Raises PermissionDenied from
    the first one refused (the ones before it stay granted)."""
    statements = app_role_grants(loc, role)
    for statement in statements:
        runner.execute(statement, operation="setup_grants", task=task)
    return statements


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
    """The pin set for this account's channel (``packages.resolve_packages``); raises UnresolvablePackages."""
    rows = runner.execute(sql.python_packages(loc, REQUIRED_PACKAGES), operation="setup_packages").rows
    return resolve_packages(rows)


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


#: The module written into the code zip that carries the app version (``snowml_desktop/__init__.py`` reads it):
#: inside Snowflake the package has no installed metadata to read it from.
VERSION_MODULE = "_version.py"


def code_files() -> list[Path]:
    """The sources the procedures and UDFs import: ``snowml_desktop.core`` and the Snowflake engine's
    in-warehouse modules, with their package ``__init__`` files. Read from the installed package; a frozen
    build ships them next to its bytecode (``module_collection_mode`` in packaging/snowml.spec)."""
    root = Path(__file__).resolve().parents[2]  # .../snowml_desktop
    core = root / "core"
    files = [
        root / "__init__.py",
        core / "__init__.py",  # named, so that a missing core folder is noticed
        *sorted(core.rglob("*.py")),
        root / "engines" / "__init__.py",
        root / "engines" / "base.py",
        *(root / "engines" / "snowflake" / n for n in ("__init__.py", "sql.py", "udf.py", "procedures.py")),
    ]
    return list(dict.fromkeys(files))


def code_zip(directory: Path) -> Path:
    """Zip :func:`code_files` as one import, so the package resolves from a single sys.path entry in the
    warehouse, with :data:`VERSION_MODULE` added. Raises EngineError when this installation lacks a source."""
    files = code_files()
    root = files[0].parent
    absent = [path for path in files if not path.is_file()]
    if absent:
        raise EngineError(
            f"This installation of snowml-desktop lacks the source code the Snowflake procedures run "
            f"({absent[0].relative_to(root).as_posix()} is not in {root}).",
            hint="Reinstall the app. A build must ship these sources next to its bytecode "
            "(module_collection_mode in packaging/snowml.spec).",
        )
    target = directory / f"snowml_desktop_code_{re.sub(r'[^A-Za-z0-9]+', '_', __version__)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, (Path("snowml_desktop") / path.relative_to(root)).as_posix())
        archive.writestr(f"snowml_desktop/{VERSION_MODULE}", f"__version__ = {__version__!r}\n")
    return target


def register_procedures(session: Any, loc: sql.Location, packages: PackageSet, code_import: str) -> None:
    """Register SNOWML_LOAD / SNOWML_TRAIN / SNOWML_SCORE / SNOWML_COMPARE permanently (replacing older
    versions)."""
    from snowflake.snowpark.types import StringType

    from snowml_desktop.engines.snowflake import procedures

    handlers = {
        "SNOWML_LOAD": procedures.load_procedure,
        "SNOWML_TRAIN": procedures.train_procedure,
        "SNOWML_SCORE": procedures.score_procedure,
        "SNOWML_COMPARE": procedures.compare_procedure,
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
