"""Validation: records of any format into claims, with every problem found at once.

What can be fixed without guessing is fixed, with a warning: codes remapped by the crosswalk
(``05120`` → ``05001``), exact duplicate claims (counted once). Everything else is a
:class:`~cpts_geo.errors.Problem` naming the file, row, column and value, and all of them are
raised together in one :class:`~cpts_geo.errors.ValidationError`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import Problem, ValidationError
from ..reference.codes import format_code, resolve
from .columns import fold_column
from .model import Registry
from .records import SHARE_FALSE, SHARE_TRUE, SHOWN, Record, rows_text
from .resolve import bad_code_hint
from .stages import STAGES, normalise_stage

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["registry_from_records", "validate"]

@dataclass
class _Cpts:
    """What the rows of one CPTS said, for the checks made over all its rows."""

    names: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    stages: dict[str, list[tuple[int | None, object]]] = field(default_factory=dict)
    infra: set[str] = field(default_factory=set)
    infra_row: int | None = None
    matched_infra: set[str] = field(default_factory=set)


def validate(records: list[Record], path: str, ref: Reference, problems: list[Problem],
             warnings: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Claims of ``records``: codes resolved, stages normalised, every CPTS checked.

    Problems and warnings are appended to the lists given; the claims are only meaningful when
    no problem was found (see :func:`registry_from_records`).

    Returns
    -------
    tuple
        The claims frame (the columns of :class:`~cpts_geo.registry.model.Registry.claims`)
        and the historical codes remapped (old → current).

    Examples
    --------
    >>> recs = [Record(row=2, cpts_id="A", cpts_nom="A", stage="", codes=[("code", "5120")])]
    >>> claims, remapped = validate(recs, "a.csv", ref, [], [])
    >>> claims["code"].tolist(), remapped
    (['05001'], {'05120': '05001'})
    """
    current = ref.current_codes
    crosswalk = ref.crosswalk
    names = ref.units["nom"]
    remapped: dict[str, str] = {}
    remap_rows: dict[str, list[int | None]] = defaultdict(list)
    resolved: dict[str, str | None] = {}
    stage_cache: dict[str, str | None] = {}
    code_cache: dict[str | int, str | None] = {}
    bad_stage_labels: dict[tuple[str, str], list[int | None]] = defaultdict(list)
    cpts: dict[str, _Cpts] = {}
    out: dict[str, list[Any]] = {c: [] for c in ("cpts_id", "code", "partage", "ligne")}
    extra_names = list(dict.fromkeys(k for rec in records for k in rec.extra))
    extra_cols: dict[str, list[Any]] = {k: [] for k in extra_names}
    seen: dict[tuple[str, str], tuple[int | None, bool]] = {}
    dupes: list[tuple[int | None, str, str, int | None]] = []
    unknown: dict[str, list[tuple[int | None, str]]] = defaultdict(list)  # value → rows, column
    ids_of_name: dict[str, dict[str, int | None]] = defaultdict(dict)
    for rec in records:
        info = cpts.get(rec.cpts_id)
        if info is None:
            info = cpts[rec.cpts_id] = _Cpts()
        if rec.cpts_id != rec.cpts_nom:  # a row with no name (only an identifier) says nothing
            ids_of_name[fold_column(rec.cpts_nom)].setdefault(rec.cpts_id, rec.row)
            info.names.setdefault(fold_column(rec.cpts_nom), (rec.cpts_nom, rec.row))
        try:
            stage = stage_cache[rec.stage]
        except (KeyError, TypeError):
            stage = normalise_stage(rec.stage)
            if isinstance(rec.stage, str):
                stage_cache[rec.stage] = stage
        if stage is None:
            bad_stage_labels[str(rec.stage), rec.stage_column].append(rec.row)
        elif stage != "non_renseigne":
            info.stages.setdefault(stage, []).append((rec.row, rec.stage))
        if isinstance(rec.partage, bool):
            share_all = rec.partage
        else:
            share_text = fold_column(rec.partage)
            share_all = share_text in SHARE_TRUE
            if not share_all and share_text not in SHARE_FALSE:
                problems.append(Problem(path, "unrecognised value for a shared commune: write "
                                        "'infra' (or 'oui') for a commune shared below commune "
                                        "level, or leave it empty", row=rec.row,
                                        column=rec.share_column, value=rec.partage))
        infra = {fold_column(x) for x in rec.infra if fold_column(x)}
        if infra:
            info.infra |= infra
            info.infra_row = rec.row
        for column, raw in rec.codes:
            try:
                code = code_cache[raw]  # type: ignore[index]
            except (KeyError, TypeError):
                code = format_code(raw)
                if isinstance(raw, (str, int)) and not isinstance(raw, bool):
                    code_cache[raw] = code
            if code is None:
                problems.append(Problem(path, bad_code_hint(raw), row=rec.row, column=column,
                                        value=raw))
                continue
            if code in resolved:
                new = resolved[code]
            else:
                new = resolved[code] = resolve(code, crosswalk, current)
            if new is None:
                unknown[str(raw)].append((rec.row, column))
                continue
            if new != code:
                remapped[code] = new
                remap_rows[code].append(rec.row)
                code = new
            key = (rec.cpts_id, code)
            partage = share_all
            if infra:
                hit = {fold_column(code), fold_column(names.get(code, ""))} & infra
                if hit:
                    partage = True
                    info.matched_infra |= hit
            if key in seen:
                first_row, first_share = seen[key]
                if first_share != partage:
                    problems.append(Problem(
                        path, f"duplicate claim: CPTS {rec.cpts_nom!r} claims {code} twice (rows "
                        f"{first_row} and {rec.row}) with different 'partage' values; keep one "
                        "row", row=rec.row, column=column, value=raw))
                else:
                    dupes.append((rec.row, rec.cpts_nom, code, first_row))
                continue
            seen[key] = (rec.row, partage)
            out["cpts_id"].append(rec.cpts_id)
            out["code"].append(code)
            out["partage"].append(partage)
            out["ligne"].append(rec.row)
            for k in extra_names:
                extra_cols[k].append(rec.extra.get(k, ""))
    for value, where in unknown.items():
        rows = [r for r, _ in where]
        problems.append(Problem(
            path, "unknown code: neither a current commune or arrondissement code nor a "
            "historical one. Check it against the INSEE code officiel géographique (5 "
            "characters, e.g. 01001, 2A004)" + (f"; also on rows {rows_text(rows[1:])}"
                                                if len(rows) > 1 else ""),
            row=rows[0], column=where[0][1], value=value))
    for (label, column), rows in bad_stage_labels.items():
        problems.append(Problem(
            path, f"unknown stage (row(s) {rows_text(rows)}); accepted stages: "
            f"{', '.join(STAGES)}, or the labels used in listings such as 'ACI signé', 'projet "
            "de santé validé', \"lettre d'intention\", 'émergence' (an empty cell means non "
            "renseigné)", row=rows[0], column=column, value=label))
    for ids in ids_of_name.values():
        if len(ids) > 1:
            (first, _), (second, row) = list(ids.items())[:2]
            name = next(iter(cpts[first].names.values()))[0]
            shown = ", ".join(f"{i!r} (row {r})" for i, r in list(ids.items())[:SHOWN])
            problems.append(Problem(
                path, f"CPTS {name!r} is given {len(ids)} identifiers: {shown}. Give each CPTS "
                "one identifier (if that column numbers the rows rather than the CPTS, rename "
                "or delete it)", row=row, value=second))
    stage_of: dict[str, str] = {}
    name_of: dict[str, str] = {}
    for cid, info in cpts.items():
        name_of[cid] = next(iter(info.names.values()))[0] if info.names else cid
        if len(info.names) > 1:
            shown = "; ".join(f"{n!r} (row {r})" for n, r in info.names.values())
            problems.append(Problem(
                path, f"CPTS {cid!r} is given different names: {shown}. Give each CPTS one name "
                "(or different identifiers)", row=list(info.names.values())[1][1], value=cid))
        if len(info.stages) > 1:
            shown = "; ".join(f"{labels[0][1]!r} → {stage} (row(s) "
                              f"{rows_text([r for r, _ in labels])})"
                              for stage, labels in info.stages.items())
            second = list(info.stages.values())[1][0]
            problems.append(Problem(
                path, f"CPTS {name_of[cid]!r} is given two different stages: {shown}. Give each "
                "CPTS a single stage (rows left empty take the stage of the others).",
                row=second[0], value=second[1]))
        stage_of[cid] = next(iter(info.stages), "non_renseigne")
        if info.infra - info.matched_infra:
            missing = sorted(info.infra - info.matched_infra)
            problems.append(Problem(
                path, f"CPTS {name_of[cid]!r} declares shared communes that it does not claim: "
                f"{', '.join(missing)}. 'infra' must name (or give the code of) communes in its "
                "list of communes", row=info.infra_row, column="infra"))
    for old, rows in remap_rows.items():
        new = remapped[old]
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows_text(rows)}"
        warnings.append(f"{path}, {where}: code {old} is a former code, mapped to {new} "
                        f"({names.get(new, '')})")
    for row, name, code, first_row in dupes[:SHOWN]:
        warnings.append(f"{path}, row {row}: duplicate claim of {code} by CPTS {name!r} (first "
                        f"on row {first_row}); counted once")
    if len(dupes) > SHOWN:
        warnings.append(f"{path}: {len(dupes) - SHOWN} more duplicate claims, each counted once "
                        f"(rows {rows_text([d[0] for d in dupes[SHOWN:]])})")
    frame = pd.DataFrame({
        "cpts_id": pd.Series(out["cpts_id"], dtype=object),
        "cpts_nom": pd.Series([name_of[c] for c in out["cpts_id"]], dtype=object),
        "stade": pd.Series([stage_of[c] for c in out["cpts_id"]], dtype=object),
        "code": pd.Series(out["code"], dtype=object),
        "partage": pd.Series(out["partage"], dtype=bool),
        "ligne": pd.array(out["ligne"], dtype="Int64"),
    })
    for k, v in extra_cols.items():
        if k not in frame.columns:
            frame[k] = pd.Series(v, dtype=object)
    return frame, remapped


def registry_from_records(records: list[Record], source: str, reference: Reference,
                          problems: list[Problem] | None = None,
                          warnings: list[str] | None = None) -> Registry:
    """Validate parsed records into a :class:`Registry` (raise if any problem).

    Examples
    --------
    >>> registry_from_records([], "vide.csv", ref)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.ValidationError: 1 problem in the input:
      - vide.csv: no claims: the file has a header but no CPTS rows; ...
    """
    problems = [] if problems is None else problems
    warnings = [] if warnings is None else warnings
    claims, remapped = validate(records, source, reference, problems, warnings)
    if not problems and claims.empty:
        problems.append(Problem(source, "no claims: the file has a header but no CPTS rows; add "
                                "one row per commune claimed by a CPTS (cpts_nom, code_insee)"))
    if problems:
        # file-level problems first, then by row, as the user reads the file
        problems.sort(key=lambda p: -1 if p.row is None else p.row)
        raise ValidationError(problems)
    return Registry(claims, source, tuple(warnings), remapped)
