"""The installer recipes agree with each other and with the package: one version source, one name, one icon.

The Windows and macOS recipes cannot run here; these checks keep them consistent with the Linux build that CI runs.
"""

from __future__ import annotations

import configparser
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


def test_every_icon_a_recipe_names_is_made_by_make_icons(qapp, tmp_path: Path) -> None:
    """One SVG source; make_icons.py renders what each installer references, under the names they use."""
    sys.path.insert(0, str(PACKAGING))
    try:
        import make_icons
    finally:
        sys.path.remove(str(PACKAGING))
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
    excluded = set(re.findall(r'"([\w.]+)"', spec[spec.index("excludes = [") : spec.index("DROP_BINARIES")]))
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
