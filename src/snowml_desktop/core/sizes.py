"""Warehouse sizes, types and credit estimates, with Snowflake's names and published credit rates.

Locally a size means ``min(2 ** index, cpu_count)`` parallel workers; the size and type are still
recorded so that timing history and credit estimates mean the same on both engines.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from snowml_desktop.core.errors import InvalidInput

STANDARD = "STANDARD"
SNOWPARK_OPTIMIZED = "SNOWPARK-OPTIMIZED"
WAREHOUSE_TYPES = (STANDARD, SNOWPARK_OPTIMIZED)
SNOWPARK_OPTIMIZED_RATE = 1.5  # Snowpark-optimized warehouses bill 1.5x the standard credits per hour
MINIMUM_BILLED_SECONDS = 60  # Snowflake bills at least 60 s each time a warehouse resumes


@dataclass(frozen=True)
class WarehouseSize:
    label: str  # as Snowflake shows it: "X-Small"
    sql: str  # as Snowflake SQL takes it: "XSMALL"
    index: int  # 0 for X-Small

    @property
    def credits_per_hour(self) -> float:
        """Standard warehouse credits per hour: 1, 2, 4, ... 512."""
        return float(2**self.index)

    def local_workers(self, cpu_count: int | None = None) -> int:
        """Parallel scoring workers the local engine uses for this size."""
        return max(1, min(2**self.index, cpu_count or os.cpu_count() or 1))


SIZES = tuple(
    WarehouseSize(label, sql, i)
    for i, (label, sql) in enumerate(
        [
            ("X-Small", "XSMALL"),
            ("Small", "SMALL"),
            ("Medium", "MEDIUM"),
            ("Large", "LARGE"),
            ("X-Large", "XLARGE"),
            ("2X-Large", "XXLARGE"),
            ("3X-Large", "XXXLARGE"),
            ("4X-Large", "X4LARGE"),
            ("5X-Large", "X5LARGE"),
            ("6X-Large", "X6LARGE"),
        ]
    )
)

# Every spelling Snowflake itself accepts or shows, folded to lower case without separators.
_ALIASES: dict[str, WarehouseSize] = {}
for _size in SIZES:
    for _alias in (_size.label, _size.sql):
        _ALIASES[_alias.lower().replace("-", "").replace("_", "").replace(" ", "")] = _size
for _size, _extra in zip(
    SIZES, ["xs", "s", "m", "l", "xl", "x2large", "x3large", "4xl", "5xl", "6xl"], strict=True
):
    _ALIASES[_extra] = _size
_ALIASES.update({"2xl": SIZES[5], "3xl": SIZES[6], "x2large": SIZES[5], "x3large": SIZES[6]})


def parse_size(text: str | WarehouseSize) -> WarehouseSize:
    """Accept "X-Small", "XSMALL", "xs", "x-small", "2X-Large", "XXLARGE", "X2LARGE" ...; raise InvalidInput otherwise."""
    if isinstance(text, WarehouseSize):
        return text
    key = str(text).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    try:
        return _ALIASES[key]
    except KeyError:
        names = ", ".join(s.label for s in SIZES)
        raise InvalidInput(f"Unknown warehouse size {text!r}.", hint=f"Use one of: {names}.") from None


def parse_type(text: str) -> str:
    """Accept STANDARD or SNOWPARK-OPTIMIZED (any case, '_' or '-'); raise InvalidInput otherwise."""
    key = str(text).strip().upper().replace("_", "-")
    if key in ("SNOWPARK-OPTIMIZED", "OPTIMIZED"):
        return SNOWPARK_OPTIMIZED
    if key == STANDARD:
        return STANDARD
    raise InvalidInput(f"Unknown warehouse type {text!r}.", hint="Use STANDARD or SNOWPARK-OPTIMIZED.")


def credits_per_hour(size: WarehouseSize | str, warehouse_type: str = STANDARD) -> float:
    size = parse_size(size)
    rate = SNOWPARK_OPTIMIZED_RATE if parse_type(warehouse_type) == SNOWPARK_OPTIMIZED else 1.0
    return size.credits_per_hour * rate


@dataclass(frozen=True)
class BilledCredits:
    """What one run bills: the credits for the seconds it ran, and the extra that Snowflake's 60-second minimum
    per resume adds on top (zero once a run lasts longer than the minimum)."""

    running: float
    minimum: float

    @property
    def total(self) -> float:
        return self.running + self.minimum


def billed_credits(
    seconds: float, size: WarehouseSize | str, warehouse_type: str = STANDARD, *, resumes: int = 1
) -> BilledCredits:
    """Credits billed for ``seconds`` at ``size``: credits/hour x max(seconds, 60 s x resumes) / 3600.

    Every run is counted as one resume, on both engines and in every view, so that an estimate, a run's result,
    the timing graph and the recommendation all use the same figure (Snowflake bills at least 60 s each time a
    warehouse resumes, and for the added nodes of a resize)."""
    rate = credits_per_hour(size, warehouse_type) / 3600.0
    seconds = max(0.0, float(seconds))
    floor = MINIMUM_BILLED_SECONDS * max(0, resumes)
    return BilledCredits(running=rate * seconds, minimum=rate * max(0.0, floor - seconds))


def estimate_credits(seconds: float, size: WarehouseSize | str, warehouse_type: str = STANDARD) -> float:
    """The total of ``billed_credits`` for one run."""
    return billed_credits(seconds, size, warehouse_type).total


def round_credits(value: float) -> float:
    """Round to 6 significant digits for display and storage without hiding small runs."""
    if value == 0:
        return 0.0
    return round(value, max(0, 5 - int(math.floor(math.log10(abs(value))))))
