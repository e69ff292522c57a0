"""snowml-desktop: point-and-click machine learning on Snowflake data."""

from importlib.metadata import PackageNotFoundError, version

try:
    # Written only into the procedures' code zip (engines/snowflake/setup.py): inside Snowflake the package
    # has no installed metadata, and the version tags every query a procedure sends.
    from snowml_desktop._version import __version__
except ImportError:
    try:
        __version__ = version("snowml-desktop")
    except PackageNotFoundError:  # running from a source tree that was never installed
        __version__ = "0+unknown"
