"""Commune resolution: the current unit each value given for a commune stands for.

A value is resolved, in this order: a current code (``13001``), a code in another spelling
(``1001``, ``2a004``, ``13 001``), a former code through the crosswalk (``05120`` → ``05001``,
with a warning), a name (``SISTERON``, ``Broc (Le)``; with the row's département, région or
postal code to tell namesakes apart), a former commune's name (with a warning). What cannot be
resolved is a :class:`~cpts_geo.errors.Problem` that says why and what would be accepted: an
ambiguous name lists every candidate with its code and département, an unknown name the closest
names of its département. Work is done once per distinct value, and the common case (a current
code) for a whole column at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import Notice, Problem
from ..reference.codes import format_code, resolve
from ..reference.names import departement_code, name_index, region_code_of
from .records import rows_text

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["Resolved", "bad_code_hint", "resolve_units"]

_LETTERS = re.compile(r"[^\W\d_]{2,}")


def bad_code_hint(raw: object) -> str:
    """Why ``raw`` cannot be a commune code, and what to give instead.

    Examples
    --------
    >>> print(bad_code_hint("130"))
    not a commune code: too short (a département number?). Use the 5-character INSEE code, e.g.
    01001
    """
    text = str(raw).strip()
    if re.fullmatch(r"\d{6,}", text):
        return ("not a commune code: too many digits (a postal code or SIRET?). Use the 5-"
                "character INSEE code, e.g. 01001")
    if re.fullmatch(r"\d{1,3}", text):
        return ("not a commune code: too short (a département number?). Use the 5-character "
                "INSEE code, e.g. 01001")
    if re.fullmatch(r"\d+[.,]\d+", text):
        return "not a commune code: a decimal number. Use the 5-character INSEE code, e.g. 01001"
    return "not a commune code: expected 5 characters, e.g. 01001 or 2A004"


@dataclass
class Resolved:
    """The outcome of :func:`resolve_units` for a raw claims frame.

    Attributes
    ----------
    codes
        The current unit code of each row (``None`` where it could not be resolved).
    remapped
        Former code → current code, for each code the crosswalk changed.
    names
        One row per unit given by name: ``ligne``, ``valeur``, ``code``, ``nom`` (the unit's
        name), ``par`` (how: ``nom``, ``nom sans article``, ``code postal``, ``ancien nom``).
    """

    codes: np.ndarray
    remapped: dict[str, str] = field(default_factory=dict)
    names: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["ligne", "valeur", "code", "nom", "par"]))


def _context_codes(values: pd.Series, lookup: Callable[[str], str | None]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The département (or région) code of each row's cell, and where a cell names none."""
    out = np.full(len(values), "", dtype=object)
    bad = np.zeros(len(values), dtype=bool)
    known: dict[object, str] = {}
    unknown: list[object] = []
    for value in pd.unique(values):
        text = str(value).strip()
        if not text:
            continue
        code = lookup(text)
        if code is None:
            unknown.append(value)
        else:
            known[value] = code
    if known:
        mapped = values.map(known)
        out = np.where(mapped.notna(), mapped, "").astype(object)
    if unknown:
        bad = values.isin(unknown).to_numpy()
    return out, bad


def _context_problems(raw: pd.DataFrame, bad: np.ndarray, kind: str, column: str | None,
                      path: str, problems: list[Problem]) -> None:
    """A problem per distinct unreadable département (région) cell of the rows ``bad``."""
    what = ("a département code or name (04, 2A, Hautes-Alpes)" if kind == "dep"
            else "a région code or name (93, Provence-Alpes-Côte d'Azur)")
    label = "département" if kind == "dep" else "région"
    values = raw[kind][bad]
    lines = raw["ligne"][bad]
    for value in pd.unique(values):
        rows = lines[values == value].tolist()
        problems.append(Problem(
            path, f"unknown {label}{'' if len(rows) == 1 else f' (rows {rows_text(rows)})'}: "
            f"expected {what}, to tell communes of the same name apart", row=rows[0],
            column=column, value=str(value).strip()))


