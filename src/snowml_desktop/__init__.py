"""snowml-desktop: point-and-click machine learning on Snowflake data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("snowml-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
