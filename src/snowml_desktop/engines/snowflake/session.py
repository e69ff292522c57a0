"""Snowpark sessions from saved connections, the one place SQL is sent, and connector errors made readable.

- :func:`connect_parameters` turns a :class:`ConnectionProfile` plus secrets (keyring, the user's own
  connections.toml entry, or asked for) into the connector's parameters for every supported authenticator.
- :func:`open_session` creates the Snowpark session; failures become ``ConnectionFailed``/``PermissionDenied``
  with a message saying what to fix. Secrets never appear in messages or logs (:func:`scrub`).
- :class:`SnowparkRunner` executes :class:`~.sql.Statement` objects with bind values, tags every statement
  with ``snowml-desktop/<version>/<operation>`` (statement-level QUERY_TAG, so threads sharing the session do
  not overwrite each other's tag), returns rows as dicts with the query id, and cancels the running statement
  with ``SYSTEM$CANCEL_QUERY`` when the task's token is cancelled. Tests replace it with a test double that
  stands in for the network.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from snowml_desktop.core.connections import (
    AskSecret,
    ConnectionProfile,
    SecretStore,
    authenticator,
    token_expiry,
    toml_secret,
)
from snowml_desktop.core.errors import (
    Cancelled,
    ConnectionFailed,
    EngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.sql import query_tag

log = logging.getLogger(__name__)


@dataclass
class Credentials:
    """Secrets gathered for one login. Kept out of ``repr`` so they never reach a log line."""

    values: dict[str, str] = field(default_factory=dict, repr=False)

    def scrub(self, text: str) -> str:
        return scrub(text, self.values.values())


def scrub(text: str, secrets: Any) -> str:
    """Replace every secret value (and a JWT/OAuth-looking token) in ``text`` by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-.]+", "***", text)


def gather_credentials(
    profile: ConnectionProfile,
    secrets: SecretStore | None = None,
    ask: AskSecret | None = None,
    *,
    typed: Mapping[str, str] | None = None,
) -> Credentials:
    """Collect the secrets the profile's authenticator needs: ``typed`` (secret kind -> value typed for this
    login, e.g. in the connection manager before saving) first, then the keyring, then the user's own
    connections.toml entry, then ``ask``. Raises ConnectionFailed naming the missing secret."""
    store = secrets if secrets is not None else SecretStore()
    found: dict[str, str] = {}
    entry = authenticator(profile.authenticator)
    for kind in entry.secrets:
        value = (typed or {}).get(kind) or _stored(profile, kind, store)
        if value is None and ask is not None:
            value = ask(profile.name, kind)
        if value:
            found[kind] = value
        elif kind not in entry.optional:
            raise ConnectionFailed(
                f"No {kind.replace('_', ' ')} for connection {profile.name!r}.",
                hint="Enter it in the connection manager (it is kept in the system keyring).",
            )
    return Credentials(found)


def _stored(profile: ConnectionProfile, kind: str, store: SecretStore) -> str | None:
    """The secret kept in the keyring or the user's connections.toml entry; None for a token that has
    expired (Snowflake would refuse it, so a new one is asked for)."""
    value = store.get(profile.name, kind) if store.available() else None
    if value is None and profile.source == "connections.toml":
        value = toml_secret(profile.name, kind)
    expiry = token_expiry(value) if value and kind == "token" else None
    if expiry is not None and expiry <= datetime.now(timezone.utc):
        log.info("The stored %s of %s expired at %s; asking for a new one", kind, profile.name, expiry)
        return None
    return value


