"""The installer recipes agree with each other and with the package: one version source, one name, one icon.

The Windows and macOS recipes cannot run here; these checks keep them consistent with the Linux build that CI runs.
"""

from __future__ import annotations

import configparser
import importlib
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import snowml_desktop

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RECIPES = [
    PACKAGING / "snowml.spec",
    PACKAGING / "build-linux.sh",
    PACKAGING / "ci-linux.sh",
    PACKAGING / "windows" / "snowml-desktop.iss",
    PACKAGING / "windows" / "build-windows.ps1",
    PACKAGING / "macos" / "build-macos.sh",
]
XCB_PLUGIN_NEEDS = {
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-xinerama0",
    "libxcb-shape0",
}


def test_one_version_source(capsys) -> None:
    from snowml_desktop import app

    metadata = version("snowml-desktop")
    assert snowml_desktop.__version__ == metadata
    out = subprocess.run(
        [sys.executable, "-m", "snowml_desktop.cli", "--version"], capture_output=True, text=True
    )
    assert out.stdout.strip() == f"snowml {metadata}"
    assert app.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"snowml-desktop {metadata}"
    # The About box shows the package's version, not a copy of it.
    window = (ROOT / "src" / "snowml_desktop" / "ui" / "main_window.py").read_text()
    assert "from snowml_desktop import __version__" in window and "{__version__}" in window
    for recipe in RECIPES:
        text = recipe.read_text()
        assert metadata not in text, (
            f"{recipe.name} hard-codes the version; read it from the package metadata"
        )
    for script in ("build-linux.sh", "windows/build-windows.ps1", "macos/build-macos.sh"):
        assert "version('snowml-desktop')" in (PACKAGING / script).read_text(), script
    spec = (PACKAGING / "snowml.spec").read_text()
    assert 'VERSION = version("snowml-desktop")' in spec
    assert '"CFBundleShortVersionString": VERSION' in spec and '"CFBundleVersion": VERSION' in spec
    assert "Version: $version" in (PACKAGING / "build-linux.sh").read_text()
    assert "CFBundleShortVersionString" in (PACKAGING / "macos" / "build-macos.sh").read_text()
    iss = (PACKAGING / "windows" / "snowml-desktop.iss").read_text()
    assert (
        "AppVersion={#AppVersion}" in iss and "#error" in iss
    )  # refuses to build without the metadata version
    assert '"/DAppVersion=$Version"' in (PACKAGING / "windows" / "build-windows.ps1").read_text()


def test_every_recipe_ships_the_same_bundle_and_icon() -> None:
    spec = (PACKAGING / "snowml.spec").read_text()
    assert 'name="snowml-desktop"' in spec and 'name="snowml"' in spec
    assert "freeze_support()" in (PACKAGING / "entry_gui.py").read_text()
    assert "freeze_support()" in (PACKAGING / "entry_cli.py").read_text()
    iss = (PACKAGING / "windows" / "snowml-desktop.iss").read_text()
    assert r'#define BundleDir "..\out\dist\snowml-desktop"' in iss
    assert '"snowml-desktop.exe"' in iss and '"snowml.exe"' in iss
    assert "PrivilegesRequired=lowest" in iss and "{uninstallexe}" in iss and "{group}" in iss
    for script in ("build-linux.sh", "windows/build-windows.ps1", "macos/build-macos.sh"):
        text = (PACKAGING / script).read_text()
        assert "make_icons.py" in text and "snowml.spec" in text, script
    icon = ROOT / "src" / "snowml_desktop" / "ui" / "resources" / "snowml-desktop.svg"
    assert icon.read_text().lstrip().startswith("<svg")
    assert "snowml-desktop.ico" in iss and "snowml-desktop.icns" in spec


def packaging_module(name: str, folder: Path = PACKAGING):
    """A helper module of the packaging scripts (they run as scripts, not as a package)."""
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


