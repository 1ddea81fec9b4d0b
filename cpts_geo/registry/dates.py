"""Dates in registries: when a CPTS's lettre d'intention, projet de santé and ACI were validated.

Real listings write dates as Excel date cells, ``15/06/2021``, ``2021-06-15``, ``15 juin 2021``,
or only a month (``juin 2021``, ``06/2021``, ``2021-06``): a month alone is taken as its first
day, and said so. :data:`STEPS` names the three steps in order, with the stage each one reaches.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from ..reference.names import fold_words

__all__ = ["DATE_COLUMNS", "STEPS", "ParsedDate", "parse_date", "parse_when"]

#: The dated steps, in the order a CPTS goes through them: claims column, stage reached, label.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("date_lettre_intention", "lettre_intention", "lettre d'intention validée"),
    ("date_projet_sante", "projet_valide", "projet de santé validé"),
    ("date_aci", "fonctionnement", "ACI signé"),
)
#: The date columns of a registry's claims, in step order.
DATE_COLUMNS: tuple[str, ...] = tuple(s[0] for s in STEPS)

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
    # English month names, as some exports write them
    "january": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "october": 10, "november": 11, "december": 12,
}
_TIME = r"(?:[ T]\d{1,2}[:h]\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # a time of day, ignored
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})" + _TIME + "$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})" + _TIME + "$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_YM = re.compile(r"^(\d{4})[/.\-](\d{1,2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_YEARS = (2000, 2100)  # the years a date may have: anything else is a typing error


@dataclass(frozen=True)
class ParsedDate:
    """A date read from a cell.

    Attributes
    ----------
    value
        The date, or ``None`` when the cell is empty or is not a date.
    month_only
        The cell gave a month, taken as its first day.
    error
        Why the cell is not a date (``None`` when it is one or is empty).

    Examples
    --------
    >>> parse_date("juin 2021")
    ParsedDate(value=datetime.date(2021, 6, 1), month_only=True, error=None)
    """

    value: dt.date | None
    month_only: bool = False
    error: str | None = None


def _day(year: int, month: int, day: int, text: str) -> ParsedDate:
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return ParsedDate(None, error=f"not a date: {text!r} has no month {month} (write it "
                          "dd/mm/yyyy, e.g. 15/06/2021)")
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return ParsedDate(None, error=f"not a date: {text!r} has no day {day:02d}/{month:02d}"
                          f"/{year} (write it dd/mm/yyyy, e.g. 15/06/2021)")
    return _checked(value, text)


def _checked(value: dt.date, text: str, month_only: bool = False) -> ParsedDate:
    if not _YEARS[0] <= value.year <= _YEARS[1]:
        return ParsedDate(None, error=f"date out of range: {text!r} (year {value.year}); a "
                          f"CPTS date lies between {_YEARS[0]} and {_YEARS[1]} (CPTS exist "
                          "since 2016): check the year")
    return ParsedDate(value, month_only)


@lru_cache(maxsize=8_192)
def _parse_text(text: str) -> ParsedDate:
    if m := _DMY.match(text):
        return _day(int(m.group(3)), int(m.group(2)), int(m.group(1)), text)
    if m := _YMD.match(text):
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    month_year = _MY.match(text) or None
    if month_year is not None:
        month, year = int(month_year.group(1)), int(month_year.group(2))
    elif m := _YM.match(text):
        year, month = int(m.group(1)), int(m.group(2))
    else:
        words = fold_words(text).split()
        if words and words[0] in {"1er", "1e", "premier"}:
            words[0] = "1"
        if len(words) == 3 and words[0].isdigit() and words[1] in _MONTHS and words[2].isdigit():
            return _day(int(words[2]), _MONTHS[words[1]], int(words[0]), text)
        if len(words) == 2 and words[0] in _MONTHS and words[1].isdigit() and len(words[1]) == 4:
            year, month = int(words[1]), _MONTHS[words[0]]
        else:
            return ParsedDate(None, error=f"not a date: {text!r}; write it dd/mm/yyyy "
                              "(15/06/2021), yyyy-mm-dd, or a month (juin 2021, 06/2021)")
    if not 1 <= month <= 12:
        return ParsedDate(None, error=f"not a date: {text!r} has no month {month}")
    return _checked(dt.date(year, month, 1), text, month_only=True)


def parse_date(value: object) -> ParsedDate:
    """Read one date cell: an Excel date, ``dd/mm/yyyy``, ``yyyy-mm-dd``, or a month.

    Parameters
    ----------
    value
        The cell as read: ``datetime``/``date`` (Excel date cells), a number (an Excel date
        serial, as in a workbook cell without date format), or text.

    Returns
    -------
    ParsedDate
        ``value`` is ``None`` for an empty cell (no error) and for a bad one (with ``error``).

    Examples
    --------
    >>> [parse_date(v).value.isoformat() for v in ("15/06/2021", "2021-06-15", "1er juin 2021",
    ...                                            "06/2021", "2021-06-15 00:00:00")]
    ['2021-06-15', '2021-06-15', '2021-06-01', '2021-06-01', '2021-06-15']
    >>> parse_date("31/02/2021").error
    "not a date: '31/02/2021' has no day 31/02/2021 (write it dd/mm/yyyy, e.g. 15/06/2021)"
    >>> parse_date("").value is None, parse_date("").error is None
    (True, True)
    """
    if value is None or type(value).__name__ in {"NaTType", "NAType"}:  # pandas' missing
        return ParsedDate(None)
    if isinstance(value, dt.datetime):
        return _checked(value.date(), value.isoformat())
    if isinstance(value, dt.date):
        return _checked(value, value.isoformat())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value:  # NaN
            return ParsedDate(None)
        if 20_000 <= value <= 80_000:  # an Excel serial date (1954-2119)
            return _checked(_EXCEL_EPOCH + dt.timedelta(days=int(value)), str(value))
        return ParsedDate(None, error=f"not a date: {value!r}; write it dd/mm/yyyy")
    text = str(value).strip()
    if not text or text.lower() in {"nan", "nat", "none", "-", "nc", "nr"}:
        return ParsedDate(None)
    return _parse_text(text)


def parse_when(value: object, option: str = "--at") -> dt.date:
    """A date given on the command line (``--at``, ``--from``, ``--to``), or a clear error.

    Raises
    ------
    ValueError
        When ``value`` is not a date; the message names the option and the accepted forms.

    Examples
    --------
    >>> parse_when("2024-02-01"), parse_when("02/2024")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 1))
    """
    parsed = parse_date(value)
    if parsed.value is None:
        raise ValueError(f"{option} {value!r} is not a date: give it as yyyy-mm-dd "
                         "(2024-02-01), dd/mm/yyyy or a month (02/2024)")
    return parsed.value
