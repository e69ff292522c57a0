"""The pin set for the procedures and UDFs, resolved from the account channel's rows
(INFORMATION_SCHEMA.PACKAGES: https://docs.snowflake.com/en/sql-reference/info-schema/packages, one row per
package, version and Python runtime: https://docs.snowflake.com/en/release-notes/bcr-bundles/2023_04/bcr-1094).

The channels here are made up of real package versions; what the versions need of each other is
``packages.CONSTRAINTS`` (cited there from the packages' published metadata)."""

from __future__ import annotations

import pytest

from snowml_desktop.engines.snowflake import packages
from snowml_desktop.engines.snowflake.packages import UnresolvablePackages, resolve_packages

RUNTIME = "3.11"
#: A channel where every package is new enough, for Python 3.11, plus rows of another runtime (ignored).
CHANNEL = {
    "cloudpickle": ["2.2.1", "3.0.0", "3.1.1", "3.1.2"],
    "snowflake-snowpark-python": ["1.20.0", "1.38.0", "1.54.0", "1.56.0"],
    "scikit-learn": ["1.3.0", "1.5.2", "1.10.1", "1.9.1"],
    "pandas": ["2.0.3", "2.2.3", "3.0.1"],
    "numpy": ["1.24.3", "1.26.4", "2.2.1"],
    "joblib": ["1.3.2", "1.4.2"],
    "optuna": ["3.5.0", "4.1.0"],
}


def rows(channel: dict[str, list[str]] = CHANNEL, runtime: str = RUNTIME) -> list[dict[str, str]]:
    found = [
        {"PACKAGE_NAME": name, "VERSION": version, "RUNTIME_VERSION": runtime}
        for name, versions in channel.items()
        for version in versions
    ]
    return found + [{"PACKAGE_NAME": "pandas", "VERSION": "9.0.0", "RUNTIME_VERSION": "3.8"}]


def without(name: str, *versions: str) -> dict[str, list[str]]:
    return {**CHANNEL, name: [v for v in CHANNEL[name] if v not in versions]}


def test_the_newest_consistent_set_is_pinned_cloudpickle_included() -> None:
    chosen = resolve_packages(rows(), RUNTIME, "3.1.2")
    assert chosen.runtime == RUNTIME
    assert chosen.versions == {
        "cloudpickle": "3.1.2",
        "snowflake-snowpark-python": "1.56.0",
        "scikit-learn": "1.10.1",  # numeric, not text, ordering
        "pandas": "2.2.3",  # Snowpark's pandas extra needs pandas<3: 3.0.1 is in the channel but not usable
        "numpy": "2.2.1",
        "joblib": "1.4.2",
        "optuna": "4.1.0",
    }
    assert "cloudpickle==3.1.2" in chosen.pins()


def test_cloudpickle_is_at_least_the_desktops_and_picks_a_snowpark_that_allows_it() -> None:
    # Snowpark 1.56.0 is the first to allow cloudpickle 3.1.2; with the desktop on 3.1.1 the newest still wins.
    assert resolve_packages(rows(), RUNTIME, "3.1.1").versions["cloudpickle"] == "3.1.2"
    older_desktop = resolve_packages(rows(without("snowflake-snowpark-python", "1.56.0")), RUNTIME, "3.0.0")
    assert older_desktop.versions["snowflake-snowpark-python"] == "1.54.0"
    assert older_desktop.versions["cloudpickle"] == "3.1.1"  # 3.1.2 is more than Snowpark 1.54.0 allows


def test_a_channel_without_the_desktops_cloudpickle_says_so() -> None:
    with pytest.raises(UnresolvablePackages) as raised:
        resolve_packages(rows(without("cloudpickle", "3.1.2")), RUNTIME, "3.1.2")
    assert raised.value.missing == ["cloudpickle>=3.1.2"]
    assert "has no cloudpickle>=3.1.2 for Python 3.11 (newest cloudpickle there is 3.1.1)" in str(
        raised.value
    )


