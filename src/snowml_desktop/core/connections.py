"""Saved connections: the built-in local engine, the user's Snowflake ``connections.toml``, and the app's own.

Qt-free: the GUI's connection manager, the CLI and ``engines.open_engine`` all use it.

Three sources, listed in this order by :func:`list_profiles`:
- ``builtin``: the always-present ``local`` connection (the embedded engine; its workspace is changeable).
- ``connections.toml``: the Snowflake CLI / connector file in ``SNOWFLAKE_HOME`` (default ``~/.snowflake``),
  plus ``[connections.*]`` of ``config.toml`` there. Read-only here; the user edits them with their tools.
- ``app``: profiles this app saved, as JSON in the config dir (``SNOWML_CONFIG_DIR`` or the platform's user
  config dir). The JSON never holds a secret: passwords, passphrases and tokens live in the OS keyring
  (:class:`SecretStore`); an MFA passcode is asked at each login and never stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from snowml_desktop.core.errors import EngineError, InvalidInput, NotFound
from snowml_desktop.core.identifiers import normalize
from snowml_desktop.core.memory import parse_memory_limit

log = logging.getLogger(__name__)

LOCAL = "local"
KINDS = ("local", "snowflake")
SOURCES = ("builtin", "app", "connections.toml")
SECRET_KINDS = ("password", "private_key_passphrase", "token", "oauth_client_secret")
SETTINGS_VERSION = 1
KEYRING_SERVICE = "snowml-desktop"

#: Asked for a secret the store does not hold: (profile name, secret kind) -> value, or None to give up.
AskSecret = Callable[[str, str], "str | None"]


class Authenticator(NamedTuple):
    key: str  # the connector's ``authenticator`` value, lower case
    label: str  # for people
    secrets: tuple[str, ...]  # secret kinds the login may use
    optional: tuple[str, ...] = ()  # of those, the ones a login can do without


# The authenticators snowflake-connector-python accepts (its connection.py: SNOWFLAKE, EXTERNALBROWSER,
# SNOWFLAKE_JWT, OAUTH, OAUTH_AUTHORIZATION_CODE, OAUTH_CLIENT_CREDENTIALS, USERNAME_PASSWORD_MFA,
# WORKLOAD_IDENTITY, PROGRAMMATIC_ACCESS_TOKEN, or an https://<okta account>.okta.com URL). Key pair and SSO
# come first: Snowflake is blocking password-only sign-in for people (MFA enforcement).
AUTHENTICATORS: tuple[Authenticator, ...] = (
    Authenticator("snowflake_jwt", "Key pair", ("private_key_passphrase",), ("private_key_passphrase",)),
    Authenticator("externalbrowser", "Single sign-on (browser)", ()),
    Authenticator(
        "oauth_authorization_code", "OAuth sign-in (browser)", ("oauth_client_secret",), ("oauth_client_secret",)
    ),
    Authenticator("username_password_mfa", "Password + MFA passcode", ("password",)),
    Authenticator("programmatic_access_token", "Programmatic access token", ("token",)),
    Authenticator("oauth", "OAuth token", ("token",)),
    Authenticator("oauth_client_credentials", "OAuth client credentials (service)", ("oauth_client_secret",)),
    Authenticator("workload_identity", "Workload identity (cloud service)", ()),
    Authenticator("snowflake", "Password only (service users)", ("password",)),
)
#: Native Okta SSO: the ``authenticator`` is the Okta URL itself, kept as given.
OKTA = Authenticator("okta", "Okta (native SSO)", ("password",))
_OKTA_URL = re.compile(r"^https://[A-Za-z0-9][A-Za-z0-9.\-]*\.okta(?:preview|-emea)?\.com/?$", re.IGNORECASE)
#: Logins whose identity comes from a token or the cloud environment, not from a user name.
_NO_USER_NEEDED = {
    "oauth", "programmatic_access_token", "oauth_authorization_code", "oauth_client_credentials", "workload_identity",
}  # fmt: skip
#: The login the connection manager suggests for a new connection.
SUGGESTED_AUTHENTICATOR = "snowflake_jwt"

# connections.toml keys that hold secrets: never copied into a profile (read on demand by toml_secret).
_TOML_SECRETS = {
    "password": "password",
    "private_key_file_pwd": "private_key_passphrase",
    "private_key_passphrase": "private_key_passphrase",
    "token": "token",
    "oauth_client_secret": "oauth_client_secret",
}
_TOML_FIELDS = ("account", "user", "role", "warehouse", "database", "schema")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class ConnectionProfile:
    """One saved connection. Holds no secret; see :class:`SecretStore`."""

    name: str
    kind: str  # "local" | "snowflake"
    source: str  # "builtin" | "app" | "connections.toml"
    read_only: bool = False
    account: str = ""
    user: str = ""
    role: str = ""
    warehouse: str = ""
    database: str = ""
    schema: str = ""
    authenticator: str = "snowflake"
    private_key_file: str = ""
    workspace: str = ""  # local only; "" means the default workspace
    memory_limit: str = ""  # local only, as the user wrote it ("2GB"); "" means core.memory's default
    app_schema: str = "SNOWML"
    data_schema: str = "DATA"
    extra: dict[str, Any] = field(default_factory=dict)  # further non-secret connector parameters

    @property
    def secret_kinds(self) -> tuple[str, ...]:
        """Secret kinds this profile's authenticator uses."""
        return authenticator(self.authenticator).secrets if self.kind == "snowflake" else ()