def test_every_icon_a_recipe_names_is_made_by_make_icons(qapp, tmp_path: Path) -> None:
    """One SVG source; make_icons.py renders what each installer references, under the names they use."""
    make_icons = packaging_module("make_icons")
    make_icons.render(tmp_path)
    made = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    linux = (PACKAGING / "build-linux.sh").read_text()
    iss = (PACKAGING / "windows" / "snowml-desktop.iss").read_text()
    macos = (PACKAGING / "macos" / "build-macos.sh").read_text()
    spec = (PACKAGING / "snowml.spec").read_text()
    assert "$out/icons/snowml-desktop.svg" in linux and "$out/icons/snowml-desktop-256.png" in linux
    assert {"snowml-desktop.svg", "snowml-desktop-256.png"} <= made
    assert r"SetupIconFile=..\out\icons\snowml-desktop.ico" in iss and "snowml-desktop.ico" in made
    # iconutil turns the .iconset into the .icns the spec gives the .app; it needs exactly these ten images.
    assert '"$out/icons/snowml-desktop.icns" "$out/icons/snowml-desktop.iconset"' in macos
    assert 'ICONS / "snowml-desktop.icns"' in spec and 'ICONS / "snowml-desktop.ico"' in spec
    iconset = {name for name in made if name.startswith("snowml-desktop.iconset/")}
    expected = {f"icon_{s}x{s}{x}.png" for s in (16, 32, 128, 256, 512) for x in ("", "@2x")}
    assert iconset == {f"snowml-desktop.iconset/{name}" for name in expected}


def test_the_spec_keeps_what_the_self_test_imports() -> None:
    """The frozen build's hidden imports come from the self-test's own lists, so the two cannot drift apart."""
    spec = (PACKAGING / "snowml.spec").read_text()
    assert "from snowml_desktop.selftest import KEYRING_MODULES, LIBRARY_MODULES, SNOWFLAKE_MODULES" in spec
    assert "list(SNOWFLAKE_MODULES)" in spec and "list(LIBRARY_MODULES)" in spec
    from snowml_desktop.selftest import LIBRARY_MODULES, SNOWFLAKE_MODULES

    assert {"snowflake.connector.snow_logging", "snowflake.connector.nanoarrow_arrow_iterator"} <= set(
        SNOWFLAKE_MODULES
    )
    start = spec.index("excludes = [")
    excluded = set(re.findall(r'"([\w.]+)"', spec[start : spec.index("\n]\n", start)]))
    needed = set(SNOWFLAKE_MODULES) | set(LIBRARY_MODULES)
    assert not {name for name in needed if any(name == e or name.startswith(e + ".") for e in excluded)}


def test_the_bundle_ships_the_sources_setup_zips_and_the_self_test_runs_that_zip() -> None:
    """A frozen build keeps bytecode only unless told otherwise; Snowflake setup zips sources (issue 9, defect 5)."""
    import inspect

    from snowml_desktop import selftest
    from snowml_desktop.engines.snowflake import setup

    spec = (PACKAGING / "snowml.spec").read_text()
    assert 'module_collection_mode={"snowml_desktop": "pyz+py"}' in spec
    package = Path(snowml_desktop.__file__).resolve().parent
    assert all(path.is_relative_to(package) for path in setup.code_files())
    checks = inspect.getsource(selftest._run_checks)
    assert "check_procedures_zip(root)" in checks and checks.index("check_procedures_zip") < checks.index("check_gui")