def load_private_key(path: str, passphrase: str | None) -> bytes:
    """Read a PEM (or DER) private key, decrypting it with ``passphrase``, and return unencrypted PKCS#8 DER
    bytes for the connector. Raises ConnectionFailed saying whether the file, the format or the passphrase is
    wrong (never echoing the passphrase)."""
    from cryptography.hazmat.primitives import serialization

    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConnectionFailed(
            f"Cannot read the private key file {file} ({exc.strerror or type(exc).__name__}).",
            hint="Choose the .p8 file that holds your key.",
        ) from None
    password = passphrase.encode() if passphrase else None
    loader = (
        serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    )
    try:
        key = loader(data, password=password)
    except TypeError:  # encrypted without a passphrase, or a passphrase for an unencrypted key
        if password is None:
            raise ConnectionFailed(
                f"The private key {file.name} is encrypted.",
                hint="Enter its passphrase in the connection manager.",
            ) from None
        key = loader(data, password=None)
    except ValueError:
        raise ConnectionFailed(
            f"The private key {file.name} could not be decrypted or is not a private key.",
            hint="Check the passphrase, and that the file is a PKCS#8 .p8 key (BEGIN ENCRYPTED PRIVATE KEY).",
        ) from None
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def connect_parameters(
    profile: ConnectionProfile, credentials: Credentials, *, passcode: str | None = None
) -> dict[str, Any]:
    """Connector parameters for the profile's authenticator. ``passcode``: the MFA code typed for this login
    (password + MFA). Raises InvalidInput for a local profile, ConnectionFailed for an unusable key."""
    if profile.kind != "snowflake":
        raise InvalidInput(f"Connection {profile.name!r} is not a Snowflake connection.")
    auth = authenticator(profile.authenticator).key
    secret_keys = {"password", "token", "private_key", "passcode", "oauth_client_secret"}
    # Further connector parameters (oauth_client_id, oauth_token_request_url, workload_identity_provider ...)
    # come from the user's connections.toml entry as they are.
    params: dict[str, Any] = {k: v for k, v in profile.extra.items() if k not in secret_keys}
    params["account"] = profile.account
    for key in ("user", "role", "warehouse", "database", "schema"):
        if getattr(profile, key):
            params[key] = getattr(profile, key)
    params["application"] = "snowml-desktop"
    # The session-level tag covers what Snowpark sends by itself (its own queries, registrations, cancel_all);
    # the runner overrides it per statement with the operation.
    params["session_parameters"] = {"QUERY_TAG": query_tag("session")}
    secret = credentials.values
    if auth == "snowflake":
        params["password"] = secret["password"]
    elif auth == "username_password_mfa":
        params.update(authenticator="USERNAME_PASSWORD_MFA", password=secret["password"])
        params["client_request_mfa_token"] = True  # cache the MFA token in the OS keystore: fewer prompts
        if passcode:
            params["passcode"] = passcode
    elif auth == "externalbrowser":
        params.update(authenticator="EXTERNALBROWSER", client_store_temporary_credential=True)
    elif auth == "snowflake_jwt":
        params["authenticator"] = "SNOWFLAKE_JWT"
        params["private_key"] = load_private_key(
            profile.private_key_file, secret.get("private_key_passphrase")
        )
    elif auth == "oauth":
        params.update(authenticator="OAUTH", token=secret["token"])
    elif auth == "programmatic_access_token":
        params.update(authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=secret["token"])
    elif auth in ("oauth_authorization_code", "oauth_client_credentials"):
        # The browser flow caches its tokens in the OS keystore (client_store_temporary_credential) and
        # renews them with a refresh token when the identity provider issues one.
        params.update(authenticator=auth.upper(), client_store_temporary_credential=True)
        if secret.get("oauth_client_secret"):
            params["oauth_client_secret"] = secret["oauth_client_secret"]
    elif auth == "workload_identity":
        params["authenticator"] = "WORKLOAD_IDENTITY"
    elif auth == "okta":
        params.update(authenticator=profile.authenticator.strip(), password=secret["password"])
    return params


# --- error translation -------------------------------------------------------------------------------
# Connector and Snowpark errors carry Snowflake's error number (``errno``; Snowpark: ``sql_error_code``) and
# the ANSI SQLSTATE (``sqlstate``), documented with the connector's API ("Exceptions": errno, sqlstate,
# sfqid, raw_msg; https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api).
# Statement errors are classified by those codes only: the text of a SQL error may say anything ("column
# NOT_FOUND", "timeout" in a table name). Login errors come before any session exists and often without
# a code (HTTP, DNS, proxy), so :func:`translate_login_error` also reads their text.

