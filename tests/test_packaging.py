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
    "libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
    "libxcb-render-util0", "libxcb-xinerama0", "libxcb-shape0",
}


def test_one_version_source() -> None:
    metadata = version("snowml-desktop")
    assert snowml_desktop.__version__ == metadata
    out = subprocess.run([sys.executable, "-m", "snowml_desktop.cli", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"snowml {metadata}"
    for recipe in RECIPES:
        text = recipe.read_text()
        assert metadata not in text, f"{recipe.name} hard-codes the version; read it from the package metadata"
    for script in ("build-linux.sh", "windows/build-windows.ps1", "macos/build-macos.sh"):
        assert "version('snowml-desktop')" in (PACKAGING / script).read_text(), script
    iss = (PACKAGING / "windows" / "snowml-desktop.iss").read_text()
    assert "AppVersion={#AppVersion}" in iss and "#error" in iss  # refuses to build without the metadata version
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


def test_desktop_entry_and_debian_dependencies() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in desktop entries
    entry.read(PACKAGING / "linux" / "snowml-desktop.desktop")
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "snowml-desktop" and section["Icon"] == "snowml-desktop"
    assert section["Type"] == "Application" and section["Terminal"] == "false"
    declared = {
        line.strip() for line in (PACKAGING / "linux" / "depends.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert declared >= XCB_PLUGIN_NEEDS
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", name) for name in declared)


def test_ci_runs_the_installed_self_test_in_a_real_x_window() -> None:
    ci = (PACKAGING / "ci-linux.sh").read_text()
    assert "dpkg -x" in ci and "--self-test" in ci and "xvfb-run" in ci and "QT_QPA_PLATFORM=xcb" in ci
    assert "packaging/ci-linux.sh" in (ROOT / ".ci" / "run").read_text()
