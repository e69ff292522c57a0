"""Sessions: connector parameters per authenticator, key loading, error translation, secrets never leaked,
and the statement runner (query tag, binds, cancel) over a test double of the connector's cursor."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import keyring
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from keyring.backend import KeyringBackend
from snowflake.connector.errors import DatabaseError, OperationalError, ProgrammingError

from snowml_desktop import __version__
from snowml_desktop.core import connections as conn
from snowml_desktop.core.errors import Cancelled, ConnectionFailed, EngineError, NotFound, PermissionDenied
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.snowflake import session as sfs
from snowml_desktop.engines.snowflake import sql

SECRET = "s3cr3t-Pa55word!"


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


def _profile(auth: str = "snowflake", **changes) -> conn.ConnectionProfile:
    values = dict(
        name="work",
        kind="snowflake",
        source="app",
        account="myorg-acct",
        user="ANA",
        role="ANALYST",
        warehouse="WH",
        database="DB",
        schema="PUBLIC",
        authenticator=auth,
    )
    values.update(changes)
    return conn.ConnectionProfile(**values)


def _key_file(tmp_path: Path, passphrase: str | None) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def test_query_tag_names_app_version_and_operation() -> None:
    assert sfs.query_tag("train") == f"snowml-desktop/{__version__}/train"
    assert sfs.query_tag("bad tag; DROP") == f"snowml-desktop/{__version__}/bad_tag__DROP"


def test_password_login_reads_the_keyring() -> None:
    conn.SecretStore().set("work", "password", SECRET)
    profile = _profile()
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile))
    assert params["password"] == SECRET and params["account"] == "myorg-acct" and params["role"] == "ANALYST"
    assert "authenticator" not in params  # the connector's default: password
    # What Snowpark sends by itself is tagged too; the runner overrides the tag per statement.
    assert params["session_parameters"] == {"QUERY_TAG": f"snowml-desktop/{__version__}/session"}


def test_mfa_login_caches_the_token_and_takes_the_passcode() -> None:
    conn.SecretStore().set("work", "password", SECRET)
    profile = _profile("username_password_mfa")
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile), passcode="123456")
    assert params["authenticator"] == "USERNAME_PASSWORD_MFA"
    assert params["client_request_mfa_token"] is True and params["passcode"] == "123456"


def test_external_browser_caches_credentials_and_needs_no_secret() -> None:
    profile = _profile("externalbrowser")
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile))
    assert (
        params["authenticator"] == "EXTERNALBROWSER" and params["client_store_temporary_credential"] is True
    )
    assert "password" not in params


@pytest.mark.parametrize(
    ("auth", "expected"), [("oauth", "OAUTH"), ("programmatic_access_token", "PROGRAMMATIC_ACCESS_TOKEN")]
)
def test_token_logins(auth: str, expected: str) -> None:
    conn.SecretStore().set("work", "token", "tok-123")
    profile = _profile(auth)
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile))
    assert (params["authenticator"], params["token"]) == (expected, "tok-123")


def test_encrypted_key_pair_is_decrypted_with_the_stored_passphrase(tmp_path: Path) -> None:
    path = _key_file(tmp_path, "pass phrase")
    conn.SecretStore().set("work", "private_key_passphrase", "pass phrase")
    profile = _profile("snowflake_jwt", private_key_file=str(path))
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile))
    assert params["authenticator"] == "SNOWFLAKE_JWT"
    key = serialization.load_der_private_key(
        params["private_key"], password=None
    )  # unencrypted DER for the connector
    assert key.key_size == 2048


def test_key_pair_errors_say_what_is_wrong(tmp_path: Path) -> None:
    path = _key_file(tmp_path, "right")
    with pytest.raises(ConnectionFailed, match="encrypted") as missing:
        sfs.load_private_key(str(path), None)
    with pytest.raises(ConnectionFailed, match="could not be decrypted") as wrong:
        sfs.load_private_key(str(path), "wrong-passphrase")
    assert "wrong-passphrase" not in str(wrong.value) and "right" not in str(missing.value)
    with pytest.raises(ConnectionFailed, match="Cannot read"):
        sfs.load_private_key(str(tmp_path / "nope.p8"), None)
    plain = _key_file(tmp_path, None)
    assert sfs.load_private_key(
        str(plain), "ignored-for-plain-key"
    )  # a passphrase for a plain key is harmless


def test_missing_secret_is_asked_for_then_reported() -> None:
    profile = _profile()
    asked = []
    creds = sfs.gather_credentials(profile, ask=lambda name, kind: asked.append((name, kind)) or "typed")
    assert asked == [("work", "password")] and creds.values == {"password": "typed"}
    assert "typed" not in repr(creds)
    with pytest.raises(ConnectionFailed, match="No password"):
        sfs.gather_credentials(profile, ask=lambda name, kind: None)
    conn.SecretStore().set("work", "password", "old-stored")
    assert sfs.gather_credentials(profile).values == {"password": "old-stored"}
    typed = sfs.gather_credentials(profile, typed={"password": "new-typed"}, ask=lambda n, k: "never")
    assert typed.values == {"password": "new-typed"}  # typed for this login wins over the keyring


def test_connections_toml_secret_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "sf"
    home.mkdir()
    (home / "connections.toml").write_text('[dev]\naccount = "a-b"\nuser = "U"\npassword = "from-toml"\n')
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    profile = conn.get_profile("dev")
    assert sfs.gather_credentials(profile).values == {"password": "from-toml"}


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            DatabaseError(
                msg="Incorrect username or password was specified.", errno=390100, sqlstate="08004"
            ),
            ConnectionFailed,
            "password was not accepted",
        ),
        (
            DatabaseError(msg="Failed to authenticate: MFA with TOTP is required.", errno=394508),
            ConnectionFailed,
            "multi-factor",
        ),
        (
            DatabaseError(
                msg="Role 'ADMIN' specified in the connect string is not granted to this user.", errno=390189
            ),
            PermissionDenied,
            "role is not granted",
        ),
        (
            DatabaseError(msg="The requested warehouse does not exist or not authorized.", errno=390201),
            PermissionDenied,
            "warehouse",
        ),
        (
            OperationalError(
                msg="Failed to connect to DB: nope.snowflakecomputing.com:443. HTTP 403: Forbidden",
                errno=250001,
            ),
            ConnectionFailed,
            "account identifier",
        ),
        (
            OperationalError(msg="Failed to connect to DB. Connection timed out", errno=250001),
            ConnectionFailed,
            "could not be reached",
        ),
        (
            ProgrammingError(
                msg="SQL compilation error: Object 'T' does not exist or not authorized.", errno=2003
            ),
            NotFound,
            "does not exist",
        ),
        (
            ProgrammingError(msg="Insufficient privileges to operate on warehouse 'WH'", errno=3001),
            PermissionDenied,
            "privilege",
        ),
        (ProgrammingError(msg="SQL execution canceled", errno=604), Cancelled, "Cancelled"),
        (DatabaseError(msg="JWT token is invalid.", errno=390144), ConnectionFailed, "key-pair"),
    ],
)
def test_login_errors_become_clear_messages(error: Exception, kind: type, words: str) -> None:
    translated = sfs.translate_login_error(error, where="Connection 'work'")
    assert isinstance(translated, kind)
    assert words in str(translated)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        # The words of a SQL error are Snowflake's (or the user's names): only errno/SQLSTATE classify it.
        (
            ProgrammingError(
                msg="SQL compilation error: error line 1 at position 7 invalid identifier 'NOT_FOUND_FLAG'",
                errno=904,
                sqlstate="42000",
            ),
            EngineError,
            "invalid identifier 'NOT_FOUND_FLAG'",
        ),
        (
            ProgrammingError(
                msg="Numeric value 'connection timeout' is not recognized", errno=100038, sqlstate="22018"
            ),
            EngineError,
            "Numeric value 'connection timeout' is not recognized",
        ),
        (
            ProgrammingError(
                msg="Statement reached its statement or warehouse timeout of 60 second(s) and was canceled.",
                errno=630,
                sqlstate="57014",
            ),
            EngineError,
            "time limit",
        ),
        (
            ProgrammingError(
                msg="SQL compilation error: Object 'T' does not exist or not authorized.",
                errno=2003,
                sqlstate="02000",
            ),
            NotFound,
            "does not exist",
        ),
        (
            ProgrammingError(msg="Insufficient privileges to operate on table 'T'", errno=3001, sqlstate="42501"),
            PermissionDenied,
            "privilege",
        ),
        (ProgrammingError(msg="SQL execution canceled", errno=604, sqlstate="57014"), Cancelled, "Cancelled"),
        (
            ProgrammingError(msg="Authentication token has expired.  The user must authenticate again.", errno=390114),
            ConnectionFailed,
            "expired",
        ),
        (OperationalError(msg="Failed to execute request: HTTP 503", errno=250003), ConnectionFailed, "lost"),
    ],
)
def test_statement_errors_are_classified_by_errno_and_sqlstate(error: Exception, kind: type, words: str) -> None:
    translated = sfs.translate_error(error, where="Preview")
    assert type(translated) is kind
    assert words in str(translated)
    assert "account identifier" not in str(translated) and "could not be reached" not in str(translated)


def test_secrets_never_reach_messages_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The connector stands in for the network here: it fails and echoes the password back."""
    import snowflake.snowpark._internal.server_connection as server_connection

    def refuse(**params):
        raise DatabaseError(
            msg=f"Incorrect username or password was specified. (debug: {params['password']})", errno=390100
        )

    monkeypatch.setattr(server_connection, "connect", refuse)
    conn.SecretStore().set("work", "password", SECRET)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectionFailed) as info:
        sfs.open_session(_profile())
    assert SECRET not in str(info.value) and SECRET not in caplog.text
    assert "password was not accepted" in str(info.value)
    other = sfs.translate_error(
        DatabaseError(msg=f"weird failure {SECRET}"),
        where="x",
        credentials=sfs.Credentials({"password": SECRET}),
    )
    assert SECRET not in str(other) and "***" in str(other)


