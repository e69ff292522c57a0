"""The packages the procedures and per-model UDFs run with: one consistent pin set out of the account's channel.

``INFORMATION_SCHEMA.PACKAGES`` lists, per Python runtime, the versions of each package in the account's
Anaconda channel (one row per package, version and runtime; https://docs.snowflake.com/en/sql-reference/info-schema/packages,
RUNTIME_VERSION column: https://docs.snowflake.com/en/release-notes/bcr-bundles/2023_04/bcr-1094). It does not
list what each version requires, so the requirements between the packages this app pins are kept here, in
:data:`CONSTRAINTS`, each with the published metadata it comes from; :func:`resolve_packages` picks the newest
combination that satisfies all of them.

cloudpickle is pinned too. Snowpark serializes a handler with the desktop's cloudpickle and, unless the package
list names cloudpickle, appends ``cloudpickle>=<desktop version>`` to every registration (snowpark-python
1.56.0, ``Session._get_req_identifiers_list`` called from ``Session._resolve_packages``), a requirement the
channel may not meet. Pinning it explicitly keeps Snowpark from adding its own, and the pin is chosen at or
above the desktop's version, which is what the appended requirement protects: a pickle written by a newer
cloudpickle may not load in an older one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from snowml_desktop.core.errors import EngineError

#: Packages the procedures and UDFs import (Anaconda channel names), in the order they are resolved: when two
#: combinations are possible, the one with the newer version of the earlier package wins.
REQUIRED_PACKAGES = (
    "cloudpickle",
    "snowflake-snowpark-python",
    "scikit-learn",
    "pandas",
    "numpy",
    "joblib",
    "optuna",
)
#: The oldest version of each the shipped core code supports (the same floors as pyproject.toml).
MIN_VERSIONS = {
    "snowflake-snowpark-python": "1.20",
    "scikit-learn": "1.3",
    "pandas": "2.0",
    "numpy": "1.24",
    "joblib": "1.3",
    "optuna": "3.5",
}


@dataclass(frozen=True)
class Constraint:
    """``package`` at a version in ``versions`` needs ``requires`` at a version in ``specifier``."""

    package: str
    versions: str
    requires: str
    specifier: str
    source: str


#: What the pinned packages need of each other (only pairs among REQUIRED_PACKAGES matter here).
CONSTRAINTS = (
    # The procedures read tables with DataFrame.to_pandas, which is Snowpark's "pandas" extra.
    Constraint(
        "snowflake-snowpark-python",
        "<1.53",
        "pandas",
        "<3.0.0",
        "snowflake-connector-python[pandas] (extra 'pandas' of snowpark-python setup.py up to v1.52.0)",
    ),
    Constraint(
        "snowflake-snowpark-python",
        ">=1.53",
        "pandas",
        "<3.0.0",
        "snowpark-python setup.py PANDAS_REQUIREMENTS (v1.53.0-v1.54.0), wheel METADATA 1.55.0 and 1.56.0",
    ),
    Constraint(
        "snowflake-snowpark-python",
        "<1.29",
        "cloudpickle",
        ">=1.6.0,<=2.2.1,!=2.1.0,!=2.2.0",
        "snowpark-python setup.py install_requires, v1.20.0-v1.28.0",
    ),
    Constraint(
        "snowflake-snowpark-python",
        ">=1.29,<1.38",
        "cloudpickle",
        ">=1.6.0,<=3.0.0,!=2.1.0,!=2.2.0",
        "snowpark-python setup.py install_requires, v1.29.0-v1.37.0",
    ),
    Constraint(
        "snowflake-snowpark-python",
        ">=1.38,<1.56",
        "cloudpickle",
        ">=1.6.0,<=3.1.1,!=2.1.0,!=2.2.0",
        "snowpark-python setup.py install_requires v1.38.0-v1.54.0, wheel METADATA 1.55.0",
    ),
    Constraint(
        "snowflake-snowpark-python",
        ">=1.56",
        "cloudpickle",
        ">=1.6.0,<=3.1.2,!=2.1.0,!=2.2.0",
        "snowpark-python 1.56.0 wheel METADATA",
    ),
    Constraint("pandas", ">=3", "numpy", ">=2.0.2", "pandas 3.1.1 wheel METADATA (Python < 3.14)"),
    Constraint("scikit-learn", ">=1.9", "joblib", ">=1.4.0", "scikit-learn 1.9.1 wheel METADATA"),
    Constraint("scikit-learn", ">=1.9", "numpy", ">=1.24.1", "scikit-learn 1.9.1 wheel METADATA"),
    Constraint("joblib", ">=1.6", "cloudpickle", ">=3.0", "joblib 1.6.0 wheel METADATA"),
)


@dataclass(frozen=True)
class PackageSet:
    runtime: str  # Python "3.11"
    versions: dict[str, str]  # package -> pinned version

    def pins(self) -> list[str]:
        return [f"{name}=={version}" for name, version in sorted(self.versions.items())]


class UnresolvablePackages(EngineError):
    """The channel lacks what the app needs; ``missing`` names each package and version range, e.g.
    ``cloudpickle>=3.1.2``."""

    def __init__(self, message: str, missing: Sequence[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.missing = list(missing)


_HINT = (
    "Ask an admin to accept the Anaconda terms (Admin > Billing & Terms), or run the app on a Python version "
    "Snowflake offers these packages for; the procedures and UDFs need them."
)


def this_runtime() -> str:
    """The Python runtime Snowpark registers procedures and UDFs for: the desktop's own."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def desktop_cloudpickle() -> str:
    """The cloudpickle version Snowpark pickles handlers with on this desktop."""
    import cloudpickle

    return cloudpickle.__version__


