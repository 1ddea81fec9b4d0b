"""INSEE codes: formatting, the historical → current crosswalk, arrondissements municipaux.

Codes are strings everywhere: five characters, leading zeros kept (``01001``), Corsica written
``2A``/``2B`` (``2A004``). Registries typed in spreadsheets lose the leading zero (``1001``), carry
spaces or lower case (``2a004``), or use codes of communes since merged (``05120`` → ``05001``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "ARRONDISSEMENTS",
    "CITY_OF_ARRONDISSEMENT",
    "Normalised",
    "format_code",
    "normalise",
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

_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_FLOAT_INT = re.compile(r"^(\d{1,5})\.0+$")


def format_code(value: object) -> str | None:
    """Write one commune or arrondissement code in its canonical form, or ``None``.

    Accepts what spreadsheets produce: integers and floats that lost their leading zero,
    surrounding spaces, non-breaking spaces, lower-case Corsican codes. Does not check that the
    code exists (see :func:`normalise`).

    Parameters
    ----------
    value
        A code as read from a file: ``str``, ``int`` or ``float``.

    Returns
    -------
    str or None
        The five-character code, or ``None`` when ``value`` cannot be a code.

    Examples
    --------
    >>> [format_code(v) for v in (1001, "1001", " 01001 ", "2a004", 1001.0, "abc", None)]
    ['01001', '01001', '01001', '2A004', '01001', None, None]
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if math.isnan(value) or not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    text = re.sub(r"[\s\u00a0\u202f'\"]", "", text).upper()
    if m := _FLOAT_INT.match(text):
        text = m.group(1)
    if text.isdigit() and 3 <= len(text) < 5:
        text = text.zfill(5)
    elif re.fullmatch(r"2[AB]\d{2}", text):  # '2A04' style cannot be trusted
        return None
    return text if _CODE.match(text) else None


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
        The current codes (communes and arrondissements). A current code is never remapped; with
        ``current`` given, a code neither current nor in the crosswalk is reported as unknown.

    Returns
    -------
    Normalised
        The codes, what was remapped and what is unknown.

    Examples
    --------
    >>> n = normalise([1001, " 2a004 ", "05120"], crosswalk={"05120": "05001"})
    >>> n.codes, n.remapped
    (['01001', '2A004', '05001'], {'05120': '05001'})
    """
    crosswalk = crosswalk or {}
    current_set = set(current) if current is not None else None
    out: list[str | None] = []
    remapped: dict[str, str] = {}
    unknown: list[object] = []
    for value in values:
        code = format_code(value)
        if code is None:
            out.append(None)
            unknown.append(value)
            continue
        if current_set is not None and code in current_set:
            out.append(code)
            continue
        new = crosswalk.get(code)
        if new is not None and new != code:
            remapped[code] = new
            out.append(new)
        elif current_set is None or new == code:
            out.append(code)
        else:
            out.append(None)
            unknown.append(value)
    return Normalised(out, remapped, unknown)