def test_no_snowpark_allowing_the_desktops_cloudpickle_is_named_with_the_reason() -> None:
    with pytest.raises(UnresolvablePackages) as raised:
        resolve_packages(rows(without("snowflake-snowpark-python", "1.56.0")), RUNTIME, "3.1.2")
    assert raised.value.missing == ["snowflake-snowpark-python that works with cloudpickle==3.1.2"]
    message = str(raised.value)
    assert "snowflake-snowpark-python 1.54.0: it needs cloudpickle" in message and "<=3.1.1" in message


def test_only_pandas_3_available_is_reported_as_the_missing_pandas() -> None:
    channel = {**CHANNEL, "pandas": ["3.0.1"]}
    with pytest.raises(UnresolvablePackages) as raised:
        resolve_packages(rows(channel), RUNTIME, "3.1.2")
    assert raised.value.missing == ["pandas<3.0.0 that works with snowflake-snowpark-python==1.56.0"]


def test_a_missing_package_or_one_too_old_is_named() -> None:
    with pytest.raises(UnresolvablePackages, match=r"no optuna>=3\.5 for Python 3\.11") as raised:
        resolve_packages(rows({**CHANNEL, "optuna": []}), RUNTIME, "3.1.2")
    assert raised.value.missing == ["optuna>=3.5"]
    with pytest.raises(
        UnresolvablePackages, match=r"no pandas>=2\.0 for Python 3\.11 \(newest pandas there is 1\.5\.3\)"
    ):
        resolve_packages(rows({**CHANNEL, "pandas": ["1.5.3"]}), RUNTIME, "3.1.2")


def test_other_runtimes_are_ignored() -> None:
    with pytest.raises(UnresolvablePackages, match=r"for Python 3\.12"):
        resolve_packages(rows(), "3.12", "3.1.2")


def test_the_constraints_are_well_formed_and_cited() -> None:
    from packaging.specifiers import SpecifierSet

    for constraint in packages.CONSTRAINTS:
        assert (
            constraint.package in packages.REQUIRED_PACKAGES
            and constraint.requires in packages.REQUIRED_PACKAGES
        )
        SpecifierSet(constraint.versions), SpecifierSet(constraint.specifier)  # noqa: B018 - parse or raise
        assert constraint.source


def test_snowpark_adds_cloudpickle_only_when_the_packages_do_not_name_it() -> None:
    """Snowpark's own rule (Session._get_req_identifiers_list, called by _resolve_packages): the desktop's
    cloudpickle as a floor, unless the list has cloudpickle. The pin set names it, so nothing is added."""
    import cloudpickle
    from snowflake.snowpark import Session

    pinned = resolve_packages(rows(), RUNTIME, cloudpickle.__version__).pins()
    by_name = {p.split("==")[0]: p for p in pinned}
    assert Session._get_req_identifiers_list([cloudpickle], by_name) == []
    assert Session._get_req_identifiers_list([cloudpickle], {}) == [f"cloudpickle>={cloudpickle.__version__}"]


def test_a_large_channel_with_no_usable_pandas_fails_without_trying_every_combination() -> None:
    """A real channel lists dozens of versions of each package: the search jumps back past the packages a
    conflict does not involve instead of multiplying them (here 20^5 combinations would never finish)."""
    channel = {
        "cloudpickle": ["3.1.2"],
        "snowflake-snowpark-python": [f"1.{minor}.0" for minor in range(56, 76)],
        "scikit-learn": [f"1.{minor}.0" for minor in range(3, 9)] + [f"1.3.{p}" for p in range(1, 15)],
        "pandas": [f"3.{minor}.0" for minor in range(20)],
        "numpy": [f"2.{minor}.0" for minor in range(20)],
        "joblib": [f"1.{minor}.0" for minor in range(4, 24)],
        "optuna": [f"4.{minor}.0" for minor in range(20)],
    }
    with pytest.raises(UnresolvablePackages) as raised:
        resolve_packages(rows(channel), RUNTIME, "3.1.2")
    assert raised.value.missing == ["pandas<3.0.0 that works with snowflake-snowpark-python==1.75.0"]
