"""scripts/screenshots.py drives the real app through the demo and writes a non-blank PNG of every panel."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The six panels and the connection manager; the script may add more (tabs of a panel).
REQUIRED = (
    "load", "analyze", "train", "catalog", "catalog-threshold", "inference", "runs", "runs-drift", "connections"
)
#: A grab of an empty window has a few dozen colours; a filled panel (text, charts) has hundreds.
MIN_COLOURS = 150
MAX_SHARE_OF_ONE_COLOUR = 0.9


@pytest.fixture
def screenshots(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    return importlib.import_module("screenshots")


def colour_counts(path: Path) -> Counter:
    """How often each colour occurs on a 3-pixel grid of the image."""
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull(), f"{path.name} is not a readable image"
    return Counter(image.pixel(x, y) for y in range(0, image.height(), 3) for x in range(0, image.width(), 3))


@pytest.mark.slow
@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note about dock size hints
def test_every_panel_is_captured_with_content(qapp, screenshots, tmp_path):
    out = tmp_path / "shots"
    assert screenshots.main(["--out", str(out)]) == 0

    written = sorted(path.stem for path in out.glob("*.png"))
    assert set(REQUIRED) <= set(written), f"missing: {sorted(set(REQUIRED) - set(written))}"
    for name in written:
        path = out / f"{name}.png"
        counts = colour_counts(path)
        total = sum(counts.values())
        assert len(counts) > MIN_COLOURS, f"{name}.png looks blank: {len(counts)} colours"
        assert counts.most_common(1)[0][1] / total < MAX_SHARE_OF_ONE_COLOUR, (
            f"{name}.png is mostly one colour"
        )
        if name != "connections":
            from PySide6.QtGui import QImage

            size = QImage(str(path)).size()
            expected = screenshots.SMALL_SIZE if name in screenshots.SMALL_SHOTS else screenshots.WINDOW_SIZE
            assert (size.width(), size.height()) == expected, name


def test_the_demo_never_touches_the_users_locations(screenshots, tmp_path, monkeypatch):
    """Inside the isolated environment every location points into the temporary folder; after it, the
    previous values are back."""
    import os

    import keyring

    monkeypatch.setenv("SNOWML_HOME", "/somewhere/of/the/user")
    before = keyring.get_keyring()
    with screenshots.isolated_environment(tmp_path):
        for name in (
            "SNOWML_HOME",
            "SNOWML_CONFIG_DIR",
            "SNOWFLAKE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
        ):
            assert Path(os.environ[name]).is_relative_to(tmp_path), name
        assert keyring.get_keyring() is not before
    assert os.environ["SNOWML_HOME"] == "/somewhere/of/the/user"
    assert keyring.get_keyring() is before


def test_readme_shows_the_committed_screenshots():
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"docs/screenshots/([\w-]+)\.png", readme))
    assert set(REQUIRED) <= shown, f"README lacks: {sorted(set(REQUIRED) - shown)}"
    missing = sorted(name for name in shown if not (REPO / "docs" / "screenshots" / f"{name}.png").is_file())
    assert not missing, (
        f"README shows screenshots that do not exist: {missing}; run python scripts/screenshots.py"
    )