class FakeCursor:
    """Stands in for the connector cursor (and so for the network)."""

    def __init__(self, server: FakeServer) -> None:
        self.server, self.sfqid, self.description, self._rows = server, None, None, []

    def execute_async(self, text, params=None, _statement_params=None):
        self.server.calls.append((text, params, _statement_params, "async"))
        self.server.counter += 1
        self.sfqid = f"qid-{self.server.counter}"
        return {"queryId": self.sfqid}

    def execute(self, text, params=None, _statement_params=None):
        self.server.calls.append((text, params, _statement_params, "sync"))
        self.server.counter += 1
        self.sfqid = f"qid-{self.server.counter}"
        if "SYSTEM$CANCEL_QUERY" in text:
            self.server.cancelled.set()
        self.description, self._rows = [("N",)], [{"N": 1}]

    def query_result(self, qid):
        self.description, self._rows = [("N",)], [{"N": 2}]
        return self

    def fetchall(self):
        return self._rows

    def close(self):
        pass


class FakeServer:
    """The session and connection side: query status polling, which a cancel ends with Snowflake's error."""

    def __init__(self, block: bool = False) -> None:
        self.calls: list = []
        self.counter = 0
        self.block = block
        self.started, self.cancelled = threading.Event(), threading.Event()
        self.connection = self

    def cursor(self, _kind=None):
        return FakeCursor(self)

    def get_query_status_throw_if_error(self, qid):
        if not self.block:
            return "SUCCESS"
        self.started.set()
        if self.cancelled.wait(0.01):
            raise ProgrammingError(msg="SQL execution canceled", errno=604)
        return "RUNNING"

    @staticmethod
    def is_still_running(status):
        return status == "RUNNING"