def resolve_units(raw: pd.DataFrame, reference: Reference, path: str, problems: list[Problem],
                  notices: list[Notice], columns: dict[str, str] | None = None) -> Resolved:
    """Resolve the unit value of each row of a raw claims frame to a current unit code.

    Parameters
    ----------
    raw
        :attr:`cpts_geo.registry.records.RawClaims.claims`.
    reference
        The reference data (codes, crosswalk, names, postal codes).
    path
        The source, for messages.
    problems, notices
        Where problems and warnings are appended.
    columns
        Role → the source's column names (``dep``, ``region``, ``postal``), for messages.

    Returns
    -------
    Resolved

    Examples
    --------
    >>> from cpts_geo.registry.records import records_to_raw, Record
    >>> raw = records_to_raw([Record(row=2, cpts_id="A", cpts_nom="A", stage="",
    ...     codes=[("communes", "13001"), ("communes", "5120"), ("communes", "SISTERON")])])
    >>> problems, notices = [], []
    >>> res = resolve_units(raw.claims, ref, "a.json", problems, notices)
    >>> res.codes.tolist(), res.remapped, res.names["code"].tolist(), problems
    (['13001', '05001', '04209'], {'05120': '05001'}, ['04209'], [])
    """
    columns = columns or {}
    n = len(raw)
    lines = raw["ligne"]
    values = raw["value"]
    texts = values  # already stripped text (table.py, records.py)
    index = reference.units.index
    pos = index.get_indexer(texts.to_numpy(dtype=object)) if n else np.empty(0, dtype=np.int64)
    codes = np.full(n, None, dtype=object)
    direct = pos >= 0
    codes[direct] = index.to_numpy()[pos[direct]]
    result = Resolved(codes)
    if direct.all():
        _check_departements(raw, codes, reference, path, notices, columns)
        return result
    dep, bad_dep = _context_codes(raw["dep"],
                                  lambda t: departement_code(t, reference.departements))
    reg, bad_reg = _context_codes(raw["region"], lambda t: region_code_of(t, reference.regions))
    postal = raw["postal"].map(lambda p: format_code(p) or "" if str(p).strip() else "")
    rest = np.flatnonzero(~direct)
    crosswalk, current = reference.crosswalk, reference.current_codes
    code_of: dict[object, str | None] = {}
    unknown: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    bad: list[int] = []
    name_rows: list[int] = []
    remap_rows: dict[str, list[int | None]] = defaultdict(list)
    text_list = texts.tolist()  # plain lists: no pandas call per row
    line_list = lines.tolist()
    column_list = raw["column"].tolist()
    letters = _LETTERS.search
    for i in rest.tolist():
        v = text_list[i]
        if v in code_of:
            c = code_of[v]
        else:  # two letters or more: a name (a code has at most the A or B of Corsica)
            c = None if isinstance(v, str) and letters(v) else format_code(v)
            code_of[v] = c
        if c is None:
            if isinstance(v, str) and (_LETTERS.search(v) or v.isalpha()):
                name_rows.append(i)
            else:
                bad.append(i)
            continue
        new = resolve(c, crosswalk, current)
        if new is None:
            unknown[str(v)].append((line_list[i], str(column_list[i])))
            continue
        if new != c:
            result.remapped[c] = new
            remap_rows[c].append(line_list[i])
        codes[i] = new
    for i in bad:
        problems.append(Problem(path, bad_code_hint(values.iat[i]), row=lines.iat[i],
                                column=raw["column"].iat[i], value=values.iat[i]))
    names = reference.units["nom"]
    for old, rows in remap_rows.items():
        new = result.remapped[old]
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows_text(rows)}"
        notices.append(Notice("code_ancien", f"{path}, {where}: code {old} is a former code, "
                              f"mapped to {new} ({names.get(new, '')})", rows[0]))
    for value, where in unknown.items():
        rows = [r for r, _ in where]
        hint = _postal_hint(value, reference)
        problems.append(Problem(
            path, "unknown code: neither a current commune or arrondissement code nor a "
            "historical one. Check it against the INSEE code officiel géographique (5 "
            "characters, e.g. 01001, 2A004)" + hint + (f"; also on rows {rows_text(rows[1:])}"
                                                       if len(rows) > 1 else ""),
            row=rows[0], column=where[0][1], value=value))
    if name_rows:
        by_name = np.zeros(n, dtype=bool)
        by_name[name_rows] = True
        for kind, bad_cells in (("dep", bad_dep), ("region", bad_reg)):
            if (bad_cells & by_name).any():  # the cell was needed to find the commune
                _context_problems(raw, bad_cells & by_name, kind, columns.get(kind), path,
                                  problems)
        _resolve_names(raw, np.asarray(name_rows), texts, dep, reg, postal, reference, path,
                       problems, notices, columns, result)
    _check_departements(raw, codes, reference, path, notices, columns, dep)
    return result


def _postal_hint(value: str, reference: Reference) -> str:
    code = format_code(value)
    if code is None or "codes_postaux" not in reference.units:
        return ""
    holders = reference.units.index[reference.units["codes_postaux"].str.contains(
        code, regex=False)]
    holders = [h for h in holders if code in str(reference.units.at[h, "codes_postaux"])
               .split(";")]
    if not holders:
        return ""
    shown = ", ".join(f"{reference.units.at[h, 'nom']} ({h})" for h in holders[:3])
    return f". {code} is the postal code of {shown}: give the INSEE code"


