"""Which shared libraries and Qt plugins the PyInstaller bundle ships (used by snowml.spec).

The bundle's contents must not depend on what the build machine happens to have installed. PyInstaller collects
every library that a collected binary links to, wherever it finds it, including the libraries of plugins the spec
drops afterwards: Qt's GTK platform theme alone pulls in GTK and with it libXcursor, libXrandr and libXrender when
the build machine has them. So on Linux a library from outside the Python environment ships only when it belongs
to Python's own runtime (``PYTHON_RUNTIME``); every other one comes from the target system through the .deb's
Depends (packaging/linux/depends.txt), which packaging/linux/check_libs.py verifies on the installed package.
"""

from __future__ import annotations

import site
import sys
import sysconfig
from pathlib import Path, PurePath

# Shared libraries pulled in with pyarrow/Qt that nothing the app does loads (libarrow_substrait stays: every
# pyarrow extension links it).
DROP_BINARIES = (
    "libarrow_flight", "libgandiva", "libQt6Quick", "libQt6Qml", "libQt6Pdf",
    "libQt6VirtualKeyboard", "libQt6Designer", "libQt6WebEngine", "libQt6Multimedia", "libQt6Sql",
    "libQt6Quick3D", "libQt6ShaderTools", "libQt6Charts", "libQt6Graphs", "libarrow_s3", "libarrow_python_flight",
    "libQt6Network", "libQt6WaylandClient", "libQt6WlShellIntegration", "libQt6EglFS", "libQt6EglFs",
)
# Qt plugins for what the app does not run on or use: only the X11 (xcb) and offscreen platforms ship (Wayland
# desktops run it through XWayland); no GTK/portal themes, embedded-device input, or network plugins.
DROP_PLUGINS = (
    "platforms/libqeglfs", "platforms/libqlinuxfb", "platforms/libqminimalegl", "platforms/libqvnc",
    "platforms/libqvkkhrdisplay", "platforms/libqwayland", "platforms/libqminimal.",
    "platformthemes/", "wayland-", "egldeviceintegrations/", "generic/", "networkinformation/", "tls/",
)
# The system libraries that ship: those Python's standard library modules link (ssl, sqlite3, ctypes, readline,
# the compressors) and the C++ runtime of the wheels' compiled code, as PyInstaller ships them by default. They
# are tied to the Python build, not to the desktop. Every other system library (X11/xcb, OpenGL/EGL, fontconfig,
# GLib, D-Bus, zstd, ...) must match the target's display server, drivers and fonts and comes from Depends.
PYTHON_RUNTIME = (
    "libpython3", "libffi.", "libz.", "libbz2.", "liblzma.", "libexpat.", "libuuid.", "libssl.", "libcrypto.",
    "libsqlite3.", "libreadline.", "libtinfo.", "libncursesw.", "libmpdec.", "libstdc++.", "libgcc_s.",
)


def python_environment() -> tuple[Path, ...]:
    """The folders of the running Python environment: its standard library (extension modules included) and its
    site-packages, where the wheels keep their own libraries (PySide6/Qt/lib, numpy.libs, pyarrow)."""
    paths = sysconfig.get_paths()
    folders = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    folders += [*site.getsitepackages(), site.getusersitepackages()]
    return tuple(dict.fromkeys(Path(folder).resolve() for folder in folders))


def keep(dest: str, source: str, environment: tuple[Path, ...], platform: str = sys.platform) -> bool:
    """Whether the binary PyInstaller would put at ``dest`` (found at ``source``) ships in the bundle."""
    dest_path = PurePath(dest).as_posix().replace("\\", "/")
    name = dest_path.rsplit("/", 1)[-1]
    if name.startswith(DROP_BINARIES):
        return False
    if "/plugins/" in dest_path and any(plugin in dest_path for plugin in DROP_PLUGINS):
        return False
    if not platform.startswith("linux"):
        return True
    found = Path(source).resolve()
    return any(found.is_relative_to(folder) for folder in environment) or name.startswith(PYTHON_RUNTIME)