def channel_versions(rows: Iterable[dict[str, Any]], runtime: str) -> dict[str, list[Version]]:
    """Versions per package (lower-case name) in INFORMATION_SCHEMA.PACKAGES rows for ``runtime``, newest
    first. Rows of other runtimes and versions that are not PEP 440 are left out."""
    found: dict[str, set[Version]] = {}
    for row in rows:
        upper = {str(k).upper(): v for k, v in row.items()}
        if upper.get("RUNTIME_VERSION") not in (None, runtime):
            continue
        try:
            version = Version(str(upper["VERSION"]))
        except InvalidVersion:
            continue
        found.setdefault(str(upper["PACKAGE_NAME"]).lower(), set()).add(version)
    return {name: sorted(versions, reverse=True) for name, versions in found.items()}


def floors(cloudpickle_version: str) -> dict[str, SpecifierSet]:
    """What the app itself requires of each package (cloudpickle: at least the desktop's)."""
    specs = {name: SpecifierSet(f">={floor}") for name, floor in MIN_VERSIONS.items()}
    specs["cloudpickle"] = SpecifierSet(f">={cloudpickle_version}")
    return specs


def resolve_packages(
    rows: Iterable[dict[str, Any]], runtime: str | None = None, cloudpickle_version: str | None = None
) -> PackageSet:
    """The newest consistent pin set of :data:`REQUIRED_PACKAGES` in the channel ``rows``
    (INFORMATION_SCHEMA.PACKAGES: PACKAGE_NAME, VERSION, RUNTIME_VERSION) for ``runtime`` (default: this
    Python), meeting :data:`MIN_VERSIONS`, ``cloudpickle >= cloudpickle_version`` (default: the desktop's) and
    :data:`CONSTRAINTS`. Raises :class:`UnresolvablePackages` naming the package and version range missing."""
    runtime = runtime or this_runtime()
    cloudpickle_version = cloudpickle_version or desktop_cloudpickle()
    available = channel_versions(rows, runtime)
    wanted = floors(cloudpickle_version)
    candidates = {
        name: [
            v
            for v in available.get(name, [])
            if wanted.get(name, SpecifierSet()).contains(v, prereleases=True)
        ]
        for name in REQUIRED_PACKAGES
    }
    missing = [f"{name}{wanted.get(name, '')}" for name in REQUIRED_PACKAGES if not candidates[name]]
    if missing:
        newest = {name: available[name][0] for name in REQUIRED_PACKAGES if name in available}
        seen = "; ".join(
            f"newest {name} there is {newest[name]}"
            for name in REQUIRED_PACKAGES
            if name in newest and not candidates[name]
        )
        raise UnresolvablePackages(
            f"The account's Anaconda channel has no {', '.join(missing)} for Python {runtime}"
            + (f" ({seen})." if seen else "."),
            missing,
            _HINT,
        )
    search = _Search(candidates)
    chosen, _ = search.run({}, 0)
    if chosen is None:
        raise search.failure(runtime)
    return PackageSet(runtime, {name: str(chosen[name]) for name in REQUIRED_PACKAGES})


