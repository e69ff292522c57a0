"""Memory sizes as people write them, for the local warehouse's memory limit."""

from __future__ import annotations

import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.memory import (
    MIN_MEMORY_LIMIT,
    default_memory_limit,
    describe,
    parse_memory_limit,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2GB", 2 * 10**9),
        ("2 gb", 2 * 10**9),
        ("1.5GiB", 3 * 2**29),
        (" 512 MiB ", 512 * 2**20),
        ("300MB", 300 * 10**6),
        ("1TiB", 2**40),
    ],
)
def test_sizes_in_duckdbs_units(text, size):
    assert parse_memory_limit(text) == size


@pytest.mark.parametrize("text", ["", "lots", "2", "2 parsecs", "GB", "-1GB", "1,5GB", "2GB extra"])
def test_text_that_is_not_a_size_is_refused_saying_how_to_write_one(text):
    with pytest.raises(InvalidInput) as caught:
        parse_memory_limit(text, what="--memory-limit")
    message = str(caught.value)
    assert message.startswith(f"--memory-limit {text.strip()!r} is not a memory size.")
    assert "e.g. 2GB" in message


def test_a_limit_too_small_for_duckdb_is_refused_naming_the_minimum_and_default():
    assert parse_memory_limit("256MiB") == MIN_MEMORY_LIMIT
    with pytest.raises(InvalidInput) as caught:
        parse_memory_limit("255MiB")
    message = str(caught.value)
    assert "255 MiB is too little" in message
    assert f"at least {describe(MIN_MEMORY_LIMIT)}" in message and describe(default_memory_limit()) in message


def test_the_default_is_512_mib_or_128_mib_per_core_when_more():
    assert default_memory_limit(1) == default_memory_limit(4) == 512 * 2**20
    assert default_memory_limit(16) == 2 * 2**30


def test_describe_uses_binary_units():
    assert describe(3 * 2**29) == "1.5 GiB"
    assert describe(256 * 2**20) == "256 MiB"
    assert describe(100) == "100 bytes"
