"""The error family every layer raises and catches.

Each error carries a message a user can act on: what went wrong, where, and how to fix it.
``str(error)`` is that message; tracebacks and internals go to the log, never into it.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every expected failure. Anything else reaching the UI is a bug."""

    #: A stable machine-readable code (for the CLI's JSON output and for tests).
    code = "engine_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        # A message quoted from a driver may end without a full stop; the hint is a sentence of its own.
        stop = "" if self.message.rstrip().endswith((".", "!", "?", "…", ":")) else "."
        return f"{self.message.rstrip()}{stop} {self.hint}"


class InvalidInput(EngineError):
    """The request itself is wrong (a bad name, a missing column, an unusable target ...)."""

    code = "invalid_input"


class NotFound(EngineError):
    """A named table, stage, file, model or run does not exist."""

    code = "not_found"


class AlreadyExists(EngineError):
    """Creating something whose name is taken, without asking to replace it."""

    code = "already_exists"


class ConnectionFailed(EngineError):
    """The engine could not be reached or refused the credentials."""

    code = "connection_failed"


class PermissionDenied(EngineError):
    """The role lacks a privilege the operation needs."""

    code = "permission_denied"


class IntegrityError(EngineError):
    """Stored data failed a check (e.g. a model artifact whose sha256 does not match the catalog)."""

    code = "integrity_error"


class ResourceExhausted(EngineError):
    """The machine ran out of something the operation needs (disk space, memory). Neither a bug nor the
    input's fault: free some and try again."""

    code = "resource_exhausted"


class Cancelled(EngineError):
    """The user cancelled the operation; nothing it started was kept."""

    code = "cancelled"

    def __init__(self, message: str = "Cancelled by the user; nothing was changed.") -> None:
        super().__init__(message)
