"""INSEE codes: formatting, the historical → current crosswalk, arrondissements municipaux.

Codes are strings everywhere: five characters, leading zeros kept (``01001``), Corsica written
``2A``/``2B`` (``2A004``). Registries typed in spreadsheets lose the leading zero (``1001``), carry
spaces or lower case (``2a004``), or use codes of communes since merged (``05120`` → ``05001``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "ARRONDISSEMENTS",
    "CITY_OF_ARRONDISSEMENT",
    "Normalised",
    "format_code",
    "normalise",
    "resolve",
]

#: The communes split into arrondissements municipaux, and their arrondissement codes.
ARRONDISSEMENTS: dict[str, tuple[str, ...]] = {
    "75056": tuple(str(c) for c in range(75101, 75121)),  # Paris
    "69123": tuple(str(c) for c in range(69381, 69390)),  # Lyon
    "13055": tuple(str(c) for c in range(13201, 13217)),  # Marseille
}
#: Arrondissement code → code of its commune.
CITY_OF_ARRONDISSEMENT: dict[str, str] = {
    arr: city for city, arrs in ARRONDISSEMENTS.items() for arr in arrs
}

_CODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$", re.ASCII)
_FLOAT_INT = re.compile(r"^([0-9]{1,5})\.0+$", re.ASCII)
# spaces of every kind (thousands separators included), quotes and the apostrophe Excel puts
# before a number typed as text
_NOISE = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff'\"\u2018\u2019]")


def format_code(value: object) -> str | None:
    """Write one commune or arrondissement code in its canonical form, or ``None``.

    Accepts what spreadsheets produce: integers and floats that lost their leading zero
    (``1001`` for ``01001``: a 4-digit code gains one leading zero, never more), surrounding and
    thousands-separator spaces (``13 001``), a leading apostrophe, full-width digits, lower-case
    Corsican codes. Does not check that the code exists (see :func:`normalise`).

    Parameters
    ----------
    value
        A code as read from a file: ``str``, ``int`` or ``float``.

    Returns
    -------
    str or None
        The five-character code (ASCII digits, or ``2A``/``2B`` and three digits), or ``None``
        when ``value`` cannot be a code.

    Examples
    --------
    >>> [format_code(v) for v in (1001, "1001", " 01001 ", "2a004", 1001.0, "abc", None)]
    ['01001', '01001', '01001', '2A004', '01001', None, None]
    >>> format_code("13 001"), format_code(101), format_code("2A04")
    ('13001', None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if math.isnan(value) or not value.is_integer():
            return None
        value = int(value)
    text = str(value)
    if len(text) > 64:  # no code is that long; do not spend time on it
        return None
    if any(unicodedata.category(c) == "No" for c in text):  # superscripts, fractions...
        return None
    text = _NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if m := _FLOAT_INT.match(text):
        text = m.group(1)
    if len(text) == 4 and text.isascii() and text.isdigit():
        text = "0" + text  # départements 01-09 lose their leading zero in spreadsheets
    return text if _CODE.match(text) else None


def resolve(code: str, crosswalk: Mapping[str, str],
            current: Collection[str] | None = None) -> str | None:
    """The current code for a formatted code, following the crosswalk, or ``None``.

    An arrondissement municipal code, or a code in ``current``, is its own current code (the
    crosswalk maps arrondissements to their city, which is not wanted here). Chains of merges
    (``a`` → ``b`` → ``c``) are followed.

    Parameters
    ----------
    code
        A code as given by :func:`format_code`.
    crosswalk
        Historical code → current code.
    current
        The current codes; without it every code is taken as current unless the crosswalk
        maps it elsewhere.

    Returns
    -------
    str or None
        The current code, or ``None`` when ``current`` is given and the code is neither
        current nor mapped to a current code.

    Examples
    --------
    >>> resolve("05120", {"05120": "05001"}), resolve("13201", {"13201": "13055"})
    ('05001', '13201')
    >>> resolve("99999", {}, current={"05001"}) is None
    True
    """
    seen = {code}
    while True:
        if code in CITY_OF_ARRONDISSEMENT or (current is not None and code in current):
            return code
        new = crosswalk.get(code)
        if new is None or new in seen:
            return code if current is None else None
        seen.add(new)
        code = new


@dataclass(frozen=True)
class Normalised:
    """What :func:`normalise` found.

    Attributes
    ----------
    codes
        One entry per input value: the current code, or ``None`` when the value is not a code
        or not a known one.
    remapped
        Historical code → current code, for every input code the crosswalk changed.
    unknown
        Input values that are not codes, or codes neither current nor historical.
    """

    codes: list[str | None]
    remapped: dict[str, str] = field(default_factory=dict)
    unknown: list[object] = field(default_factory=list)


def normalise(
    values: Iterable[object],
    crosswalk: Mapping[str, str] | None = None,
    current: Iterable[str] | None = None,
) -> Normalised:
    """Format codes and map historical ones to the current code.

    Parameters
    ----------
    values
        Codes as read from a file (see :func:`format_code` for what is accepted).
    crosswalk
        Historical code → current code (``passage-communes-historique.csv``). Without it, codes
        are only formatted.
    current
        The current codes (communes and arrondissements). A current code, or an arrondissement
        municipal code, is never remapped; with ``current`` given, a code neither current nor
        mapped to a current one by the crosswalk is reported as unknown.

    Returns
    -------
    Normalised
        The codes, what was remapped and what is unknown.

    Examples
    --------
    >>> n = normalise([1001, " 2a004 ", "05120"], crosswalk={"05120": "05001"})
    >>> n.codes, n.remapped
    (['01001', '2A004', '05001'], {'05120': '05001'})
    >>> normalise(["99999", "x"], current={"01001"}).unknown
    ['99999', 'x']
    """
    crosswalk = crosswalk or {}
    current_set = None if current is None else (
        current if isinstance(current, (set, frozenset)) else set(current))
    out: list[str | None] = []
    remapped: dict[str, str] = {}
    unknown: list[object] = []
    for value in values:
        code = format_code(value)
        new = None if code is None else resolve(code, crosswalk, current_set)
        if code is None or new is None:
            out.append(None)
            unknown.append(value)
            continue
        if new != code:
            remapped[code] = new
        out.append(new)
    return Normalised(out, remapped, unknown)
