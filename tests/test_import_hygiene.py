"""Layering that static contracts cannot see: deferred imports. Run in a clean interpreter."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_core_and_local_engine_import_no_qt_and_no_snowpark() -> None:
    loaded = _modules_after(
        "import snowml_desktop.core.training, snowml_desktop.core.scoring, snowml_desktop.engines.local.engine"
    )
    assert "PySide6" not in loaded
    assert "pyqtgraph" not in loaded
    assert "snowflake.snowpark" not in loaded


def test_opening_the_local_engine_does_not_import_snowpark(tmp_path) -> None:
    loaded = _modules_after(
        f"from snowml_desktop.engines import open_engine\ne = open_engine(None, workspace=r'{tmp_path}')\ne.close()"
    )
    assert "snowflake.snowpark" not in loaded and "PySide6" not in loaded


def test_main_window_module_imports_no_heavy_libraries() -> None:
    loaded = _modules_after("import snowml_desktop.ui.main_window")
    for heavy in ("sklearn", "duckdb", "snowflake.snowpark", "pandas"):
        assert heavy not in loaded, f"{heavy} is imported at ui start-up"
