"""Offline assets of the atlas and safe embedding of data in pages.

Leaflet is vendored from its npm package (``static/leaflet/``, see ``static/README.md``) with the
atlas's own ``atlas.js`` and ``atlas.css``; :func:`copy_static` ships them beside the pages in
``lib/``, which the pages reference relatively: nothing is loaded from a CDN. Data goes into a
page as JSON inside ``<script type="application/json">``, serialised by :func:`script_json`, which
escapes ``<``, ``>`` and ``&`` so that no input text can close the script element or open markup.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "CSS",
    "JS",
    "LEAFLET_VERSION",
    "LIB",
    "STATIC",
    "copy_static",
    "escape_script_text",
    "script_json",
]

#: Version of the vendored Leaflet (npm package ``leaflet``).
LEAFLET_VERSION = "1.9.4"
#: Where the vendored files live in the package.
STATIC = Path(__file__).parent / "static"
#: Name of the directory written beside the pages.
LIB = "lib"
#: Scripts of a page, relative to the page, in loading order.
JS: tuple[tuple[str, str], ...] = (
    ("leaflet", f"{LIB}/leaflet/leaflet.js"),
    ("cpts_atlas", f"{LIB}/atlas.js"),
)
#: Style sheets of a page, relative to the page.
CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", f"{LIB}/leaflet/leaflet.css"),
    ("cpts_atlas_css", f"{LIB}/atlas.css"),
)
_FILES = (
    "atlas.js",
    "atlas.css",
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/LICENSE",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
)
_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def copy_static(directory: Path) -> list[Path]:
    """Copy Leaflet and the atlas's scripts into ``directory/lib``.

    Parameters
    ----------
    directory
        The atlas directory (the pages' directory).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileNotFoundError
        When the package was installed without its static files.

    Examples
    --------
    >>> files = copy_static(tmp)
    >>> sorted(p.name for p in files)[:3]
    ['LICENSE', 'atlas.css', 'atlas.js']
    >>> (tmp / "lib" / "atlas.js").is_file()
    True
    """
    written = []
    for name in _FILES:
        source = STATIC / name
        if not source.is_file():
            raise FileNotFoundError(
                f"atlas asset {source} is missing: reinstall cpts_geo with its package data")
        target = Path(directory) / LIB / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def escape_script_text(text: str) -> str:
    r"""Escape JSON text for a ``<script>`` element: ``<``, ``>``, ``&``, U+2028 and U+2029.

    The result is still valid JSON (and JavaScript) meaning the same thing.

    Examples
    --------
    >>> escape_script_text('{"n":"</script><img src=x>"}')
    '{"n":"\\u003c/script\\u003e\\u003cimg src=x\\u003e"}'
    """
    for char, repl in _ESCAPES.items():
        if char in text:
            text = text.replace(char, repl)
    return text


def script_json(value: Any) -> str:
    r"""Compact JSON of ``value``, safe inside a ``<script>`` element of an HTML page.

    Examples
    --------
    >>> script_json({"nom": "<b>Été</b>", "n": 3})
    '{"nom":"\\u003cb\\u003eÉté\\u003c/b\\u003e","n":3}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return escape_script_text(text)