def authenticator(key: str) -> Authenticator:
    """The authenticator entry for ``key`` (any case; an Okta URL is native Okta SSO). Raises InvalidInput
    for one the connector does not know."""
    text = str(key).strip()
    if _OKTA_URL.match(text):
        return OKTA
    for entry in AUTHENTICATORS:
        if entry.key == text.lower():
            return entry
    raise InvalidInput(
        f"Unknown authenticator {key!r}.",
        hint="Use one of: " + ", ".join(a.key for a in AUTHENTICATORS) + ", or your Okta URL "
        "(https://<your account>.okta.com).",
    )


# --- locations ------------------------------------------------------------------------------------


def config_dir() -> Path:
    """The app's config folder: ``SNOWML_CONFIG_DIR`` or the platform's user config dir (not created here)."""
    override = os.environ.get("SNOWML_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("snowml-desktop", appauthor=False))


def snowflake_home() -> Path:
    """Where the Snowflake connector reads ``connections.toml``: ``SNOWFLAKE_HOME``, else ``~/.snowflake``
    when it exists, else the platform's config dir for "snowflake" (the connector's own rule)."""
    home = Path(os.environ.get("SNOWFLAKE_HOME", "~/.snowflake")).expanduser()
    if home.exists() or "SNOWFLAKE_HOME" in os.environ:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir("snowflake", appauthor=False))


def _settings_path() -> Path:
    return config_dir() / "connections.json"


# --- connections.toml -----------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # Python 3.10: tomlkit comes with snowflake-connector-python
        import tomlkit

        def parse(text: str) -> dict[str, Any]:
            return tomlkit.parse(text).unwrap()
    else:
        parse = tomllib.loads
    try:
        return parse(path.read_text(encoding="utf-8"))
    except Exception as exc:  # a broken user file must not stop the app; say which file
        log.warning("Cannot read %s: %s", path, type(exc).__name__)
        return {}


def _toml_sections() -> dict[str, dict[str, Any]]:
    """Connection name -> raw parameters; ``connections.toml`` wins over ``config.toml``'s [connections]."""
    home = snowflake_home()
    config = _read_toml(home / "config.toml").get("connections", {})
    sections = {k: v for k, v in config.items() if isinstance(v, dict)}
    sections.update({k: v for k, v in _read_toml(home / "connections.toml").items() if isinstance(v, dict)})
    return sections