def _describe(cands: list[tuple[str, str, str]], reference: Reference) -> str:
    return ", ".join(f"{nom} {code} ({dep} {reference.departement_name(dep)})"
                     for code, nom, dep in cands[:12]) + (
        f" … ({len(cands)} in all)" if len(cands) > 12 else "")


def _resolve_names(raw: pd.DataFrame, rows: np.ndarray, texts: pd.Series, dep: np.ndarray,
                   reg: np.ndarray, postal: pd.Series, reference: Reference, path: str,
                   problems: list[Problem], notices: list[Notice], columns: dict[str, str],
                   result: Resolved) -> None:
    index = name_index(reference)
    lines = raw["ligne"].tolist()
    columns_of = raw["column"].tolist()
    text_list, postal_list = texts.tolist(), postal.tolist()
    dep_list, reg_list = dep.tolist(), reg.tolist()
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for i in rows.tolist():
        groups[(str(text_list[i]), str(dep_list[i]), str(reg_list[i]),
                str(postal_list[i]))].append(i)
    found_rows: list[tuple[int | None, str, str, str, str]] = []
    former: dict[tuple[str, str], list[int | None]] = defaultdict(list)
    has_dep = "dep" in columns
    for (value, d, r, p), members in groups.items():
        match = index.find(value, departement=d or None, region=r or None, postal=p or None)
        member_lines = [lines[i] for i in members]
        where = dict(row=member_lines[0], column=columns_of[members[0]], value=value)
        also = f" (rows {rows_text(member_lines)})" if len(member_lines) > 1 else ""
        if match.code is not None:
            for i in members:
                result.codes[i] = match.code
            how = match.how
            for line in member_lines:
                found_rows.append((line, value, match.code, index.name(match.code), how))
            if match.former is not None:
                former[(value, match.code)].extend(member_lines)
            continue
        if match.candidates:
            if d:
                fix = (f"several communes of département {d} bear this name: give the INSEE "
                       "code, or a postal code column (code_postal)")
            elif has_dep:
                fix = f"fill in the {columns['dep']!r} cell, or give the INSEE code"
            else:
                fix = ("add a département column (departement, dep or code_departement) or give "
                       "the INSEE code")
            problems.append(Problem(
                path, f"commune name is ambiguous{also}: it may be "
                f"{_describe(match.candidates, reference)}; {fix}", **where))
            continue
        elsewhere = index.find(value) if (d or r or p) else match
        if elsewhere.candidates:
            within = f"département {d}" if d else (f"région {r}" if r else f"postal code {p}")
            problems.append(Problem(
                path, f"no commune of this name in {within}{also}; it is the name of "
                f"{_describe(elsewhere.candidates, reference)}: check the name and the "
                "département (or give the INSEE code)", **where))
            continue
        close = index.suggestions(value, departement=d or None)
        scope = f" of département {d}" if d else ""
        hint = (f"; closest names{scope}: {_describe(close, reference)}" if close else "")
        problems.append(Problem(
            path, f"unknown commune name{also}: no current or former commune is named so"
            f"{hint}. Check the spelling, or give the INSEE code", **where))
    if found_rows:
        result.names = pd.DataFrame(found_rows, columns=["ligne", "valeur", "code", "nom", "par"])
    names = reference.units["nom"]
    for (value, code), member_lines in former.items():
        where = (f"row {member_lines[0]}" if len(member_lines) == 1
                 else f"rows {rows_text(member_lines)}")
        notices.append(Notice("nom_ancien", f"{path}, {where}: {value!r} is a former commune, "
                              f"merged into {code} ({names.get(code, '')})", member_lines[0]))


def _check_departements(raw: pd.DataFrame, codes: np.ndarray, reference: Reference, path: str,
                        notices: list[Notice], columns: dict[str, str],
                        dep: np.ndarray | None = None) -> None:
    """Warn where a row's département cell disagrees with the département of its unit."""
    if "dep" not in columns:
        return
    if dep is None:
        dep, _ = _context_codes(raw["dep"],
                                lambda t: departement_code(t, reference.departements))
    known = pd.notna(codes) & (dep != "")
    if not known.any():
        return
    unit_dep = reference.units["departement"].reindex(codes[known]).to_numpy()
    wrong = np.flatnonzero(known)[unit_dep != dep[known]]
    for i in wrong[:10]:
        notices.append(Notice(
            "departement", f"{path}, row {raw['ligne'].iat[i]}: {codes[i]} "
            f"({reference.units.at[codes[i], 'nom']}) is in département "
            f"{reference.units.at[codes[i], 'departement']}, the row says {dep[i]}; the unit "
            "is kept", raw["ligne"].iat[i]))
