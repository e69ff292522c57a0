"""Small helpers that make the GUI's sentences read right."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 class``, ``2 classes``: the count (with thousands separators) and the right form of the noun.

    ``plural_form`` defaults to ``singular + "s"``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"
