"""Names a package exports, imported on first use (:pep:`562`).

``cpts-geo check`` runs without pandas (:mod:`cpts_geo.analysis.check_fast`): importing a
package must not import every module of it. A package lists what it exports and where from;
``from cpts_geo.registry import read_registry`` imports :mod:`cpts_geo.registry.read` then.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, exporting ``exports`` lazily.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Each exported name and the module (relative to the package) that defines it.

    Examples
    --------
    >>> get, names = lazy_exports("cpts_geo.registry", {"tier": ".stages"})
    >>> get("tier")(50_000), "tier" in names()
    (2, True)
    >>> get("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'cpts_geo.registry' has no attribute 'nothing'
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # found at once the next time
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
