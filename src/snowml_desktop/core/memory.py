"""Memory sizes as people write them ("2GB", "512 MiB"), for the local warehouse's memory limit.

The embedded DuckDB keeps the blocks of every table it writes in its buffer pool until the pool reaches its
limit, which by default is 80 % of the computer's memory (https://duckdb.org/docs/2.0/operations_manual/limits.html):
scoring 10^8 rows grew the app by 2.6 GiB. With a limit the pool evicts written blocks and spills what
queries need beyond it to the workspace's spill folder, so the app stays small whatever the table size.
"""

from __future__ import annotations

import os
import re

from snowml_desktop.core.errors import InvalidInput

MIB = 2**20
GIB = 2**30
#: The default per core: DuckDB runs one thread per core, and a thread holding much less than this spills
#: most of what it touches.
DEFAULT_PER_CORE = 128 * MIB
#: The smallest default: scoring 10^8 rows then grows the app (buffer pool, workers, batches in flight) by
#: well under 1 GiB, and the analysis views of tens of millions of rows hardly spill (docs/benchmarks.md).
DEFAULT_FLOOR = 512 * MIB
#: Below this DuckDB's two threads cannot hold the blocks one query pins at a time and queries fail.
MIN_MEMORY_LIMIT = 256 * MIB

# DuckDB's own units: KB, MB, GB, TB are powers of 1000; KiB ... TiB powers of 1024.
_UNITS = {
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)
EXAMPLES = "e.g. 2GB, 1.5GiB or 512MiB"
_UNITS_SHOWN = ("MB", "GB", "MiB", "GiB")


def default_memory_limit(cpu_count: int | None = None) -> int:
    """The limit when none is set: :data:`DEFAULT_FLOOR`, or :data:`DEFAULT_PER_CORE` per core when more."""
    return max(DEFAULT_FLOOR, DEFAULT_PER_CORE * (cpu_count or os.cpu_count() or 1))


def parse_memory_limit(text: str, *, what: str = "The memory limit") -> int:
    """The number of bytes ``text`` means ("2GB", "512 MiB"; the unit is required). ``what`` names the
    setting it came from, for the message. Raises InvalidInput for text that is not a size or a size below
    :data:`MIN_MEMORY_LIMIT`."""
    match = _SIZE.match(str(text))
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise InvalidInput(
            f"{what} {str(text).strip()!r} is not a memory size.",
            hint=f"Give a number and a unit ({', '.join(_UNITS_SHOWN)}), {EXAMPLES}.",
        )
    size = int(float(match.group(1)) * unit)
    check_memory_limit(size, what=what)
    return size


def check_memory_limit(size: int, *, what: str = "The memory limit") -> None:
    """Raise InvalidInput when ``size`` bytes is below :data:`MIN_MEMORY_LIMIT`."""
    if size < MIN_MEMORY_LIMIT:
        raise InvalidInput(
            f"{what} of {describe(size)} is too little for the local warehouse.",
            hint=f"Give at least {describe(MIN_MEMORY_LIMIT)} ({EXAMPLES}); the default is "
            f"{describe(default_memory_limit())}.",
        )


def describe(size: int) -> str:
    """``size`` bytes for people, in the largest binary unit that keeps it at least 1: "1.5 GiB"."""
    for unit, scale in (("TiB", 2**40), ("GiB", GIB), ("MiB", MIB), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
