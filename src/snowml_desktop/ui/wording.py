"""Small helpers that make the GUI's sentences read right."""

from __future__ import annotations

import re

__all__ = ["breakable", "for_gui", "plural"]

_MANAGER = "File › Connections… (Local (embedded))"
#: Hints written for the command line, and what a GUI user does instead.
_CLI_HINTS = (
    (re.compile(r"open a different workspace with --workspace"), f"choose another workspace folder in {_MANAGER}"),
    (re.compile(r"use --workspace"), f"choose another workspace folder in {_MANAGER}"),
    (re.compile(r"with --workspace or SNOWML_HOME"), f"in {_MANAGER}"),
    # Models trained before the wording changed carry the command-line option in their warning.
    (
        re.compile(
            r"(?:Train with dedupe to drop duplicates|Retrain with duplicate rows dropped) before splitting"
            r"(?: \(the dedupe option\))?"
        ),
        "Retrain with “Drop duplicate rows before splitting” checked",
    ),
    (re.compile(r"List the tables with `snowml tables`"), "The tables are listed in Analyze"),
    (re.compile(r"move the workspace with --workspace"), f"choose a workspace folder on another disk in {_MANAGER}"),
    (
        re.compile(r"Upload it first \(`snowml put FILE`\), or list the stage with `snowml files`"),
        "Upload it first (Upload… in Load Data), or choose a file from Load Data's list",
    ),
    (re.compile(r"Give the file's name only, as shown by `snowml files`"), "Choose a file from Load Data's list"),
)
#: A full stop glued to the next sentence ("attempt(s).Aborting"); not "DB.SCHEMA" or "example.com".
_GLUED_SENTENCE = re.compile(r"(?<=[a-z)\]])\.(?=[A-Z][a-z])")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 class``, ``2 classes``: the count (with thousands separators) and the right form of the noun.

    ``plural_form`` defaults to ``singular + "s"``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def for_gui(message: str) -> str:
    """An engine or connector message as the GUI shows it: command-line hints replaced by the GUI's own
    steps, and sentences that the source ran together set apart."""
    for pattern, replacement in _CLI_HINTS:
        message = pattern.sub(replacement, message)
    return _GLUED_SENTENCE.sub(". ", message)



def breakable(text: str, *, names: bool = False) -> str:
    """``text`` with a zero-width break opportunity after each path or URL separator, so a long path wraps
    in a label instead of widening the window; ``names``: after each underscore too, so a long identifier
    (``QUARTERLY_SALES_BY_REGION_…``) wraps as well (``widgets.wrap_label``)."""
    text = text.replace("/", "/\u200b").replace("\\", "\\\u200b")
    return text.replace("_", "_\u200b") if names else text
