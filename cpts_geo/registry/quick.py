"""A lean reader for the common project file: one CPTS, one current code per row (CSV, XLSX).

``cpts-geo check`` reads a project of a few hundred rows; the full reader
(:func:`~cpts_geo.registry.read_registry`) needs pandas, whose import alone costs more than the
whole check. :func:`read_project` reads the plain case with the same pieces (encoding, delimiter,
header and column matching, stages, shared communes) and gives up, returning ``None``, on
anything else: the command then reads the file with the full reader, which resolves names and
former codes, reports problems and warnings. What it accepts, it reads as the full reader does
(``tests/test_check_fast.py`` compares the two on a corpus of files).

Accepted: a CSV file (UTF-8, with or without BOM) or the first sheet of an XLSX workbook (when
no other sheet holds a table) whose header has a code column, a CPTS name
and/or identifier column and optionally a stage and a shared-commune column (other columns are
ignored, except those that resolve units or carry dates, which send the file to the full
reader); every row names the same CPTS and one current finest unit code (a commune, or an
arrondissement of Paris, Lyon or Marseille), each once; stages and shared-commune values read as
the full reader reads them, without a warning.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

from ..errors import ValidationError
from ..reference.codes import format_code
from .columns import locate_header, match_columns
from .formats import sniff_format
from .records import cell, is_no_cpts, share_value
from .stages import normalise_stage
from .text import read_csv_rows

__all__ = ["QuickProject", "read_project"]

#: Column roles that send a file to the full reader (names, dates, places that resolve units).
_FULL_READER_ROLES = ("arr", "names", "dep", "region", "postal", "date_li", "date_ps",
                      "date_aci")


@dataclass(frozen=True)
class QuickProject:
    """A project read by :func:`read_project`: its CPTS and its units in row order."""

    cpts_id: str
    cpts_nom: str
    codes: tuple[str, ...]
    partage: tuple[bool, ...]


def _rows(path: Path) -> list[list[str]] | None:
    """The file's rows as stripped text, as the full reader sees them (``None``: not for us)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    fmt = sniff_format(path, raw[:4096])
    warnings: list[str] = []
    try:
        if fmt == "csv" and b"\x00" not in raw[:4096]:
            rows = [[c.strip() for c in r] for r in read_csv_rows(raw, str(path), warnings)]
        elif fmt == "xlsx":
            from .xlsx import read_xlsx_rows

            rows = [[cell(v) for v in r] for r in read_xlsx_rows(path, None, warnings)]
        else:
            return None
    except ValidationError:
        return None
    return None if warnings else rows


def read_project(path: str | Path, finest: Container[str]) -> QuickProject | None:
    """Read a plain one-CPTS project file, or ``None`` when the full reader is needed.

    Parameters
    ----------
    path
        The project file.
    finest
        The current finest unit codes.

    Examples
    --------
    >>> f = tmp / "p.csv"
    >>> _ = f.write_text("cpts_nom;code_insee;partage" + chr(10) + "Estérel;06079;" + chr(10)
    ...                  + "Estérel;83133;oui" + chr(10), encoding="utf-8")
    >>> p = read_project(f, set(ref.finest.index))
    >>> p.cpts_id, p.codes, p.partage
    ('Estérel', ('06079', '83133'), (False, True))

    A former code is for the full reader (it resolves it, with a warning):

    >>> _ = f.write_text("cpts_nom;code_insee" + chr(10) + "Guil;05120" + chr(10))
    >>> read_project(f, set(ref.finest.index)) is None
    True
    """
    rows = _rows(Path(path))
    if rows is None:
        return None
    while rows and not any(rows[-1]):
        rows.pop()
    h = locate_header(rows[:15])
    if h is None:
        return None
    header = rows[h]
    cols = match_columns(header)
    if cols.code is None or (cols.name is None and cols.cid is None) or any(
            getattr(cols, role) is not None for role in _FULL_READER_ROLES):
        return None
    width = len(header)
    ids: set[tuple[str, str]] = set()
    stages: set[str] = set()
    codes: list[str] = []
    shares: list[bool] = []
    for r in rows[h + 1:]:
        cells = r if len(r) == width else (r + [""] * (width - len(r)))[:width]
        if not any(cells):
            continue

        def at(i: int | None, cells: list[str] = cells) -> str:
            return "" if i is None else cells[i]

        cid, name, code = at(cols.cid), at(cols.name), at(cols.code)
        if (not cid and not name) or code not in finest or format_code(code) != code:
            return None
        ids.add((cid or name, name or cid))
        stage = at(cols.stage)
        if stage:
            stages.add(stage)
        share = share_value(at(cols.share))
        if share is None:
            return None
        codes.append(code)
        shares.append(share)
    if len(ids) != 1 or len(set(codes)) != len(codes):
        return None
    (cpts_id, cpts_nom), = ids
    if is_no_cpts(cpts_id) or is_no_cpts(cpts_nom) or any(is_no_cpts(s) for s in stages):
        return None
    normalised = {normalise_stage(s) for s in stages}
    if None in normalised or len(normalised - {"non_renseigne"}) > 1:
        return None
    return QuickProject(cpts_id, cpts_nom, tuple(codes), tuple(shares))