def test_runner_binds_values_tags_statements_and_returns_query_ids() -> None:
    server = FakeServer()
    runner = sfs.SnowparkRunner(server)
    result = runner.execute(sql.select_models(sql.Location("DB"), "M1"), operation="catalog")
    assert result.rows == [{"N": 1}] and result.query_id == "qid-1"
    text, params, statement_params, mode = server.calls[0]
    assert params == ["M1"] and "?" in text and mode == "sync"
    assert statement_params == {"QUERY_TAG": f"snowml-desktop/{__version__}/catalog"}
    long = runner.execute(sql.preview(sql.Location("DB"), "T", 5), operation="profile", task=TaskContext())
    assert long.rows == [{"N": 2}] and server.calls[1][3] == "async"  # with a task: cancellable


def test_runner_cancels_the_running_statement_by_query_id() -> None:
    server = FakeServer(block=True)
    runner = sfs.SnowparkRunner(server)
    task = TaskContext()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runner.execute(sql.preview(sql.Location("DB"), "T", 5), operation="profile", task=task)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert server.started.wait(5)
    task.token.cancel()
    worker.join(5)
    assert isinstance(errors[0], Cancelled)
    assert server.calls[1][0] == "SELECT SYSTEM$CANCEL_QUERY(?) AS RESULT" and server.calls[1][1] == ["qid-1"]