def _requirements(name: str, version: Version) -> list[Constraint]:
    return [c for c in CONSTRAINTS if c.package == name and SpecifierSet(c.versions).contains(version, True)]


def _conflicts(name: str, version: Version, chosen: dict[str, Version]) -> dict[str, str]:
    """The chosen packages ``name==version`` cannot join, each with the reason."""
    found: dict[str, str] = {}
    for other, other_version in chosen.items():
        for c in _requirements(other, other_version):
            if c.requires == name and not SpecifierSet(c.specifier).contains(version, True):
                found[other] = f"{other} {other_version} needs {name}{c.specifier} ({c.source})"
    for c in _requirements(name, version):
        if c.requires in chosen and not SpecifierSet(c.specifier).contains(chosen[c.requires], True):
            found[c.requires] = f"it needs {c.requires}{c.specifier} ({c.source})"
    return found


@dataclass
class _DeadEnd:
    name: str  # the package no candidate of which fits
    chosen: dict[str, Version]
    reasons: list[str]
    involved: set[str]  # the chosen packages that excluded its candidates


class _Search:
    """Depth-first over REQUIRED_PACKAGES, newest versions first, jumping back past packages a failure does
    not involve (conflict-directed backjumping, so a channel's many versions never multiply); the first dead end
    is kept to explain a failure."""

    def __init__(self, candidates: dict[str, list[Version]]) -> None:
        self.candidates = candidates
        self.dead_end: _DeadEnd | None = None

    def run(self, chosen: dict[str, Version], depth: int) -> tuple[dict[str, Version] | None, set[str]]:
        if depth == len(REQUIRED_PACKAGES):
            return chosen, set()
        name = REQUIRED_PACKAGES[depth]
        involved: set[str] = set()
        reasons: list[str] = []
        for version in self.candidates[name]:
            conflicts = _conflicts(name, version, chosen)
            if conflicts:
                involved |= set(conflicts)
                reasons += [f"{name} {version}: {reason}" for reason in conflicts.values()]
                continue
            found, below = self.run({**chosen, name: version}, depth + 1)
            if found is not None:
                return found, set()
            if name not in below:  # another version of this package cannot help
                return None, below
            involved |= below - {name}
        if reasons and self.dead_end is None:
            self.dead_end = _DeadEnd(name, dict(chosen), reasons, set(involved))
        return None, involved

    def failure(self, runtime: str) -> UnresolvablePackages:
        assert self.dead_end is not None  # every package has candidates, so a failure has reasons
        end = self.dead_end
        needed = SpecifierSet()
        for other, version in end.chosen.items():
            for c in _requirements(other, version):
                if c.requires == end.name:
                    needed &= SpecifierSet(c.specifier)
        given = ", ".join(f"{n}=={v}" for n, v in end.chosen.items() if n in end.involved)
        missing = f"{end.name}{needed}" + (f" that works with {given}" if given else "")
        return UnresolvablePackages(
            f"The account's Anaconda channel has no {missing} for Python {runtime}: "
            f"{'; '.join(end.reasons[:3])}.",
            [missing],
            _HINT,
        )
