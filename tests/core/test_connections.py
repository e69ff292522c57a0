"""Connection profiles: connections.toml reading, the app's own JSON store, and secrets in the keyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from snowml_desktop.core import connections as conn
from snowml_desktop.core.errors import EngineError, InvalidInput, NotFound

TOML = """
[default]
account = "myorg-main"
user = "ANALYST"
password = "toml-secret-pw"
role = "ANALYST_ROLE"
warehouse = "WH_XS"
database = "SALES"
schema = "PUBLIC"

[svc]
account = "xy12345.eu-west-1"
user = "SVC"
authenticator = "SNOWFLAKE_JWT"
private_key_file = "/keys/svc.p8"
private_key_file_pwd = "toml-passphrase"
client_session_keep_alive = true
"""


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory: stands in for the OS service."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def toml_home() -> Path:
    home = Path(os.environ["SNOWFLAKE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "connections.toml").write_text(TOML, encoding="utf-8")
    return home


def _snowflake(name: str = "mine", **changes: object) -> conn.ConnectionProfile:
    values: dict = dict(name=name, kind="snowflake", source="app", account="myorg-acct", user="ME", role="R")
    values.update(changes)
    return conn.ConnectionProfile(**values)


def test_local_is_first_and_builtin_with_no_files() -> None:
    profiles = conn.list_profiles()
    assert [(p.name, p.kind, p.source) for p in profiles] == [("local", "local", "builtin")]
    assert conn.get_default() == "local"


def test_reads_connections_toml_read_only_without_secrets(toml_home: Path) -> None:
    profiles = conn.list_profiles()
    assert [p.name for p in profiles] == ["local", "default", "svc"]
    main = conn.get_profile("default")
    assert (main.source, main.read_only, main.account, main.warehouse) == (
        "connections.toml",
        True,
        "myorg-main",
        "WH_XS",
    )
    svc = conn.get_profile("SVC")  # case-insensitive lookup
    assert svc.authenticator == "snowflake_jwt"
    assert svc.private_key_file == "/keys/svc.p8"
    assert svc.extra == {"client_session_keep_alive": True}
    assert "toml-secret-pw" not in repr(profiles) and "toml-passphrase" not in repr(profiles)
    assert conn.toml_secret("default", "password") == "toml-secret-pw"
    assert conn.toml_secret("svc", "private_key_passphrase") == "toml-passphrase"
    assert conn.toml_secret("svc", "token") is None


def test_config_toml_default_connection_name_comes_first(
    toml_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (toml_home / "config.toml").write_text(
        'default_connection_name = "svc"\n[connections.cli_only]\naccount = "a1"\nuser = "U"\n',
        encoding="utf-8",
    )
    assert conn.toml_default_name() == "svc"
    assert [p.name for p in conn.list_profiles()] == ["local", "svc", "cli_only", "default"]
    monkeypatch.setenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "cli_only")
    assert conn.toml_default_name() == "cli_only"


def test_broken_toml_is_skipped_not_fatal(toml_home: Path) -> None:
    (toml_home / "connections.toml").write_text("[oops\n", encoding="utf-8")
    assert [p.name for p in conn.list_profiles()] == ["local"]


def test_save_get_delete_app_profile_json_has_no_secrets(memory_keyring: MemoryKeyring) -> None:
    saved = conn.save_profile(_snowflake(app_schema="ml apps", data_schema='"raw"'))
    assert (saved.source, saved.app_schema, saved.data_schema) == ("app", "ml apps", "raw")
    store = conn.SecretStore()
    assert store.available()
    store.set("mine", "password", "hunter2-very-secret")
    text = (conn.config_dir() / "connections.json").read_text(encoding="utf-8")
    assert "hunter2-very-secret" not in text
    assert json.loads(text)["version"] == conn.SETTINGS_VERSION
    assert conn.get_profile("mine").role == "R"
    assert memory_keyring.store == {("snowml-desktop", "mine:password"): "hunter2-very-secret"}
    conn.set_default("mine")
    assert conn.get_default() == "mine"
    conn.delete_profile("mine")
    assert memory_keyring.store == {}
    assert conn.get_default() == "local"
    with pytest.raises(NotFound, match="local"):
        conn.get_profile("mine")


def test_save_replaces_same_name_and_leaves_no_temp_files() -> None:
    conn.save_profile(_snowflake(role="A"))
    conn.save_profile(_snowflake(name="MINE", role="B"))
    assert [p.role for p in conn.list_profiles() if p.source == "app"] == ["B"]
    assert sorted(p.name for p in conn.config_dir().iterdir()) == ["connections.json"]


def test_toml_profiles_are_read_only(toml_home: Path) -> None:
    with pytest.raises(InvalidInput, match="read-only"):
        conn.save_profile(_snowflake(name="default"))
    with pytest.raises(InvalidInput, match="connections.toml"):
        conn.delete_profile("svc")
    with pytest.raises(InvalidInput, match="built in"):
        conn.delete_profile("local")


def test_local_workspace_is_changeable(tmp_path: Path) -> None:
    conn.save_profile(conn.ConnectionProfile("local", "local", "builtin", workspace=str(tmp_path / "ws")))
    local = conn.get_profile("local")
    assert (local.source, local.workspace) == ("builtin", str(tmp_path / "ws"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"account": "bad account!"}, "account identifier"),
        ({"user": ""}, "user name"),
        ({"authenticator": "kerberos"}, "Unknown authenticator"),
        ({"authenticator": "snowflake_jwt"}, "private key file"),
        ({"name": "  "}, "name"),
        ({"app_schema": 'a"b"c"'}, None),
    ],
)
def test_validation_names_the_field(changes: dict, message: str | None) -> None:
    profile = _snowflake(**changes)
    if message is None:  # a hostile schema name is kept exactly, not rejected
        assert conn.save_profile(profile).app_schema == 'a"b"c"'
        return
    with pytest.raises(InvalidInput, match=message):
        conn.save_profile(profile)


def test_oauth_profile_needs_no_user_and_lists_its_secret() -> None:
    saved = conn.save_profile(_snowflake(user="", authenticator="OAUTH"))
    assert saved.authenticator == "oauth"
    assert saved.secret_kinds == ("token",)
    assert {a.key for a in conn.AUTHENTICATORS} >= {"externalbrowser", "programmatic_access_token"}


def test_corrupt_settings_file_says_where() -> None:
    path = conn.config_dir() / "connections.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match="connections.json"):
        conn.list_profiles()


def test_secret_store_unavailable_with_fail_backend() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = conn.SecretStore()
        assert not store.available()
        assert store.get("mine", "password") is None
    finally:
        keyring.set_keyring(previous)


def test_secret_store_rejects_unknown_kind(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(InvalidInput, match="secret kind"):
        conn.SecretStore().set("mine", "mfa_passcode", "123456")
    conn.SecretStore().delete("mine", "token")  # deleting nothing is fine
    assert memory_keyring.store == {}


def _jwt(exp: float) -> str:
    import base64

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'ANA', 'exp': exp})}.c2lnbmF0dXJl"


def test_token_expiry_is_read_from_a_jwt_and_unknown_otherwise() -> None:
    from datetime import datetime, timezone

    assert conn.token_expiry(_jwt(1_700_000_000)) == datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)
    assert conn.token_expiry("ver:1-hint:1234-ETMsDgAAAY") is None  # a programmatic access token: opaque
    assert conn.token_expiry("a.b.c") is None


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("OAUTH_AUTHORIZATION_CODE", "oauth_authorization_code"),
        ("oauth_client_credentials", "oauth_client_credentials"),
        ("WORKLOAD_IDENTITY", "workload_identity"),
        ("https://myorg.okta.com", "okta"),
        ("https://myorg.okta.com/", "okta"),
    ],
)
def test_every_connector_authenticator_is_known(value: str, key: str) -> None:
    assert conn.authenticator(value).key == key


def test_okta_profile_keeps_its_url_and_key_pair_is_suggested_first() -> None:
    saved = conn.save_profile(_snowflake(authenticator=" https://myorg.okta.com "))
    assert saved.authenticator == "https://myorg.okta.com" and saved.secret_kinds == ("password",)
    assert conn.AUTHENTICATORS[0].key == conn.SUGGESTED_AUTHENTICATOR == "snowflake_jwt"
    assert conn.AUTHENTICATORS[1].key == "externalbrowser"
    with pytest.raises(InvalidInput, match="Unknown authenticator"):
        conn.authenticator("https://evil.example.com")


class SmallKeyring(MemoryKeyring):
    """Refuses long secrets as Windows Credential Manager does (2,560 bytes; pywintypes.error, not a
    KeyringError)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode()) > 2560:
            raise OSError(1783, "CredWrite", "The stub received bad data.")
        super().set_password(service, username, password)


def test_keyring_refusing_a_long_token_is_a_clear_error() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(SmallKeyring())
    try:
        store = conn.SecretStore()
        with pytest.raises(EngineError) as info:
            store.set("lab", "token", "t" * 4000)
        assert "4,000 bytes" in info.value.message and "asked at each login" in (info.value.hint or "")
        assert "t" * 20 not in str(info.value)
        assert store.get("lab", "token") is None
    finally:
        keyring.set_keyring(previous)