def toml_default_name() -> str | None:
    """The Snowflake tools' default connection: ``SNOWFLAKE_DEFAULT_CONNECTION_NAME``, else
    ``default_connection_name`` in config.toml, else a ``[default]`` section when there is one."""
    env = os.environ.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME")
    if env:
        return env
    configured = _read_toml(snowflake_home() / "config.toml").get("default_connection_name")
    if isinstance(configured, str) and configured:
        return configured
    return "default" if "default" in _toml_sections() else None


def toml_secret(name: str, kind: str) -> str | None:
    """A secret written in the user's own connections.toml entry (``password``, ``token`` ...), if any.

    Read on demand so that profiles never carry secrets; never logged."""
    for key, secret_kind in _TOML_SECRETS.items():
        value = _toml_sections().get(name, {}).get(key)
        if secret_kind == kind and isinstance(value, str) and value:
            return value
    return None


def _profile_from_toml(name: str, raw: dict[str, Any]) -> ConnectionProfile:
    params = {str(k).lower(): v for k, v in raw.items()}
    values = {key: str(params.pop(key, "") or "") for key in _TOML_FIELDS}
    auth = str(params.pop("authenticator", "snowflake") or "snowflake").strip()
    auth = auth if _OKTA_URL.match(auth) else auth.lower()
    key_file = str(params.pop("private_key_file", "") or params.pop("private_key_path", "") or "")
    for secret in _TOML_SECRETS:
        params.pop(secret, None)
    params.pop("private_key", None)  # an inline key is a secret too
    return ConnectionProfile(
        name=name,
        kind="snowflake",
        source="connections.toml",
        read_only=True,
        authenticator=auth,
        private_key_file=key_file,
        extra={k: v for k, v in params.items() if isinstance(v, (str, int, float, bool))},
        **values,
    )


# --- the app's own settings -------------------------------------------------------------------------


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring settings written by an older app version to SETTINGS_VERSION (only version 1 exists so far)."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles", []), list):
        raise ValueError("not a settings object")
    data.setdefault("version", SETTINGS_VERSION)
    data.setdefault("profiles", [])
    return data


def _load_settings() -> dict[str, Any]:
    path = _settings_path()
    if not path.is_file():
        return {"version": SETTINGS_VERSION, "profiles": []}
    try:
        return _migrate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise EngineError(
            f"The saved connections file {path} cannot be read ({type(exc).__name__}).",
            hint="Fix or delete that file; it holds no secrets.",
        ) from exc