_CANCELLED = {604}  # 000604 (57014): SQL execution canceled (the user's cancel, SYSTEM$CANCEL_QUERY)
_TIMED_OUT = {630}  # 000630 (57014): statement reached its statement or warehouse timeout
_NOT_FOUND = {2003, 2043}  # does not exist or not authorized
_NO_PRIVILEGE = {3001, 3003}  # insufficient privileges
_SESSION_EXPIRED = {390112, 390114}  # session / authentication token expired: log in again
# Connector-side failures to reach Snowflake (snowflake.connector.errorcode): connect, closed, request.
_UNREACHABLE = {250001, 250002, 250003, 250005}


def _codes(exc: BaseException) -> tuple[int | None, str]:
    """(Snowflake error number, SQLSTATE) of a connector or Snowpark exception."""
    cause = getattr(exc, "conn_error", None)
    errno = getattr(exc, "errno", None) or getattr(exc, "sql_error_code", None) or getattr(cause, "errno", None)
    sqlstate = getattr(exc, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
    try:
        return (int(errno) if errno is not None else None), str(sqlstate)
    except (TypeError, ValueError):
        return None, str(sqlstate)


def _said(exc: BaseException, credentials: Credentials | None) -> str:
    """Snowflake's own words, with secrets and tokens scrubbed."""
    raw = str(getattr(exc, "raw_msg", None) or getattr(exc, "raw_message", None) or getattr(exc, "msg", None) or exc)
    return credentials.scrub(raw) if credentials else scrub(raw, [])


def translate_error(exc: BaseException, *, where: str, credentials: Credentials | None = None) -> EngineError:
    """A statement's connector/Snowpark exception as the app's error family, classified by error number and
    SQLSTATE (never by words in the message). ``where`` names the operation. Secrets are scrubbed."""
    if isinstance(exc, EngineError):
        return exc
    errno, sqlstate = _codes(exc)
    text = _said(exc, credentials)
    detail = f" Snowflake said: {text.strip()[:300]}" if text.strip() else ""
    if errno in _CANCELLED:
        return Cancelled()
    if errno in _TIMED_OUT:
        return EngineError(
            f"{where}: Snowflake stopped the statement at its time limit.{detail}",
            hint="Use a larger warehouse, or ask an admin to raise STATEMENT_TIMEOUT_IN_SECONDS.",
        )
    if errno in _SESSION_EXPIRED:
        return ConnectionFailed(
            f"{where}: the Snowflake session or its login token has expired.",
            hint="Reconnect (File > Connections…); an OAuth token must be renewed first.",
        )
    if errno in _NO_PRIVILEGE or sqlstate == "42501":
        return PermissionDenied(
            f"{where}: the role lacks a privilege.{detail}", hint="Ask an admin for the grant named above."
        )
    if errno in _NOT_FOUND or sqlstate == "42S02":
        return NotFound(f"{where}: an object does not exist or is not visible to the role.{detail}")
    if errno in _UNREACHABLE or sqlstate.startswith("08"):  # SQLSTATE class 08: connection exception
        return ConnectionFailed(
            f"{where}: the connection to Snowflake was lost.{detail}",
            hint="Check the network and reconnect; the statement may not have run.",
        )
    return EngineError(f"{where}: Snowflake refused the statement.{detail}")


def translate_login_error(
    exc: BaseException, *, where: str, credentials: Credentials | None = None
) -> EngineError:
    """A login's exception as the app's error family, with a message saying what to fix. Login failures
    often have no Snowflake error number (HTTP status, DNS, proxy), so their text is read too."""
    if isinstance(exc, EngineError):
        return exc
    errno, _ = _codes(exc)
    text = _said(exc, credentials)
    low = text.lower()
    detail = f" Snowflake said: {text.strip()[:300]}" if text.strip() else ""
    if errno == 390100 or "incorrect username or password" in low:
        return ConnectionFailed(
            f"{where}: the user name or password was not accepted.",
            hint="Check both in the connection manager; after several failures Snowflake locks the user for 15 minutes.",
        )
    if any(k in low for k in ("mfa", "multi-factor", "passcode", "duo ")):
        return ConnectionFailed(
            f"{where}: multi-factor authentication is required or the passcode was wrong.{detail}",
            hint="Use key-pair or SSO login, or 'Password + MFA passcode' with the current code from your "
            "authenticator app.",
        )
    if errno == 390144 or "jwt token is invalid" in low:
        return ConnectionFailed(
            f"{where}: the key-pair login was refused.",
            hint="Check that the public key is set on the user (DESC USER shows RSA_PUBLIC_KEY_FP) and the key file matches.",
        )
    if errno in (390303, 390318) or errno in _SESSION_EXPIRED or "oauth" in low and ("expired" in low or "invalid" in low):
        return ConnectionFailed(
            f"{where}: the OAuth or access token is invalid or expired.",
            hint="Get a new token (from your identity provider, or a new programmatic access token in "
            "Snowsight) and replace the saved one in the connection manager.",
        )
    if errno == 390189 or "is not granted to this user" in low:
        return PermissionDenied(
            f"{where}: the role is not granted to this user.{detail}",
            hint="Pick a role you have (SHOW GRANTS TO USER <you>) or ask an admin to grant it.",
        )
    if errno == 390201 or ("does not exist or not authorized" in low and errno not in _NOT_FOUND):
        return PermissionDenied(
            f"{where}: the database, schema or warehouse does not exist or the role may not use it.{detail}",
            hint="Check the names in the connection, and that the role has USAGE on them.",
        )
    if errno in _NO_PRIVILEGE or "insufficient privileges" in low:
        return PermissionDenied(
            f"{where}: the role lacks a privilege.{detail}", hint="Ask an admin for the grant named above."
        )
    if errno in _NOT_FOUND or "does not exist" in low:
        return NotFound(f"{where}: an object does not exist or is not visible to the role.{detail}")
    if "is not allowed to access snowflake" in low:
        return ConnectionFailed(f"{where}: a network policy blocks this computer's IP address.{detail}")
    if re.search(r"\b40[34]\b|forbidden|not found|name or service not known|nodename nor servname", low):
        return ConnectionFailed(
            f"{where}: Snowflake did not recognise the account identifier.{detail}",
            hint="Use orgname-accountname (Snowsight: account menu > Account details), without .snowflakecomputing.com.",
        )
    if errno in _UNREACHABLE or any(
        k in low for k in ("timed out", "timeout", "connection", "network", "max retries")
    ):
        return ConnectionFailed(
            f"{where}: Snowflake could not be reached.{detail}",
            hint="Check the network, proxy settings (HTTPS_PROXY) and the account identifier.",
        )
    return translate_error(exc, where=where, credentials=credentials)


def open_session(
    profile: ConnectionProfile,
    secrets: SecretStore | None = None,
    *,
    ask: AskSecret | None = None,
    passcode: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> Any:
    """Create a Snowpark Session for a Snowflake profile. Raises ConnectionFailed / PermissionDenied with a
    readable message; secrets are never logged or put into messages."""
    from snowflake.snowpark import Session

    credentials = gather_credentials(profile, secrets, ask, typed=typed)
    params = connect_parameters(profile, credentials, passcode=passcode)
    log.info(
        "Connecting to Snowflake account %s as %s (%s)",
        profile.account,
        profile.user or "-",
        profile.authenticator,
    )
    try:
        return Session.builder.configs(params).create()
    except Exception as exc:  # the connector raises many types; each is translated
        error = translate_login_error(exc, where=f"Connection {profile.name!r}", credentials=credentials)
        log.warning("Login failed for %s: %s", profile.name, error)
        raise error from None


# --- executing statements ----------------------------------------------------------------------------


def _nothing() -> None:
    """Unregister function for a statement that registered no cancel callback."""


@dataclass
class QueryResult:
    rows: list[dict[str, Any]]
    query_id: str | None = None


class SqlRunner(Protocol):
    """What the engine needs to run SQL; the real one wraps a Snowpark session, tests use a double."""

    def execute(
        self, statement: sql.Statement, *, operation: str, task: TaskContext | None = None
    ) -> QueryResult:
        """Run one statement. Raises EngineError subclasses (translated), Cancelled when the task is."""
        ...

    def cancel_all(self) -> None: ...

    def close(self) -> None: ...


class SnowparkRunner:
    """Runs statements on a Snowpark session's connection with bind values and a statement-level QUERY_TAG."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def execute(
        self, statement: sql.Statement, *, operation: str, task: TaskContext | None = None
    ) -> QueryResult:
        """Without a task: a plain synchronous execute (quick statements). With a task: submitted
        asynchronously so its query id is known while it runs, and a cancel sends SYSTEM$CANCEL_QUERY for
        exactly that statement (other threads' statements on the same session keep running)."""
        from snowflake.connector import DictCursor

        if task is not None:
            task.check()
        cursor = self.session.connection.cursor(DictCursor)
        params = list(statement.params) or None
        tag = {"QUERY_TAG": query_tag(operation)}
        unregister: Callable[[], None] = _nothing
        try:
            if task is None or statement.text.startswith("PUT "):  # file transfer cannot run asynchronously
                cursor.execute(statement.text, params, _statement_params=tag)
            else:
                cursor.execute_async(statement.text, params, _statement_params=tag)
                query_id = cursor.sfqid
                unregister = task.token.on_cancel(lambda: self._cancel(query_id))
                self._wait(query_id)
                cursor.query_result(query_id)
            rows = [dict(row) for row in cursor.fetchall()] if cursor.description else []
            return QueryResult(rows, cursor.sfqid)
        except Exception as exc:
            if task is not None and task.token.cancelled:
                raise Cancelled() from None
            error = translate_error(exc, where=operation.replace("_", " ").capitalize())
            log.warning("Statement failed (%s, query %s): %s", operation, cursor.sfqid, error)
            raise error from None
        finally:
            unregister()
            cursor.close()

    def _wait(self, query_id: str) -> None:
        """Poll until the query ends (raising its error), backing off from 50 ms to 1 s."""
        connection = self.session.connection
        delay = 0.05
        while connection.is_still_running(connection.get_query_status_throw_if_error(query_id)):
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _cancel(self, query_id: str) -> None:
        try:
            self.execute(sql.cancel_query(query_id), operation="cancel")
        except EngineError as exc:  # the query may have finished meanwhile
            log.info("Cancel of %s: %s", query_id, exc)

    def cancel_all(self) -> None:
        try:
            self.session.cancel_all()
        except Exception as exc:  # closing down; nothing more to do
            log.info("cancel_all failed: %s", type(exc).__name__)

    def close(self) -> None:
        try:
            self.session.close()
        except Exception as exc:  # already closed or network gone
            log.info("Session close failed: %s", type(exc).__name__)


def check_connection(
    profile: ConnectionProfile,
    secrets: SecretStore | None = None,
    *,
    ask: AskSecret | None = None,
    passcode: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The connection manager's "Test": log in, read what the server gave this session (account, user,
    role, database, schema, warehouse), and log out. Raises ConnectionFailed / PermissionDenied."""
    session = open_session(profile, secrets, ask=ask, passcode=passcode, typed=typed)
    runner = SnowparkRunner(session)
    try:
        row = runner.execute(sql.current_context(), operation="test_connection").rows[0]
        return {str(k).lower(): str(v) if v is not None else "" for k, v in row.items()}
    finally:
        runner.close()
