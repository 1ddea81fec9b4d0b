"""Registry records: what one row (or one JSON object, or one perimeter) says about a CPTS.

Every input format is read into :class:`Record` objects, validated together by
:func:`cpts_geo.registry.validate.validate`. Helpers shared by the formats: :func:`cell` (a cell as
text), :func:`split_codes` (the codes listed in one cell), :func:`rows_text` (row numbers in
messages) and the accepted values of a shared-commune column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..reference.codes import format_code

__all__ = ["SHARE_FALSE", "SHARE_TRUE", "SHOWN", "Record", "cell", "rows_text", "split_codes"]

SHARE_TRUE = {"infra", "oui", "o", "yes", "y", "true", "vrai", "1", "x", "partage", "partagee",
         "infracommunal", "infra_communal", "infra_communale"}


SHARE_FALSE = {"", "non", "n", "no", "false", "faux", "0", "nan", "none", "-"}


# separators between codes listed in one cell; spaces are tried only when they do not sit
# inside one code ("13 001")
_LIST_SPLIT = re.compile(r"[;,|/\n\r\t]+")


_SPACES = re.compile(r"\s+")


#: Rows shown in one message before "...".
SHOWN = 10


@dataclass
class Record:
    """What one row, JSON object or perimeter of a registry says, before validation.

    Attributes
    ----------
    row
        Row (or object, or feature) number as the user sees it; ``None`` when there is none.
    cpts_id, cpts_nom
        The CPTS's identifier and name (each defaults to the other when only one is given).
    stage
        The stage as written in the source.
    codes
        ``(column, raw value)`` of each unit claimed, as read.
    partage
        The shared-commune cell as written, or a bool (JSON, perimeters).
    infra
        Names or codes of the claimed communes shared below commune level.
    extra
        The source's other columns, kept in the claims.
    stage_column, share_column
        The source's names of the stage and shared columns, for messages.

    Examples
    --------
    >>> Record(row=2, cpts_id="CPTS A", cpts_nom="CPTS A", stage="ACI signé",
    ...        codes=[("code_insee", "13001")]).codes
    [('code_insee', '13001')]
    """

    row: int | None
    cpts_id: str
    cpts_nom: str
    stage: object
    codes: list[tuple[str, object]]  # (column, raw value)
    partage: object = ""
    infra: tuple[str, ...] = ()  # names or codes of communes shared below commune level
    extra: dict[str, Any] = field(default_factory=dict)
    stage_column: str = "stade"  # the source's names of the stage and shared columns
    share_column: str = "partage"


def cell(value: Any) -> str:
    """A cell as text: stripped, ``""`` for empty or missing values, ``1001`` for ``1001.0``.

    Examples
    --------
    >>> [cell(v) for v in (None, float("nan"), 1001.0, " Nice ", 13001)]
    ['', '', '1001', 'Nice', '13001']
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    elif type(value).__name__ in {"NAType", "NaTType"}:
        return ""
    return str(value).strip()


def rows_text(rows: list[int | None]) -> str:
    """Row numbers for a message: the first :data:`SHOWN`, then how many in all.

    Examples
    --------
    >>> rows_text([3, 4]), rows_text(list(range(2, 20)))
    ('3, 4', '2, 3, 4, 5, 6, 7, 8, 9, 10, 11 ... (18 rows)')
    """
    shown = ", ".join(str(r) for r in rows[:SHOWN])
    return shown + (f" ... ({len(rows)} rows)" if len(rows) > SHOWN else "")


def split_codes(value: str) -> list[str]:
    """The codes of one cell: ``13001``, or a list ``13001; 13002`` (``,``, ``|``, ``/``, spaces).

    Spaces separate codes only where they do not sit inside one (``13 001``, ``2A 004``).

    Examples
    --------
    >>> split_codes("13001; 13002"), split_codes("13 001"), split_codes("13001 13002")
    (['13001', '13002'], ['13 001'], ['13001', '13002'])
    """
    value = value.strip()
    if not value:
        return []
    out: list[str] = []
    for part in _LIST_SPLIT.split(value):
        part = part.strip()
        if not part:
            continue
        pieces = _SPACES.split(part)
        if len(pieces) > 1 and format_code(part) is None and all(
                format_code(p) is not None for p in pieces):
            out.extend(pieces)
        else:
            out.append(part)
    return out or [value]
