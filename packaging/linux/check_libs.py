"""Check that an installed bundle's shared libraries resolve, and that what the system provides is declared.

Usage: python packaging/linux/check_libs.py INSTALL_ROOT DEB. Runs ``ldd`` on every ELF file of the bundle in
INSTALL_ROOT/opt/snowml-desktop the way the frozen app loads them (the bundle's _internal folder first), then:

- fails when any library is "not found" (the Qt xcb platform plugin's are listed first: a missing one is what
  "Could not load the Qt platform plugin xcb" means);
- fails when a library comes from a system package outside the .deb's Depends and their own dependencies, so a
  machine that happens to have extra libraries installed cannot hide an incomplete Depends.

Needs Debian's dpkg and apt-cache. Prints one line per problem and a summary; exits 0 or 1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

XCB_PLUGIN = ("PySide6/Qt/plugins/platforms/libqxcb.so", "libQt6XcbQpa.so.6")
LDD_LINE = re.compile(r"^\s*(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))")


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == b"\x7fELF"
    except OSError:
        return False


def resolved(path: Path, internal: Path) -> dict[str, str | None]:
    """soname -> the file it resolves to (None: not found), as the app's loader would see it."""
    env = {"LD_LIBRARY_PATH": str(internal), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
    found: dict[str, str | None] = {}
    for line in out.splitlines():
        match = LDD_LINE.match(line)
        if match:
            found[match.group(1)] = None if match.group(2) == "not found" else match.group(3)
    return found


def depends_closure(deb: Path) -> set[str]:
    """The .deb's Depends and everything they depend on, recursively (package names without architecture)."""
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    )
    declared = [re.sub(r"\s*\(.*\)", "", part).strip() for part in field.stdout.split(",") if part.strip()]
    tree = subprocess.run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            *declared,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {
        line.strip().split(":")[0] for line in tree.stdout.splitlines() if line and not line[0].isspace()
    }
    return names | set(declared)


def owners(paths: set[str]) -> dict[str, str | None]:
    """System file -> the package that installed it (tries the /lib and /usr/lib spellings of merged-/usr)."""
    result: dict[str, str | None] = {}
    for path in sorted(paths):
        candidates = [path, str(Path(path).resolve())]
        candidates += [
            c.replace("/usr/lib/", "/lib/", 1)
            if c.startswith("/usr/lib/")
            else c.replace("/lib/", "/usr/lib/", 1)
            for c in list(candidates)
        ]
        result[path] = None
        for candidate in dict.fromkeys(candidates):
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if out.returncode == 0:
                result[path] = out.stdout.split(":", 1)[0].split(",")[0].strip()
                break
    return result


def problems(
    root: Path,
    bundle: Path,
    resolutions: dict[Path, dict[str, str | None]],
    owner: Callable[[set[str]], dict[str, str | None]],
    allowed: set[str],
) -> tuple[list[str], int]:
    """What is wrong with the installed bundle, given each ELF file's resolved libraries (``resolved``), who owns a
    system file (``owners``) and the packages the .deb may take libraries from (``depends_closure``); and how many
    system libraries it uses."""
    found: list[str] = [
        f"missing from the bundle: {plugin.relative_to(root)}"
        for plugin in (bundle / "_internal" / name for name in XCB_PLUGIN)
        if plugin not in resolutions
    ]
    system: dict[str, set[str]] = {}
    for path, libraries in resolutions.items():
        for soname, target in libraries.items():
            if target is None:
                found.append(f"{path.relative_to(root)}: {soname} not found")
            elif not Path(target).resolve().is_relative_to(bundle.resolve()):
                system.setdefault(target, set()).add(path.name)
    for target, package in owner(set(system)).items():
        users = ", ".join(sorted(system[target])[:3])
        if package is None:
            found.append(f"{target} (needed by {users}) belongs to no package")
        elif package not in allowed:
            found.append(f"{target} comes from {package}, which the .deb does not depend on (needed by {users})")
    return list(dict.fromkeys(found)), len(system)


def main(root: Path, deb: Path) -> int:
    bundle = root / "opt" / "snowml-desktop"
    internal = bundle / "_internal"
    files = sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))
    xcb = [internal / name for name in XCB_PLUGIN if (internal / name).exists()]
    resolutions = {path: resolved(path, internal) for path in [*xcb, *files]}
    found, system = problems(root, bundle, resolutions, owners, depends_closure(deb))
    for problem in found:
        print(problem)
    if found:
        print(f"shared libraries: FAILED: {len(found)} problem(s)")
    else:
        print(f"shared libraries: ok: {len(files)} ELF files, {system} system libraries, all from Depends")
    return 1 if found else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