def _write_settings(data: dict[str, Any]) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path = _settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**data, "version": SETTINGS_VERSION}
    fd, tmp = tempfile.mkstemp(prefix=".connections-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _profile_from_json(raw: dict[str, Any]) -> ConnectionProfile:
    known = {f.name for f in dataclasses.fields(ConnectionProfile)}
    values = {k: v for k, v in raw.items() if k in known}
    values.update(source="app", read_only=False)
    return ConnectionProfile(**values)


def _profile_to_json(profile: ConnectionProfile) -> dict[str, Any]:
    data = dataclasses.asdict(profile)
    for key in ("source", "read_only"):
        data.pop(key)
    return data


def _builtin_local(settings: dict[str, Any]) -> ConnectionProfile:
    return ConnectionProfile(
        name=LOCAL,
        kind="local",
        source="builtin",
        workspace=str(settings.get("local_workspace", "")),
        memory_limit=str(settings.get("local_memory_limit", "")),
    )


def local_memory_limit(profile: ConnectionProfile) -> int | None:
    """The local connection's memory limit in bytes, None for the default. Raises InvalidInput for a value
    that is not a size or is too small (e.g. a hand-edited settings file)."""
    text = profile.memory_limit.strip()
    return parse_memory_limit(text, what="The local connection's memory limit") if text else None


# --- public API -------------------------------------------------------------------------------------


def list_profiles() -> list[ConnectionProfile]:
    """Every connection: built-in ``local`` first, then connections.toml entries (read-only; the Snowflake
    tools' default first), then the app's own, each group sorted by name. Raises EngineError when the app's
    settings file is corrupt."""
    settings = _load_settings()
    profiles = [_builtin_local(settings)]
    sections = _toml_sections()
    default = toml_default_name()
    for name in sorted(sections, key=lambda n: (n != default, n.lower())):
        profiles.append(_profile_from_toml(name, sections[name]))
    taken = {p.name.lower() for p in profiles}
    own = [_profile_from_json(raw) for raw in settings["profiles"] if isinstance(raw, dict)]
    # A toml entry shadows an app profile of the same name: the user's own tools' file wins.
    profiles.extend(sorted((p for p in own if p.name.lower() not in taken), key=lambda p: p.name.lower()))
    return profiles


def get_profile(name: str) -> ConnectionProfile:
    """The profile called ``name`` (case-insensitive). Raises NotFound listing the known names."""
    profiles = list_profiles()
    for profile in profiles:
        if profile.name.lower() == str(name).strip().lower():
            return profile
    known = ", ".join(p.name for p in profiles)
    raise NotFound(f"No connection named {name!r}.", hint=f"Known connections: {known}.")


def validate_profile(profile: ConnectionProfile) -> ConnectionProfile:
    """Check a profile and return it with canonical schema names. Raises InvalidInput saying which field."""
    name = profile.name.strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise InvalidInput("A connection needs a name of 1 to 100 printable characters.")
    if profile.kind not in KINDS:
        raise InvalidInput(f"Unknown connection kind {profile.kind!r}.", hint="Use local or snowflake.")
    app_schema = normalize(profile.app_schema or "SNOWML", what="app schema")
    data_schema = normalize(profile.data_schema or "DATA", what="data schema")
    if profile.kind == "snowflake":
        entry = authenticator(profile.authenticator)
        auth = entry.key
        account = profile.account.strip()
        if not _ACCOUNT.match(account):
            raise InvalidInput(
                f"Connection {name!r}: {account!r} is not an account identifier.",
                hint="Use orgname-accountname (e.g. myorg-myaccount) or an account locator such as xy12345.eu-west-1.",
            )
        if not profile.user.strip() and auth not in _NO_USER_NEEDED:
            raise InvalidInput(f"Connection {name!r}: the user name is empty.")
        if auth == "snowflake_jwt" and not profile.private_key_file.strip():
            raise InvalidInput(
                f"Connection {name!r}: key-pair login needs a private key file.",
                hint="Choose the .p8 file that holds your private key.",
            )
        kept = profile.authenticator.strip() if entry is OKTA else auth  # the Okta URL is the authenticator
        profile = dataclasses.replace(profile, authenticator=kept, account=account)
    return dataclasses.replace(profile, name=name, app_schema=app_schema, data_schema=data_schema)


def save_profile(profile: ConnectionProfile) -> ConnectionProfile:
    """Create or replace one of the app's own profiles (or set the built-in local workspace and memory
    limit) and return it as stored. Raises InvalidInput for a bad field or a read-only (connections.toml) name."""
    if profile.name.strip().lower() == LOCAL or profile.kind == "local":
        if profile.name.strip().lower() != LOCAL:
            raise InvalidInput("Only the built-in 'local' connection can use the local engine.")
        local_memory_limit(profile)  # refused before anything is written
        settings = _load_settings()
        settings["local_workspace"] = profile.workspace
        settings["local_memory_limit"] = profile.memory_limit.strip()
        _write_settings(settings)
        return _builtin_local(settings)
    profile = validate_profile(profile)
    if profile.read_only or profile.name.lower() in {n.lower() for n in _toml_sections()}:
        raise InvalidInput(
            f"Connection {profile.name!r} comes from connections.toml and is read-only here.",
            hint="Edit it in connections.toml, or duplicate it under a new name.",
        )
    settings = _load_settings()
    others = [p for p in settings["profiles"] if str(p.get("name", "")).lower() != profile.name.lower()]
    settings["profiles"] = [*others, _profile_to_json(profile)]
    _write_settings(settings)
    return dataclasses.replace(profile, source="app", read_only=False)


def delete_profile(name: str, *, secrets: SecretStore | None = None) -> None:
    """Delete one of the app's own profiles and its stored secrets. Raises NotFound, or InvalidInput for
    the built-in and connections.toml ones."""
    profile = get_profile(name)
    if profile.source != "app":
        raise InvalidInput(
            f"Connection {profile.name!r} is {'built in' if profile.source == 'builtin' else 'from connections.toml'}"
            " and cannot be deleted here."
        )
    settings = _load_settings()
    settings["profiles"] = [
        p for p in settings["profiles"] if str(p.get("name", "")).lower() != profile.name.lower()
    ]
    if str(settings.get("default", "")).lower() == profile.name.lower():
        settings.pop("default")
    _write_settings(settings)
    store = secrets or SecretStore()
    if store.available():
        for kind in SECRET_KINDS:
            store.delete(profile.name, kind)


def get_default() -> str:
    """The connection the app opens first: the one set with :func:`set_default` while it exists, else local."""
    chosen = _load_settings().get("default")
    if isinstance(chosen, str) and chosen:
        with contextlib.suppress(NotFound):
            return get_profile(chosen).name
    return LOCAL


def set_default(name: str) -> None:
    """Remember ``name`` as the default connection. Raises NotFound."""
    profile = get_profile(name)
    settings = _load_settings()
    settings["default"] = profile.name
    _write_settings(settings)


# --- secrets ----------------------------------------------------------------------------------------


class SecretStore:
    """Secrets in the OS keyring: service ``snowml-desktop``, user name ``"<profile>:<kind>"``.

    When no usable keyring backend exists, :meth:`available` is False and the UI asks each time.
    Secret values are never logged or put in messages.
    """

    def available(self) -> bool:
        """False when keyring resolved to its fail or null backend (or a chain of none)."""
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, (fail.Keyring, null.Keyring)):
            return False
        return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)

    @staticmethod
    def _key(profile: str, kind: str) -> str:
        if kind not in SECRET_KINDS:
            raise InvalidInput(
                f"Unknown secret kind {kind!r}.", hint="Use one of: " + ", ".join(SECRET_KINDS) + "."
            )
        return f"{profile}:{kind}"

    def get(self, profile: str, kind: str) -> str | None:
        """The stored secret, or None when none is stored or the keyring cannot be read."""
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, self._key(profile, kind))
        except KeyringError as exc:
            log.warning("Keyring read failed for %s:%s (%s)", profile, kind, type(exc).__name__)
            return None

    def set(self, profile: str, kind: str, value: str) -> None:
        """Store a secret. Raises EngineError when the keyring refuses it (locked, or a secret longer than
        the backend holds: Windows Credential Manager keeps at most 2,560 bytes, and OAuth tokens are often
        longer); nothing is stored then, so the secret is asked at each login."""
        import keyring

        key = self._key(profile, kind)
        try:
            keyring.set_password(KEYRING_SERVICE, key, value)
        except Exception as exc:  # noqa: BLE001 - backends raise their own types (pywintypes.error, DBus ...)
            what = kind.replace("_", " ")
            size = len(value.encode("utf-8"))
            long = f" It is {size:,} bytes long, which may be more than the keyring holds." if size > 1024 else ""
            raise EngineError(
                f"The system keyring did not store the {what} for {profile!r} ({type(exc).__name__}).{long}",
                hint=f"The connection is saved without it: the {what} is asked at each login. Unlock the "
                "keyring and save again to keep it.",
            ) from None

    def delete(self, profile: str, kind: str) -> None:
        """Remove a secret; nothing happens when none is stored."""
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, self._key(profile, kind))
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            log.warning("Keyring delete failed for %s:%s (%s)", profile, kind, type(exc).__name__)


def token_expiry(token: str) -> datetime | None:
    """When a JWT-shaped OAuth/access token expires (its ``exp`` claim, read without verifying the token:
    only to ask for a new one before Snowflake refuses it). None for a token that is not a JWT or has no
    ``exp``. The token is never logged."""
    import base64

    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        return datetime.fromtimestamp(float(claims["exp"]), tz=timezone.utc)
    except (ValueError, KeyError, TypeError, UnicodeError, OverflowError):
        return None
