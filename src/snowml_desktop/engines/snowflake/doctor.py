"""``snowml doctor`` on Snowflake: what this role on this account needs before setup or any training.

Everything here is read-only (SELECT of context functions and INFORMATION_SCHEMA, SHOW, the local journal
files). Each check gives one or more :class:`~snowml_desktop.engines.base.CheckLine`: OK, missing (with the
GRANT or ALTER an admin runs) or unknown (the role cannot see it; the statement itself will tell later).
A check that fails to run says unknown with the reason; only a lost connection stops the whole check.

Privileges are decided from SHOW GRANTS ON <object> and IS_ROLE_IN_SESSION (which follows the role
hierarchy and the secondary roles). "Not seen" is missing only where nothing else can grant the privilege;
where an account-level privilege can (MANAGE WAREHOUSES gives MODIFY, MONITOR and OPERATE on every
warehouse, https://docs.snowflake.com/en/user-guide/security-access-control-privileges) and the account's
grants cannot be listed, it is unknown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from snowml_desktop import __version__
from snowml_desktop.core import sizes
from snowml_desktop.core.connections import ConnectionProfile, authenticator
from snowml_desktop.core.errors import ConnectionFailed, EngineError, InvalidInput, NotFound, PermissionDenied
from snowml_desktop.core.identifiers import display, qualified, quote
from snowml_desktop.engines.base import CHECK_MISSING, CHECK_OK, CHECK_UNKNOWN, AccountCheck, CheckLine
from snowml_desktop.engines.snowflake import packages, setup, sql
from snowml_desktop.engines.snowflake.session import SqlRunner
from snowml_desktop.engines.snowflake.warehouse import Journal, parse_show_warehouses

log = logging.getLogger(__name__)

MFA_ROLLOUT_URL = "https://docs.snowflake.com/en/user-guide/security-mfa-rollout"
#: The 1 TB memory options are available on AWS only (release note of 2025-03-07,
#: https://docs.snowflake.com/en/release-notes/2025/other/2025-03-07-snowpark-optimized-warehouses-resource_constraint).
_AWS_ONLY_CONSTRAINTS = ("MEMORY_64X", "MEMORY_64X_x86")
#: The package Snowpark adds to every registration as ``cloudpickle>=<this computer's version>``.
CLOUDPICKLE = "cloudpickle"
SNOWPARK = "snowflake-snowpark-python"
_SETUP_CREATES = ("CREATE TABLE", "CREATE VIEW", "CREATE STAGE", "CREATE SEQUENCE", "CREATE FILE FORMAT")
_APP_CREATES = (*_SETUP_CREATES, "CREATE PROCEDURE", "CREATE FUNCTION")


@dataclass(frozen=True)
class Target:
    """What is checked: the session (through ``runner``), where the app lives and who is connected."""

    runner: SqlRunner
    profile: ConnectionProfile
    loc: sql.Location
    account: str
    user: str | None
    warehouse: str
    journal: Journal


class _Grants:
    """Whether roles in this session hold privileges on an object, from one SHOW GRANTS listing."""

    def __init__(self, probe: _Probe, rows: list[dict[str, Any]] | None) -> None:
        self.probe = probe
        self.visible = rows is not None
        self.rows = [{str(k).lower(): v for k, v in row.items()} for row in rows or []]

    def holders(self, privileges: Iterable[str]) -> tuple[list[str], bool]:
        """(account roles granted one of ``privileges`` or OWNERSHIP, whether a database role is too)."""
        wanted = {p.upper() for p in privileges} | {"OWNERSHIP"}
        roles, database_role = set(), False
        for row in self.rows:
            if str(row.get("privilege", "")).upper() not in wanted:
                continue
            if str(row.get("granted_to", "ROLE")).upper() == "ROLE":
                roles.add(str(row.get("grantee_name")))
            else:
                database_role = True
        return sorted(roles), database_role

    def held(self, privileges: Iterable[str]) -> bool | None:
        """True: a role in this session holds one; False: none does (as far as the listing shows);
        None: the listing was refused, or only a database role holds it."""
        if not self.visible:
            return None
        roles, database_role = self.holders(privileges)
        if roles and self.probe.any_in_session(roles):
            return True
        return None if database_role else False

    def creatable(self, privileges: Iterable[str]) -> bool | None:
        """Like :meth:`held` for CREATE privileges, which only the primary role's hierarchy lends
        (https://docs.snowflake.com/en/sql-reference/sql/show-warehouses, WITH PRIVILEGES): with secondary
        roles active, a holder other than the primary role itself may be one of them, so that is unknown."""
        held = self.held(privileges)
        if held and self.probe.secondary_roles():
            return True if self.probe.role() in self.holders(privileges)[0] else None
        return held


class _Probe:
    """Runs the read-only statements once each and keeps their answers for the checks."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._cache: dict[str, Any] = {}

    def rows(self, statement: sql.Statement) -> list[dict[str, Any]]:
        return self.target.runner.execute(statement, operation="check_account").rows

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def session(self) -> dict[str, Any]:
        return self._once("session", lambda: _upper(self.rows(sql.session_roles())[0]))

    def any_in_session(self, roles: Sequence[str]) -> bool:
        row = self.rows(sql.roles_in_session(list(roles)))[0]
        return any(bool(v) for v in row.values())

    def grants(self, kind: str, name: str) -> _Grants:
        return self._listing(f"grants {kind} {name}", sql.show_grants_on(kind, name))

    def account_grants(self) -> _Grants:
        return self._listing("grants account", sql.show_grants_on_account())

    def _listing(self, key: str, statement: sql.Statement) -> _Grants:
        """A SHOW GRANTS listing; one the role may not see is kept as not visible (its lines: unknown)."""

        def listing() -> _Grants:
            try:
                return _Grants(self, self.rows(statement))
            except (PermissionDenied, NotFound):
                return _Grants(self, None)

        return self._once(key, listing)

    def schemas(self) -> set[str]:
        loc = self.target.loc
        return self._once(
            "schemas", lambda: {str(_upper(r)["SCHEMA_NAME"]) for r in self.rows(sql.existing_schemas(loc))}
        )

    def packages(self) -> list[dict[str, Any]]:
        names = tuple(dict.fromkeys((*packages.REQUIRED_PACKAGES, CLOUDPICKLE)))
        return self._once(
            "packages", lambda: [_upper(r) for r in self.rows(sql.python_packages(self.target.loc, names))]
        )

    def show_warehouse(self) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            name = self.target.warehouse
            rows = self.rows(sql.show_warehouses(name))
            return next(
                ({str(k).lower(): v for k, v in r.items()} for r in rows if _row_name(r) == name), None
            )

        return self._once("warehouse", read)

    def role(self) -> str:
        return str(self.session().get("ROLE_NAME") or "<your role>")

    def known_role(self) -> str | None:
        """The primary role if the session's row was read (without asking again when that failed)."""
        return self._cache.get("session", {}).get("ROLE_NAME")

    def secondary_roles(self) -> list[str]:
        return _secondary_roles(self.session().get("SECONDARY_ROLES"))


def check_account(target: Target) -> AccountCheck:
    """Every check, in the order a user fixes them. Raises ConnectionFailed only when the session is lost."""
    probe = _Probe(target)
    lines: list[CheckLine] = []
    for name, check in CHECKS:
        try:
            lines += check(probe)
        except ConnectionFailed:
            raise
        except EngineError as exc:
            log.info("Account check %s could not run: %s", name, exc)
            lines.append(CheckLine(name, CHECK_UNKNOWN, f"Could not check: {exc.message}"))
    role = probe.known_role()
    return AccountCheck("snowflake", target.account, str(role) if role else None, lines)


# --- checks ------------------------------------------------------------------------------------------


def _login(probe: _Probe) -> list[CheckLine]:
    target = probe.target
    try:
        entry = authenticator(target.profile.authenticator)
        key, label = entry.key, entry.label
    except InvalidInput:  # a login method the connector knows and this app's list does not: it worked
        key = label = str(target.profile.authenticator)
    who = f"{target.user or '?'} on {target.account}"
    lines = [CheckLine("login", CHECK_OK, f"Logged in as {who} ({label}).")]
    if key == "snowflake":
        user = quote(target.user) if target.user else "<user>"
        lines.append(
            CheckLine(
                "authenticator",
                CHECK_UNKNOWN,
                "Password-only sign-in works now, but Snowflake is blocking single-factor passwords for "
                f"people ({MFA_ROLLOUT_URL}). Switch this connection to key pair or SSO.",
                f"ALTER USER {user} SET RSA_PUBLIC_KEY = '<the public key, without its BEGIN/END lines>';",
            )
        )
    else:
        lines.append(CheckLine("authenticator", CHECK_OK, f"{label} is not affected by the MFA rollout."))
    return lines


def _role(probe: _Probe) -> list[CheckLine]:
    session = probe.session()
    role = session.get("ROLE_NAME")
    if not role:
        user = quote(probe.target.user) if probe.target.user else "<user>"
        return [
            CheckLine(
                "role",
                CHECK_MISSING,
                "The session has no role: the user has no default role and the connection names none.",
                f"GRANT ROLE <a role> TO USER {user}; ALTER USER {user} SET DEFAULT_ROLE = <that role>;",
            )
        ]
    secondary = probe.secondary_roles()
    extra = (
        f"secondary roles {', '.join(secondary)} are active too (their privileges count for using objects; "
        "creating objects needs the primary role)"
        if secondary
        else "no secondary roles"
    )
    return [CheckLine("role", CHECK_OK, f"Primary role {display(str(role))}; {extra}.")]


def _database(probe: _Probe) -> list[CheckLine]:
    loc, role = probe.target.loc, probe.role()
    held = probe.grants("DATABASE", quote(loc.database)).held(("USAGE",))
    fix = f"GRANT USAGE ON DATABASE {quote(loc.database)} TO ROLE {_role_sql(role)};"
    return [_privilege_line("database usage", held, f"USAGE on database {display(loc.database)}", fix)]


def _setup_privileges(probe: _Probe) -> list[CheckLine]:
    loc, role = probe.target.loc, _role_sql(probe.role())
    existing = probe.schemas()
    lines = []
    missing_schemas = [s for s in (loc.app_schema, loc.data_schema) if s not in existing]
    if missing_schemas:
        held = probe.grants("DATABASE", quote(loc.database)).creatable(("CREATE SCHEMA",))
        lines.append(
            _privilege_line(
                "create schemas",
                held,
                f"CREATE SCHEMA on database {display(loc.database)} (schemas {', '.join(missing_schemas)} "
                "do not exist yet)",
                f"GRANT CREATE SCHEMA ON DATABASE {quote(loc.database)} TO ROLE {role};",
            )
        )
    for schema, creates in ((loc.app_schema, _APP_CREATES), (loc.data_schema, ("CREATE TABLE",))):
        name = qualified(loc.database, schema)
        if schema not in existing:
            continue  # created by setup with this role as owner
        grants = probe.grants("SCHEMA", name)
        if grants.held(("USAGE",)) is False and grants.creatable(creates) is False:
            lines.append(
                CheckLine(
                    f"schema {schema}",
                    CHECK_MISSING,
                    f"The role has no USAGE on schema {display(schema)}.",
                    f"GRANT USAGE ON SCHEMA {name} TO ROLE {role};",
                )
            )
            continue
        lacking = [c for c in creates if grants.creatable((c,)) is False]
        unknown = not grants.visible or any(grants.creatable((c,)) is None for c in creates)
        if lacking:
            lines.append(
                CheckLine(
                    f"schema {schema}",
                    CHECK_MISSING,
                    f"Missing on schema {display(schema)}: {', '.join(lacking)} (setup, loading and training "
                    "create these objects).",
                    f"GRANT {', '.join(lacking)} ON SCHEMA {name} TO ROLE {role};",
                )
            )
        elif unknown:
            lines.append(
                CheckLine(
                    f"schema {schema}",
                    CHECK_UNKNOWN,
                    f"The grants on schema {display(schema)} cannot be listed by this role.",
                    f"GRANT {', '.join(creates)} ON SCHEMA {name} TO ROLE {role};",
                )
            )
        else:
            lines.append(
                CheckLine(
                    f"schema {schema}", CHECK_OK, f"The role may create what it needs in {display(schema)}."
                )
            )
    return lines


def _warehouse(probe: _Probe) -> list[CheckLine]:
    target = probe.target
    if not target.warehouse:
        user = quote(target.user) if target.user else "<user>"
        return [
            CheckLine(
                "warehouse",
                CHECK_MISSING,
                "No warehouse: the connection names none and the user has no default warehouse.",
                f"ALTER USER {user} SET DEFAULT_WAREHOUSE = <warehouse>;",
            )
        ]
    row = probe.show_warehouse()
    name = quote(target.warehouse)
    if row is None:
        return [
            CheckLine(
                "warehouse",
                CHECK_MISSING,
                f"Warehouse {display(target.warehouse)} does not exist or the role cannot see it.",
                f"GRANT USAGE ON WAREHOUSE {name} TO ROLE {_role_sql(probe.role())};",
            )
        ]
    settings = parse_show_warehouses([row], target.warehouse)
    size = sizes.parse_size(settings.size).label
    if settings.type == sizes.SNOWPARK_OPTIMIZED:
        kind = f"memory option {settings.resource_constraint or sql.DEFAULT_RESOURCE_CONSTRAINT}"
    else:
        generation = settings.generation
        kind = f"generation {generation}" if generation else "generation not shown"
    lines = [
        CheckLine(
            "warehouse",
            CHECK_OK,
            f"{display(target.warehouse)}: {size} {settings.type}, {kind}, {settings.state}.",
        )
    ]
    auto_resume = _flag(row.get("auto_resume"))
    if auto_resume is False:
        lines.append(
            CheckLine(
                "auto-resume",
                CHECK_MISSING,
                "Auto-resume is off: every statement fails while the warehouse is suspended.",
                f"ALTER WAREHOUSE {name} SET AUTO_RESUME = TRUE;",
            )
        )
    else:
        lines.append(
            CheckLine(
                "auto-resume",
                CHECK_OK if auto_resume else CHECK_UNKNOWN,
                _shown("Auto-resume is on.", auto_resume),
            )
        )
    suspend = _int(row.get("auto_suspend"))
    if suspend is None or suspend <= 0:
        lines.append(
            CheckLine(
                "auto-suspend",
                CHECK_MISSING,
                "Auto-suspend is off: the warehouse bills every hour it runs, idle or not.",
                f"ALTER WAREHOUSE {name} SET AUTO_SUSPEND = 60;",
            )
        )
    else:
        lines.append(CheckLine("auto-suspend", CHECK_OK, f"Suspends after {suspend} s idle."))
    return lines


def _warehouse_privileges(probe: _Probe) -> list[CheckLine]:
    target = probe.target
    if not target.warehouse or probe.show_warehouse() is None:
        return []  # the warehouse line says what is missing
    name, role = quote(target.warehouse), _role_sql(probe.role())
    grants = probe.grants("WAREHOUSE", name)
    managed = probe.account_grants().held(("MANAGE WAREHOUSES",))
    uses = {
        "USAGE": "run queries, procedures and scoring",
        "OPERATE": "suspend and resume it (type changes need it suspended)",
        "MODIFY": "resize it for scoring and convert it for Snowpark-optimized training",
    }
    lines = []
    for privilege, why in uses.items():
        held = grants.held((privilege,))
        if privilege != "USAGE" and held is not True:
            # MANAGE WAREHOUSES grants OPERATE and MODIFY on every warehouse; not seeing it proves nothing
            # unless the account's grants are listed.
            held = True if managed else (False if held is False and managed is False else None)
        lines.append(
            _privilege_line(
                f"warehouse {privilege}",
                held,
                f"{privilege} on warehouse {display(target.warehouse)} ({why})",
                f"GRANT {privilege} ON WAREHOUSE {name} TO ROLE {role};",
            )
        )
    return lines


def _snowpark_optimized(probe: _Probe) -> list[CheckLine]:
    region = str(probe.session().get("REGION") or "")
    if not region:
        return [CheckLine("snowpark-optimized", CHECK_UNKNOWN, "The account's region is not shown.")]
    cloud = region.rsplit(".", 1)[-1].split("_", 1)[0].upper()  # PUBLIC.AWS_US_WEST_2 -> AWS
    options = [c for c in sql.RESOURCE_CONSTRAINTS if cloud == "AWS" or c not in _AWS_ONLY_CONSTRAINTS]
    current = probe.show_warehouse()
    size = sizes.parse_size(str(current.get("size") or "X-Small")) if current else None
    fits = [
        c
        for c in options
        if size is None or size.index >= sizes.parse_size(sql.RESOURCE_CONSTRAINTS[c]).index
    ]
    default_minimum = sizes.parse_size(sql.RESOURCE_CONSTRAINTS[sql.DEFAULT_RESOURCE_CONSTRAINT]).label
    at_size = f" At {size.label}: {', '.join(fits) or 'none'}." if size else ""
    return [
        CheckLine(
            "snowpark-optimized",
            CHECK_OK,
            f"Region {region}: memory options {', '.join(options)}.{at_size} Training uses "
            f"{sql.DEFAULT_RESOURCE_CONSTRAINT} (256 GB) from {default_minimum} up, Snowflake's default.",
        )
    ]


def _runtime(probe: _Probe) -> list[CheckLine]:
    runtime = packages.this_runtime()
    offered = sorted(
        {
            str(r.get("RUNTIME_VERSION"))
            for r in probe.packages()
            if str(r.get("PACKAGE_NAME")).lower() == SNOWPARK and r.get("RUNTIME_VERSION")
        },
        key=_version_key,
    )
    if runtime in offered:
        return [
            CheckLine(
                "python runtime",
                CHECK_OK,
                f"Python {runtime} (this app) is one Snowflake offers: {', '.join(offered)}.",
            )
        ]
    return [
        CheckLine(
            "python runtime",
            CHECK_MISSING,
            f"Procedures and UDFs are registered for this app's Python {runtime}; the account's channel offers "
            f"Snowpark for {', '.join(offered) or 'no Python version'}.",
            f"Run snowml-desktop on Python {offered[-1]}."
            if offered
            else "Ask an admin to accept the Anaconda terms (Admin > Billing & Terms).",
        )
    ]


def resolve_pins(runner: SqlRunner, loc: sql.Location) -> packages.PackageSet:
    """The package set setup would pin, from the account's channel: the one place the check asks setup."""
    return setup.available_packages(runner, loc)


def _packages(probe: _Probe) -> list[CheckLine]:
    try:
        pins = resolve_pins(probe.target.runner, probe.target.loc)
    except (ConnectionFailed, PermissionDenied, NotFound):
        raise  # not the channel's answer: the check says unknown (or stops for a lost connection)
    except EngineError as exc:
        return [
            CheckLine(
                "packages",
                CHECK_MISSING,
                exc.message,
                "Accept the Anaconda terms as ORGADMIN (Admin > Billing & Terms), or run the app on a Python "
                "version the channel has these packages for.",
            )
        ]
    return [CheckLine("packages", CHECK_OK, f"Python {pins.runtime}: {', '.join(pins.pins())}.")]


def _cloudpickle(probe: _Probe) -> list[CheckLine]:
    runtime, local = packages.this_runtime(), packages.desktop_cloudpickle()
    versions = [
        str(r["VERSION"])
        for r in probe.packages()
        if str(r.get("PACKAGE_NAME")).lower() == CLOUDPICKLE and r.get("RUNTIME_VERSION") in (None, runtime)
    ]
    usable = [v for v in versions if _version_key(v) >= _version_key(local)]
    if usable:
        return [
            CheckLine(
                "cloudpickle",
                CHECK_OK,
                f"Snowpark asks for cloudpickle>={local}; the channel has {max(usable, key=_version_key)}.",
            )
        ]
    newest = max(versions, key=_version_key) if versions else None
    return [
        CheckLine(
            "cloudpickle",
            CHECK_MISSING,
            f"Snowpark registers every procedure and UDF with cloudpickle>={local} (this computer's version); "
            f"the channel has {newest or 'no cloudpickle'} for Python {runtime}.",
            f'pip install "cloudpickle=={newest}"'
            if newest
            else "Accept the Anaconda terms (Admin > Billing & Terms).",
        )
    ]


def _setup_state(probe: _Probe) -> list[CheckLine]:
    state = setup.read_state(probe.target.runner, probe.target.loc)
    command = (
        f"snowml --connection {probe.target.profile.name} setup --yes (or File > Snowflake setup… in the app)"
    )
    where = f"{display(probe.target.loc.database)}.{display(probe.target.loc.app_schema)}"
    if state is None:
        return [CheckLine("setup", CHECK_MISSING, f"Setup has not run in {where}.", command)]
    if state.app_version != __version__ or state.setup_format != setup.SETUP_FORMAT:
        return [
            CheckLine(
                "setup",
                CHECK_MISSING,
                f"{where} was set up by {state.app_version}; this app is {__version__}.",
                command,
            )
        ]
    return [
        CheckLine(
            "setup", CHECK_OK, f"{where} is set up by {__version__} ({', '.join(state.packages.pins())})."
        )
    ]


def _journal(probe: _Probe) -> list[CheckLine]:
    journal = probe.target.journal
    lines = []
    for original in journal.pending():
        statement = sql.alter_warehouse_set(original.name, size=original.size, warehouse_type=original.type)
        lines.append(
            CheckLine(
                f"restore {original.name}",
                CHECK_MISSING,
                f"An interrupted operation left warehouse {display(original.name)} to restore to "
                f"{sizes.parse_size(original.size).label} {original.type}; connecting the app restores it.",
                statement.text + ";",
            )
        )
    if probe.target.warehouse:
        owner = journal.busy_elsewhere(probe.target.warehouse)
        if owner is not None:
            lines.append(
                CheckLine(
                    f"restore {probe.target.warehouse}",
                    CHECK_UNKNOWN,
                    f"Another snowml-desktop (process {owner}) is changing warehouse "
                    f"{display(probe.target.warehouse)} right now.",
                )
            )
    return lines or [CheckLine("warehouse journal", CHECK_OK, "No warehouse change is waiting to be undone.")]


def _scoring_roles(probe: _Probe) -> list[CheckLine]:
    loc = probe.target.loc
    if loc.app_schema not in probe.schemas():
        return [CheckLine("other roles", CHECK_UNKNOWN, "Setup has not created the app schema yet.")]
    app = qualified(loc.database, loc.app_schema)
    schema_users = set(probe.grants("SCHEMA", app).holders(("USAGE",))[0])
    procedure = probe.grants("PROCEDURE", f"{loc.app('SNOWML_SCORE')}(VARCHAR)")
    callers = set(procedure.holders(("USAGE",))[0])
    owners = set(procedure.holders(())[0])  # OWNERSHIP only: the role that ran setup
    future = _future_function_users(probe)
    fix = "; ".join(scoring_grants(loc)) + ";"
    if not procedure.visible or future is None:
        return [
            CheckLine(
                "other roles", CHECK_UNKNOWN, "The role cannot list the grants on the app's procedures.", fix
            )
        ]
    others = sorted((schema_users & callers & future) - owners)
    if others:
        return [
            CheckLine("other roles", CHECK_OK, f"Roles {', '.join(others)} may score with the app's models.")
        ]
    return [
        CheckLine(
            "other roles",
            CHECK_MISSING,
            "Only the role that ran setup can score: no other role has USAGE on the schema, on SNOWML_SCORE "
            "and on the models' functions (each model's function is owned by the role that trained it).",
            fix,
        )
    ]


def _future_function_users(probe: _Probe) -> set[str] | None:
    try:
        rows = probe.rows(sql.show_future_grants(probe.target.loc, probe.target.loc.app_schema))
    except (PermissionDenied, NotFound):
        return None
    found = set()
    for row in ({str(k).lower(): v for k, v in r.items()} for r in rows):
        kind = str(row.get("grant_on") or row.get("granted_on") or "").upper()
        if kind == "FUNCTION" and str(row.get("privilege", "")).upper() == "USAGE":
            found.add(str(row.get("grantee_name")))
    return found


def scoring_grants(loc: sql.Location, role: str = "<scoring role>") -> list[str]:
    """What an admin grants a role that scores with the app's models (``role``: quoted, or a placeholder),
    following setup's privilege list."""
    app, data = qualified(loc.database, loc.app_schema), qualified(loc.database, loc.data_schema)
    return [
        f"GRANT USAGE ON DATABASE {quote(loc.database)} TO ROLE {role}",
        f"GRANT USAGE ON SCHEMA {app} TO ROLE {role}",
        f"GRANT USAGE, CREATE TABLE ON SCHEMA {data} TO ROLE {role}",
        f"GRANT USAGE ON PROCEDURE {loc.app('SNOWML_SCORE')}(VARCHAR) TO ROLE {role}",
        f"GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA {app} TO ROLE {role}",
        f"GRANT USAGE ON ALL FUNCTIONS IN SCHEMA {app} TO ROLE {role}",
        f"GRANT READ ON STAGE {loc.app('MODELS')} TO ROLE {role}",
        f"GRANT READ ON STAGE {loc.app('PROCEDURES')} TO ROLE {role}",
        f"GRANT SELECT ON TABLE {loc.app(sql.MODELS_CATALOG)} TO ROLE {role}",
        f"GRANT SELECT ON TABLE {loc.app(sql.SETUP_STATE)} TO ROLE {role}",
        f"GRANT SELECT, INSERT, UPDATE ON TABLE {loc.app(sql.INFERENCE_RUNS)} TO ROLE {role}",
        f"GRANT USAGE ON SEQUENCE {loc.app(sql.SEQUENCE)} TO ROLE {role}",
    ]


CHECKS: tuple[tuple[str, Callable[[_Probe], list[CheckLine]]], ...] = (
    ("login", _login),
    ("role", _role),
    ("database usage", _database),
    ("setup privileges", _setup_privileges),
    ("warehouse", _warehouse),
    ("warehouse privileges", _warehouse_privileges),
    ("snowpark-optimized", _snowpark_optimized),
    ("python runtime", _runtime),
    ("packages", _packages),
    ("cloudpickle", _cloudpickle),
    ("setup", _setup_state),
    ("warehouse journal", _journal),
    ("other roles", _scoring_roles),
)


# --- parsing (kept minimal: SHOW output's columns, as documented) -------------------------------------


def _privilege_line(name: str, held: bool | None, what: str, fix: str) -> CheckLine:
    if held:
        return CheckLine(name, CHECK_OK, f"The session's roles hold {what}.")
    if held is False:
        return CheckLine(name, CHECK_MISSING, f"No role in this session holds {what}.", fix)
    return CheckLine(
        name,
        CHECK_UNKNOWN,
        f"Cannot tell whether the session holds {what}: the role may not list all grants; the statement that "
        "needs it will say.",
        fix,
    )


def _secondary_roles(value: Any) -> list[str]:
    """The active secondary roles from CURRENT_SECONDARY_ROLES(): {"roles":"R1,R2","value":"ALL"}
    (https://docs.snowflake.com/en/sql-reference/functions/current_secondary_roles)."""
    if not value:
        return []
    try:
        data = json.loads(value) if isinstance(value, str) else dict(value)
    except (ValueError, TypeError):
        return []
    return [r for r in str(data.get("roles") or "").split(",") if r]


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    return str(value).strip().lower() in {"true", "y", "yes", "1"}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _shown(text: str, value: Any) -> str:
    return text if value is not None else "SHOW WAREHOUSES does not show auto-resume."


def _upper(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k).upper(): v for k, v in row.items()}


def _row_name(row: dict[str, Any]) -> str:
    return str(next((v for k, v in row.items() if str(k).lower() == "name"), ""))


def _role_sql(role: str) -> str:
    return role if role.startswith("<") else quote(role)


def _version_key(text: str) -> Any:
    """Order version strings as PEP 440 does; a string that is not a version sorts first."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(str(text)))
    except InvalidVersion:
        return (0, str(text))
