"""Ready-to-paste ``<iframe>`` snippets to embed the atlas pages in an intranet or CMS page.

Each snippet is a responsive frame (full width, 4:3, at most ``height`` pixels tall, never
below 320) pointing at the page by a **relative** address, so it works wherever the atlas
directory is published beside the host page. The frame is sandboxed to run scripts only (the
maps need Leaflet; no same-origin access, forms, pop-ups or top navigation), loads lazily, and
has a French ``title`` for screen readers. Everything inserted is HTML-escaped.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

__all__ = ["ASPECT_RATIO", "MIN_HEIGHT", "embed_snippet", "write_embed_snippets"]

#: Width / height of the embedded frame (the maps are landscape).
ASPECT_RATIO: tuple[int, int] = (4, 3)
#: Smallest height of the frame in pixels (phones), whatever ``height`` is.
MIN_HEIGHT = 320

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _relative_src(page_name: str) -> str:
    """Percent-encode a relative page address; refuse absolute URLs and paths."""
    name = str(page_name).replace("\\", "/").strip()
    parts = urlsplit(name)
    if not name or parts.scheme or parts.netloc or name.startswith("/"):
        raise ValueError(f"`page_name` was {page_name!r} but is expected to be a relative "
                         "path to an atlas page, such as '93.html'")
    return quote(name, safe="/")


def embed_snippet(page_name: str, title: str, height: int = 600) -> str:
    """A ready-to-paste, responsive ``<iframe>`` snippet for one atlas page.

    Parameters
    ----------
    page_name
        Address of the page relative to the host page, e.g. ``"93.html"`` or
        ``"atlas/93.html"``; percent-encoded in the snippet.
    title
        French title of the frame (read by screen readers), e.g. ``"Atlas des CPTS –
        Provence-Alpes-Côte d'Azur"``; HTML-escaped.
    height
        Largest height of the frame in pixels; the frame is as wide as its container, 4:3,
        and never lower than :data:`MIN_HEIGHT`.

    Returns
    -------
    str
        The HTML snippet: a ``<div>`` holding the ``<iframe>``, ending with a newline.

    Raises
    ------
    ValueError
        When ``page_name`` is an absolute URL or path, or ``height`` is not a positive integer.

    Examples
    --------
    >>> snippet = embed_snippet("93.html", "Atlas des CPTS – Provence-Alpes-Côte d'Azur")
    >>> 'src="93.html"' in snippet, 'sandbox="allow-scripts"' in snippet
    (True, True)
    >>> "d&#x27;Azur" in snippet
    True
    """
    if isinstance(height, bool) or not isinstance(height, int) or height <= 0:
        raise ValueError(f"`height` was {height!r} but is expected to be a positive number "
                         "of pixels, e.g. 600")
    src = html.escape(_relative_src(page_name), quote=True)
    label = html.escape(" ".join(str(title).split()), quote=True)
    w, h = ASPECT_RATIO
    low = min(MIN_HEIGHT, height)
    return (
        f'<div class="cpts-geo-embed" style="width:100%;max-width:100%;">\n'
        f'  <iframe src="{src}" title="{label}" width="100%" height="{height}"'
        f' loading="lazy" sandbox="allow-scripts" referrerpolicy="no-referrer"'
        f' style="display:block;width:100%;height:auto;aspect-ratio:{w} / {h};'
        f'max-height:{height}px;min-height:{low}px;border:0;"></iframe>\n'
        f"</div>\n"
    )


def _page_title(page: Path) -> str:
    """The ``<title>`` of an HTML page (unescaped), or a French default from its name."""
    text = page.read_text(encoding="utf-8", errors="replace")
    match = _TITLE.search(text)
    if match:
        found = " ".join(html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())
        if found:
            return found
    if page.stem == "index":
        return "Atlas des CPTS"
    return f"Atlas des CPTS – {page.stem}"


def _write_text(path: Path, text: str) -> None:
    from ..atomic import atomic_write

    with atomic_write(path, "w") as fh:
        fh.write(text)


def write_embed_snippets(directory: Path, pages: list[Path]) -> list[Path]:
    """Write ``<stem>.embed.html`` in ``directory`` for each HTML page: its ``<iframe>`` snippet.

    The frame's title is the page's own ``<title>``; its address is the page's path relative
    to ``directory`` (so a snippet pasted into a page published beside the atlas works as is).
    Each file is written to a temporary file and moved into place.

    Parameters
    ----------
    directory
        Where to write the snippets (created if missing); usually the atlas directory.
    pages
        The HTML pages to embed (they must exist).

    Returns
    -------
    list of Path
        The snippet files, in the order of ``pages``.

    Raises
    ------
    FileNotFoundError
        When a page does not exist.

    Examples
    --------
    >>> _ = (tmp / "93.html").write_text("<title>Atlas des CPTS – PACA</title>", encoding="utf-8")
    >>> [p.name for p in write_embed_snippets(tmp, [tmp / "93.html"])]
    ['93.embed.html']
    >>> 'title="Atlas des CPTS – PACA"' in (tmp / "93.embed.html").read_text(encoding="utf-8")
    True
    """
    directory = Path(directory)
    missing = [str(p) for p in pages if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"atlas page(s) not found: {', '.join(missing)}; write the "
                                "pages before their embed snippets")
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for page in map(Path, pages):
        rel = PurePosixPath(Path(os.path.relpath(page.absolute(), directory.absolute()))
                            .as_posix())
        path = directory / f"{page.stem}.embed.html"
        snippet = embed_snippet(str(rel), _page_title(page))
        _write_text(path, f"<!-- cpts_geo : carte à intégrer -->\n{snippet}")
        written.append(path)
    return written