def test_check_connection_reports_what_the_server_gave(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connector stands in for the network: it accepts the login and answers the context query."""
    import snowflake.snowpark._internal.server_connection as server_connection

    seen = {}

    class Refused(Exception):
        pass

    def accept(**params):
        seen.update(params)
        raise Refused()  # a real SnowflakeConnection cannot be built offline; stop after the parameters

    monkeypatch.setattr(server_connection, "connect", accept)
    conn.SecretStore().set("work", "token", "pat-value")
    with pytest.raises(Exception) as info:
        sfs.check_connection(_profile("programmatic_access_token"))
    assert seen["authenticator"] == "PROGRAMMATIC_ACCESS_TOKEN" and seen["token"] == "pat-value"
    assert "pat-value" not in str(info.value)


@pytest.mark.parametrize(
    ("entry", "expected", "secret"),
    [
        (
            'authenticator = "OAUTH_AUTHORIZATION_CODE"\noauth_client_id = "desktop-app"\n',
            "OAUTH_AUTHORIZATION_CODE",
            None,
        ),
        (
            'authenticator = "OAUTH_CLIENT_CREDENTIALS"\noauth_client_id = "svc"\n'
            'oauth_client_secret = "client-s3cret"\noauth_token_request_url = "https://idp.example.com/token"\n',
            "OAUTH_CLIENT_CREDENTIALS",
            ("oauth_client_secret", "client-s3cret"),
        ),
        ('authenticator = "WORKLOAD_IDENTITY"\nworkload_identity_provider = "AWS"\n', "WORKLOAD_IDENTITY", None),
        ('authenticator = "https://myorg.okta.com"\npassword = "okta-pw"\n', "https://myorg.okta.com", ("password", "okta-pw")),
    ],
)
def test_connections_toml_authenticators_pass_through_to_the_connector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entry: str, expected: str, secret: tuple | None
) -> None:
    from snowflake.connector import network

    home = tmp_path / "sf"
    home.mkdir()
    (home / "connections.toml").write_text(f'[x]\naccount = "myorg-acct"\nuser = "ANA"\n{entry}')
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    profile = conn.get_profile("x")
    params = sfs.connect_parameters(profile, sfs.gather_credentials(profile))
    assert params["authenticator"] == expected
    # The installed connector's own names (snowflake/connector/network.py), or an Okta URL it accepts.
    known = {value for name, value in vars(network).items() if name.isupper() and isinstance(value, str)}
    assert expected in known or expected.startswith("https://")
    for key, value in profile.extra.items():  # oauth_client_id, workload_identity_provider ... as written
        assert params[key] == value
    if secret is not None:
        assert params[secret[0]] == secret[1] and secret[0] not in profile.extra


def test_an_expired_stored_oauth_token_is_asked_for_anew() -> None:
    import base64
    import json

    def jwt(exp: int) -> str:
        claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
        return f"eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln"

    conn.SecretStore().set("work", "token", jwt(1_700_000_000))  # expired in 2023
    asked: list[str] = []
    creds = sfs.gather_credentials(_profile("oauth"), ask=lambda name, kind: asked.append(kind) or jwt(4_102_444_800))
    assert asked == ["token"] and creds.values["token"] == jwt(4_102_444_800)
    with pytest.raises(ConnectionFailed, match="No token"):
        sfs.gather_credentials(_profile("oauth"))
    conn.SecretStore().set("work", "token", jwt(4_102_444_800))
    assert sfs.gather_credentials(_profile("oauth"), ask=lambda n, k: pytest.fail("asked")).values["token"]
