"""Registry records: what the rows (or JSON objects, or perimeters) say, before validation.

Tables are read column by column into :class:`RawClaims` (one row per unit value given); the
JSON listing and perimeter files, a few hundred CPTS at most, are read into :class:`Record`
objects, one per CPTS, turned into :class:`RawClaims` by :func:`records_to_raw`. Both are
validated together by :func:`cpts_geo.registry.validate.validate`. Helpers shared by the formats:
:func:`cell` (a cell as text), :func:`split_codes` (the codes listed in one cell),
:func:`rows_text` (row numbers in messages), the accepted values of a shared-commune column, and
:func:`is_no_cpts` (a row or feature that names the uncovered area, not a CPTS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from ..reference.codes import format_code
from ..reference.names import fold_words
from .columns import fold_column

__all__ = [
    "RAW_COLUMNS",
    "SHARE_FALSE",
    "SHARE_TRUE",
    "SHOWN",
    "RawClaims",
    "Record",
    "cell",
    "empty_raw",
    "is_no_cpts",
    "records_to_raw",
    "rows_text",
    "split_codes",
]

SHARE_TRUE = {"infra", "oui", "o", "yes", "y", "true", "vrai", "1", "x", "partage", "partagee",
              "infracommunal", "infra_communal", "infra_communale"}
SHARE_FALSE = {"", "non", "n", "no", "false", "faux", "0", "nan", "none", "-"}

# separators between codes listed in one cell; spaces are tried only when they do not sit
# inside one code ("13 001")
_LIST_SPLIT = re.compile(r"[;,|/\n\r\t]+")
_SPACES = re.compile(r"\s+")

#: Rows shown in one message before "...".
SHOWN = 10

#: Folded phrases that mark a row or feature as the area no CPTS covers (not a CPTS).
NO_CPTS_PHRASES = ("hors cpts", "sans cpts", "aucune cpts", "pas de cpts", "absence de cpts",
                   "zone blanche", "zones blanches", "non couvert", "non couverte",
                   "non couverts", "non couvertes", "hors territoire", "non rattache",
                   "non rattachee", "non rattaches", "hors perimetre", "territoire orphelin",
                   "no cpts", "not covered", "uncovered")
_NO_CPTS = re.compile(r"(?:^| )(?:" + "|".join(re.escape(p) for p in NO_CPTS_PHRASES)
                      + r")(?: |$)")


def share_value(value: object) -> bool | None:
    """What a shared-commune cell says: ``True``, ``False``, or ``None`` (not understood).

    Examples
    --------
    >>> [share_value(v) for v in ("Infra", "", "non", True, "peut-être")]
    [True, False, False, True, None]
    """
    if isinstance(value, bool):
        return value
    folded = fold_column(value)
    if folded in SHARE_TRUE:
        return True
    return False if folded in SHARE_FALSE else None


def is_no_cpts(name: object) -> bool:
    """Whether a CPTS name (or stage) says the row is the uncovered area, not a CPTS.

    Examples
    --------
    >>> [is_no_cpts(n) for n in ("HORS CPTS", "Zone blanche 04", "Territoire non couvert",
    ...                          "Aucune CPTS", "CPTS du Haut-Var", "CPTS Pays de Vence")]
    [True, True, True, True, False, False]
    """
    return bool(_NO_CPTS.search(fold_words(str(name))))


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
    dates
        The date cells given: ``date_li``, ``date_ps``, ``date_aci`` → the value as written.
    date_columns
        The same roles → the source's name of the key or property, for messages.

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
    dates: dict[str, Any] = field(default_factory=dict)  # date_li / date_ps / date_aci → cell
    date_columns: dict[str, str] = field(default_factory=dict)  # the same roles → source name


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


#: The columns of :attr:`RawClaims.claims`, one row per unit value given.
RAW_COLUMNS = ("ligne", "src", "cpts_id", "cpts_nom", "stage", "partage", "value", "column",
               "kind", "dep", "region", "postal", "date_li", "date_ps", "date_aci")


@dataclass(frozen=True)
class RawClaims:
    """What a registry file says, read but not yet validated: one row per unit value given.

    Attributes
    ----------
    claims
        :data:`RAW_COLUMNS`: the source row (``ligne``, as the user numbers it) and its
        position ``src`` in ``extras``, the CPTS (``cpts_id`` falls back on the name and the name
        on the identifier), the stage and shared-commune cells, the unit ``value`` as written
        with its ``column`` and ``kind`` (``code``: a code column, which may hold names too;
        ``name``: a commune-name column; ``geometry``: a perimeter), the département, région and
        postal code cells, and the three date cells (text, or the cell's own value from a
        workbook).
    extras
        The source's other columns, one row per source row.
    columns
        Role → the source's name of that column (``stage``, ``share``, ``dep``...), for messages.
    infra
        ``cpts_id`` → (folded names or codes of the communes it shares below commune level, row
        where they were given), from the JSON listing and perimeters.
    dated
        The date columns the source has (``date_lettre_intention``...).
    features
        Rows are features of a perimeter file (messages say "feature").

    Examples
    --------
    >>> raw = records_to_raw([Record(row=1, cpts_id="A", cpts_nom="A", stage="",
    ...                              codes=[("communes", "13001"), ("communes", "13002")])])
    >>> raw.claims[["ligne", "cpts_id", "value"]].to_numpy().tolist()
    [[1, 'A', '13001'], [1, 'A', '13002']]
    """

    claims: pd.DataFrame
    extras: pd.DataFrame = field(default_factory=lambda: _frame({}))
    columns: dict[str, str] = field(default_factory=dict)
    infra: dict[str, tuple[frozenset[str], int | None]] = field(default_factory=dict)
    dated: tuple[str, ...] = ()
    features: bool = False


def empty_raw() -> pd.DataFrame:
    """An empty :attr:`RawClaims.claims` frame.

    Examples
    --------
    >>> list(empty_raw().columns) == list(RAW_COLUMNS)
    True
    """
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in RAW_COLUMNS})


def records_to_raw(records: list[Record], *, features: bool = False) -> RawClaims:
    """:class:`RawClaims` of a list of :class:`Record` (the JSON listing, perimeters).

    Examples
    --------
    >>> rec = Record(row=3, cpts_id="B", cpts_nom="CPTS B", stage="ACI signé",
    ...              codes=[("communes", 6088)], infra=("Nice",))
    >>> raw = records_to_raw([rec])
    >>> raw.claims.loc[0, ["cpts_nom", "stage", "value"]].tolist(), raw.infra
    (['CPTS B', 'ACI signé', '6088'], {'B': (frozenset({'nice'}), 3)})
    """
    rows: dict[str, list[Any]] = {c: [] for c in RAW_COLUMNS}
    extra_rows: list[dict[str, Any]] = []
    infra: dict[str, tuple[frozenset[str], int | None]] = {}
    columns: dict[str, str] = {}
    dated: set[str] = set()
    for src, rec in enumerate(records):
        dated |= {k for k, v in rec.dates.items() if v not in (None, "")}
        extra_rows.append(dict(rec.extra))
        columns.setdefault("stage", rec.stage_column)
        columns.setdefault("share", rec.share_column)
        for role, name in rec.date_columns.items():
            columns.setdefault(role, name)
        folded = frozenset(fold_words(str(x)) for x in rec.infra if fold_words(str(x)))
        if folded:
            before = infra.get(rec.cpts_id, (frozenset(), rec.row))[0]
            infra[rec.cpts_id] = (before | folded, rec.row)
        for column, value in rec.codes:
            for key, v in (("ligne", rec.row), ("src", src), ("cpts_id", rec.cpts_id),
                           ("cpts_nom", rec.cpts_nom), ("stage", rec.stage),
                           ("partage", rec.partage),
                           ("value", "" if value is None else str(value).strip()),
                           ("column", column),
                           ("kind", "geometry" if column == "geometry" else "code"),
                           ("dep", ""), ("region", ""), ("postal", ""),
                           ("date_li", rec.dates.get("date_li", "")),
                           ("date_ps", rec.dates.get("date_ps", "")),
                           ("date_aci", rec.dates.get("date_aci", ""))):
                rows[key].append(v)
    import pandas as pd

    claims = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in rows.items()})
    extras = pd.DataFrame(extra_rows) if extra_rows else pd.DataFrame()
    order = (("date_li", "date_lettre_intention"), ("date_ps", "date_projet_sante"),
             ("date_aci", "date_aci"))
    return RawClaims(claims, extras, columns, infra,
                     tuple(name for role, name in order if role in dated), features)


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns)
