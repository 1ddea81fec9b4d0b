"""Offline assets of the atlas and safe embedding of data in pages.

Leaflet is vendored from its npm package (``static/leaflet/``, see ``static/README.md``) with the
atlas's own page scripts and style sheet; :func:`inline_assets` writes them *into* each page
(``<style>`` and ``<script>`` elements holding the files' text), so that a page is one
self-contained file: it opens copied alone, attached to an e-mail, from a network share, or in a
sandboxed ``<iframe>`` opened from disk (an opaque origin, which may load no sub-resource).
Nothing is loaded from a CDN. Data goes into a page as JSON inside
``<script type="application/json">``, serialised by :func:`script_json`, which escapes ``<``,
``>`` and ``&`` so that no input text can close the script element or open markup.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "CSS",
    "JS",
    "LEAFLET_VERSION",
    "STATIC",
    "escape_script_text",
    "html_script",
    "inline_assets",
    "script_json",
]

#: Version of the vendored Leaflet (npm package ``leaflet``).
LEAFLET_VERSION = "1.9.4"
#: Where the vendored files live in the package.
STATIC = Path(__file__).parent / "static"
#: Scripts of a page, in loading order (files of :data:`STATIC`): Leaflet, then the atlas's
#: modules (each a plain IIFE adding to ``window.cptsGeo``; ``atlas.js`` first).
JS: tuple[str, ...] = (
    "leaflet/leaflet.js",
    "atlas.js",
    "codec.js",
    "colours.js",
    "layers.js",
    "search.js",
    "card.js",
    "composer.js",
)
#: Style sheets of a page, in order.
CSS: tuple[str, ...] = ("leaflet/leaflet.css", "atlas.css")
_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_CLOSES = re.compile(r"</(script|style)|<!--", re.IGNORECASE)


def _read(name: str) -> str:
    source = STATIC / name
    if not source.is_file():
        raise FileNotFoundError(
            f"atlas asset {source} is missing: reinstall cpts_geo with its package data")
    text = source.read_text(encoding="utf-8")
    found = _CLOSES.search(text)
    if found:  # the element would end early (or switch the parser's state): refuse
        raise ValueError(f"atlas asset {source} holds {found.group(0)!r}, which cannot be "
                         "inlined in a page; write it another way (e.g. '<\\/script')")
    return text


@lru_cache(maxsize=1)
def inline_assets() -> str:
    """The ``<style>`` and ``<script>`` elements of a page, holding the vendored files.

    Returns
    -------
    str
        HTML for the page's ``<head>``: the style sheets of :data:`CSS`, then the scripts of
        :data:`JS`, each file's text inside its element (checked to hold no ``</script``,
        ``</style`` or ``<!--``).

    Raises
    ------
    FileNotFoundError
        When the package was installed without its static files.

    Examples
    --------
    >>> head = inline_assets()
    >>> head.count("<script>"), head.count("<style>"), "src=" in head.split("<script>")[0]
    (8, 2, False)
    >>> "Leaflet 1.9.4" in head and "window.cptsGeo" in head
    True
    """
    styles = "".join(f"<style>{_read(name)}</style>\n" for name in CSS)
    scripts = "".join(f"<script>{_read(name)}</script>\n" for name in JS)
    return styles + scripts


def html_script(markup: str, element_id: str) -> str:
    r"""``markup`` as the text of a ``<script type="text/html">``, parsed only once inserted.

    The page script inserts it later (``atlas.js``): markup built in Python, with every text
    from the inputs escaped, costs nothing to parse before the map is drawn.

    Raises
    ------
    ValueError
        When ``markup`` holds ``</script``, ``</style`` or ``<!--`` (escaped text never does).

    Examples
    --------
    >>> html_script("<p>Eze &amp; &lt;b&gt;</p>", "t")
    '<script type="text/html" id="t"><p>Eze &amp; &lt;b&gt;</p></script>'
    >>> html_script("<p></script></p>", "t")
    Traceback (most recent call last):
    ...
    ValueError: markup for #t holds '</script', which would end its element; escape its text
    """
    found = _CLOSES.search(markup)
    if found:
        raise ValueError(f"markup for #{element_id} holds {found.group(0)!r}, which would end "
                         "its element; escape its text")
    return f'<script type="text/html" id="{html.escape(element_id)}">{markup}</script>'


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