def test_desktop_entry_and_debian_dependencies() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in desktop entries
    entry.read(PACKAGING / "linux" / "snowml-desktop.desktop")
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "snowml-desktop" and section["Icon"] == "snowml-desktop"
    assert section["Type"] == "Application" and section["Terminal"] == "false"
    declared = {
        line.strip()
        for line in (PACKAGING / "linux" / "depends.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert declared >= XCB_PLUGIN_NEEDS
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", name) for name in declared)


def test_ci_runs_the_installed_self_test_in_a_real_x_window() -> None:
    ci = (PACKAGING / "ci-linux.sh").read_text()
    assert "dpkg -x" in ci and "--self-test" in ci and "xvfb-run" in ci and "QT_QPA_PLATFORM=xcb" in ci
    assert "packaging/linux/check_libs.py" in ci
    # The library check runs after Depends are installed and before the X window test.
    assert ci.index("apt-get install") < ci.index("check_libs.py") < ci.index("xvfb-run -a")
    assert "packaging/ci-linux.sh" in (ROOT / ".ci" / "run").read_text()


# Two build machines, as PyInstaller's analysis sees them: (bundle path, where the file was found). The second
# has what a desktop or ImageMagick brings along (GTK, libXcursor, libXrandr, libXrender, Kerberos): Qt's GTK theme
# plugin links them, so PyInstaller collects them although the spec drops the plugin itself.
SITE = Path("/build/venv/lib/python3.11/site-packages")
STDLIB = Path("/build/python/lib/python3.11")
SYSTEM = Path("/usr/lib/x86_64-linux-gnu")
FROM_PYTHON = [
    ("PySide6/Qt/lib/libQt6Core.so.6", SITE / "PySide6/Qt/lib/libQt6Core.so.6"),
    ("PySide6/Qt/lib/libQt6XcbQpa.so.6", SITE / "PySide6/Qt/lib/libQt6XcbQpa.so.6"),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", SITE / "PySide6/Qt/plugins/platforms/libqxcb.so"),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", SITE / "PySide6/Qt/plugins/platformthemes/libqgtk3.so"),
    ("PySide6/Qt/lib/libQt6Network.so.6", SITE / "PySide6/Qt/lib/libQt6Network.so.6"),
    ("numpy.libs/libscipy_openblas64_-32a4b2a6.so", SITE / "numpy.libs/libscipy_openblas64_-32a4b2a6.so"),
    ("python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", STDLIB / "lib-dynload/_ssl.cpython-311.so"),
    ("libpython3.11.so.1.0", Path("/build/python/lib/libpython3.11.so.1.0")),
]
PLAIN_MACHINE = FROM_PYTHON + [
    (name, SYSTEM / name)
    for name in (
        "libssl.so.3", "libcrypto.so.3", "libffi.so.8", "libz.so.1", "libstdc++.so.6", "libgcc_s.so.1",
        "libxcb.so.1", "libX11.so.6", "libxkbcommon-x11.so.0", "libfontconfig.so.1", "libglib-2.0.so.0",
        "libzstd.so.1", "libcairo.so.2", "libpango-1.0.so.0", "libexpat.so.1",
    )
]
MACHINE_WITH_EXTRAS = PLAIN_MACHINE + [
    (name, SYSTEM / name)
    for name in (
        "libgtk-3.so.0", "libgdk-3.so.0", "libXcursor.so.1", "libXrandr.so.2", "libXrender.so.1", "libXi.so.6",
        "libepoxy.so.0", "libkrb5.so.3", "libgssapi_krb5.so.2",
    )
]


def shipped(toc: list[tuple[str, Path]], platform: str = "linux") -> set[str]:
    binaries = packaging_module("bundled_binaries")
    return {dest for dest, source in toc if binaries.keep(dest, str(source), (SITE, STDLIB), platform)}


def test_the_bundle_is_the_same_on_a_build_machine_with_extra_libraries() -> None:
    """The system libraries a build machine happens to have never reach the bundle: only Python's runtime ships
    from the system, everything else comes from the .deb's Depends."""
    assert shipped(MACHINE_WITH_EXTRAS) == shipped(PLAIN_MACHINE) == {
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
        "python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
        "libpython3.11.so.1.0",
        "libssl.so.3",
        "libcrypto.so.3",
        "libffi.so.8",
        "libexpat.so.1",
        "libz.so.1",
        "libstdc++.so.6",
        "libgcc_s.so.1",
    }
    # Elsewhere PyInstaller's own rules decide what comes from the system; only the unused Qt parts are dropped.
    assert shipped(MACHINE_WITH_EXTRAS, "darwin") == {dest for dest, _ in MACHINE_WITH_EXTRAS} - {
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/lib/libQt6Network.so.6",
    }


def test_the_running_pythons_own_files_count_as_python_environment() -> None:
    import _ctypes

    import PySide6

    binaries = packaging_module("bundled_binaries")
    environment = binaries.python_environment()
    qt_core = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libQt6Core.so*"))
    for dest, source in (
        ("PySide6/Qt/lib/libQt6Core.so.6", qt_core),  # a wheel's library
        ("python3.11/lib-dynload/_ctypes.so", Path(_ctypes.__file__)),  # a standard library extension
    ):
        assert binaries.keep(dest, str(source), environment, "linux"), source
    assert not binaries.keep("libXcursor.so.1", str(SYSTEM / "libXcursor.so.1"), environment, "linux")


def test_the_library_check_fails_a_bundle_that_needs_what_depends_do_not_give(tmp_path: Path) -> None:
    """check_libs.py on the installed tree, with ldd's and dpkg's answers as on two machines: the bundle of the
    plain machine passes; one with libXcursor bundled from a machine that had it needs libXrender, which no
    declared package provides, and fails naming the library, the package and who needs it."""
    check_libs = packaging_module("check_libs", PACKAGING / "linux")
    bundle = tmp_path / "opt" / "snowml-desktop"
    internal = bundle / "_internal"
    declared = {
        line.strip()
        for line in (PACKAGING / "linux" / "depends.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    packages = {
        "/usr/lib/x86_64-linux-gnu/libxcb.so.1": "libxcb1",
        "/usr/lib/x86_64-linux-gnu/libX11.so.6": "libx11-6",
        "/usr/lib/x86_64-linux-gnu/libXrender.so.1": "libxrender1",
    }

    def owners(paths: set[str]) -> dict[str, str | None]:  # dpkg -S on the build machine
        return {path: packages.get(path) for path in paths}

    plain = {
        internal / check_libs.XCB_PLUGIN[0]: {
            "libQt6XcbQpa.so.6": str(internal / "libQt6XcbQpa.so.6"),
            "libxcb.so.1": "/usr/lib/x86_64-linux-gnu/libxcb.so.1",
        },
        internal / check_libs.XCB_PLUGIN[1]: {"libX11.so.6": "/usr/lib/x86_64-linux-gnu/libX11.so.6"},
    }
    assert check_libs.problems(tmp_path, bundle, plain, owners, declared) == ([], 2)

    with_extras = plain | {
        internal / "libXcursor.so.1": {
            "libXrender.so.1": "/usr/lib/x86_64-linux-gnu/libXrender.so.1",
            "libX11.so.6": "/usr/lib/x86_64-linux-gnu/libX11.so.6",
        }
    }
    found, _ = check_libs.problems(tmp_path, bundle, with_extras, owners, declared)
    assert found == [
        "/usr/lib/x86_64-linux-gnu/libXrender.so.1 comes from libxrender1, which the .deb does not depend on "
        "(needed by libXcursor.so.1)"
    ]

    # A target without a Qt dependency, and a bundle without the xcb plugin, are named too.
    broken = {internal / check_libs.XCB_PLUGIN[1]: {"libxcb-cursor.so.0": None}}
    found, _ = check_libs.problems(tmp_path, bundle, broken, owners, declared)
    assert found == [
        f"missing from the bundle: opt/snowml-desktop/_internal/{check_libs.XCB_PLUGIN[0]}",
        f"opt/snowml-desktop/_internal/{check_libs.XCB_PLUGIN[1]}: libxcb-cursor.so.0 not found",
    ]


def test_the_spec_filters_binaries_with_the_tested_rules() -> None:
    spec = (PACKAGING / "snowml.spec").read_text()
    assert "import bundled_binaries" in spec
    assert (
        "analysis.binaries = [b for b in analysis.binaries if bundled_binaries.keep(b[0], b[1], PYTHON_ENVIRONMENT)]"
        in spec
    )
    assert "PYTHON_ENVIRONMENT = bundled_binaries.python_environment()" in spec
