"""The version of the installed package, from its metadata (``0.0.0`` in a bare source tree)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("cpts_geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
