"""The version of the installed package, and a fingerprint of its code.

``__version__`` comes from the package metadata (``0.0.0`` in a bare source tree).
:func:`code_fingerprint` digests the package's own source files: the caches of derived results
(validated registries, analyses) are keyed by it, so that a changed tool never reads a result
an older one computed, even between two releases.
"""

import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["__version__", "code_fingerprint"]

try:
    __version__ = version("cpts_geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 (40 hex digits) of the package version and of every source file of the package.

    Examples
    --------
    >>> len(code_fingerprint()), code_fingerprint() == code_fingerprint()
    (40, True)
    """
    root = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:40]
