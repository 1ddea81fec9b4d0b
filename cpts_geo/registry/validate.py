"""Validation: raw claims of any format into a registry, with every problem found at once.

What can be fixed without guessing is fixed, with a warning (:class:`~cpts_geo.errors.Notice`):
codes remapped by the crosswalk (``05120`` → ``05001``), communes given by a former name,
exact duplicate claims (counted once), rows or features that name the uncovered area (``HORS
CPTS``, ``Zone blanche``...: their units are left unclaimed, as zones blanches), a stage that
the dates contradict. Everything else is a :class:`~cpts_geo.errors.Problem` naming the file,
row, column and value, and all of them are raised together in one
:class:`~cpts_geo.errors.ValidationError`.

The checks run over whole columns and over the distinct values of each (a national registry has
30,000 rows but a few hundred CPTS and a handful of stage labels), not row by row.

With dates and no stage, a CPTS's stage is the latest step its dates reach (:data:`STEPS`);
dates out of order (an ACI before the lettre d'intention) are errors.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import Notice, Problem, ValidationError
from ..reference.names import fold_words
from .columns import fold_column
from .dates import STEPS, parse_date
from .model import Registry
from .records import (
    SHOWN,
    RawClaims,
    Record,
    is_no_cpts,
    records_to_raw,
    rows_text,
    share_value,
)
from .resolve import resolve_units
from .stages import STAGES, normalise_stage

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["Validated", "registry_from_raw", "registry_from_records", "validate"]

_RAW_DATE = {"date_lettre_intention": "date_li", "date_projet_sante": "date_ps",
             "date_aci": "date_aci"}
_STEP_STAGE = {col: stage for col, stage, _ in STEPS}
_STEP_LABEL = {col: label for col, _, label in STEPS}


@dataclass
class Validated:
    """What :func:`validate` found: the claims and what the registry says beside them.

    Attributes
    ----------
    claims
        The claims frame (the columns of :attr:`~cpts_geo.registry.model.Registry.claims`).
    remapped
        Former code → current code.
    names
        The units given by name (see :attr:`~cpts_geo.registry.model.Registry.names`).
    unclaimed
        Units declared uncovered by rows named as no CPTS.
    """

    claims: pd.DataFrame
    remapped: dict[str, str] = field(default_factory=dict)
    names: pd.DataFrame | None = None
    unclaimed: tuple[str, ...] = ()


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Each value's code and the distinct values (missing ones too); ``None`` if unhashable."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    except TypeError:  # unhashable values (lists from JSON)
        return None
    return codes, np.asarray(uniques, dtype=object)


def _unique_map(values: pd.Series, func: object,
                factorized: tuple[np.ndarray, np.ndarray] | None = None) -> pd.Series:
    """``values.map(func)``, calling ``func`` once per distinct value (hashable or not).

    ``factorized`` is :func:`_factorize` of ``values`` when already computed.
    """
    found = factorized if factorized is not None else _factorize(values)
    if found is None:  # unhashable values: one call each
        return values.map(func)  # type: ignore[arg-type]
    codes, uniques = found
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [func(u) for u in uniques]  # type: ignore[operator]
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _row_keys(*factorized: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    """One integer per row, equal where the rows' values are all equal (``None``: unknown)."""
    key = None
    for found in factorized:
        if found is None:
            return None
        codes, uniques = found
        key = codes.astype(np.int64) if key is None else key * len(uniques) + codes
        if len(uniques) and key.max(initial=0) > 2**52:  # too many combinations to count
            return None
    return key


def _where(rows: list[int | None], features: bool) -> str:
    word = "feature" if features else "row"
    return f"{word} {rows[0]}" if len(rows) == 1 else f"{word}s {rows_text(rows)}"


def validate(raw: RawClaims, path: str, ref: Reference, problems: list[Problem],
             notices: list[Notice]) -> Validated:
    """Claims of ``raw``: units resolved, stages and dates read, every CPTS checked.

    Problems and warnings are appended to the lists given; the claims are only meaningful when
    no problem was found (see :func:`registry_from_raw`).

    Examples
    --------
    >>> from cpts_geo.registry.records import Record, records_to_raw
    >>> raw = records_to_raw([
    ...     Record(row=2, cpts_id="A", cpts_nom="A", stage="", codes=[("code", "5120")]),
    ...     Record(row=3, cpts_id="HORS CPTS", cpts_nom="HORS CPTS", stage="",
    ...            codes=[("code", "05003")])])
    >>> notices = []
    >>> out = validate(raw, "a.csv", ref, [], notices)
    >>> out.claims["code"].tolist(), out.remapped, out.unclaimed
    (['05001'], {'05120': '05001'}, ('05003',))
    >>> [n.kind for n in notices]
    ['code_ancien', 'hors_cpts']
    """
    c = raw.claims.reset_index(drop=True)
    features = raw.features
    cols = raw.columns
    n = len(c)
    lines = c["ligne"]
    # rows and features that name the uncovered area, not a CPTS
    f_nom, f_id, f_stage = (_factorize(c[col]) for col in ("cpts_nom", "cpts_id", "stage"))
    no_cpts = (_unique_map(c["cpts_nom"], is_no_cpts, f_nom).to_numpy(dtype=bool)
               | _unique_map(c["cpts_id"], is_no_cpts, f_id).to_numpy(dtype=bool)
               | _unique_map(c["stage"], lambda s: isinstance(s, str) and is_no_cpts(s),
                             f_stage).to_numpy(dtype=bool)) if n else np.zeros(0, dtype=bool)
    # stages, once per label
    stage = _unique_map(c["stage"], normalise_stage, f_stage).to_numpy(dtype=object)
    # rows alike for the checks of each CPTS: same identifier, name and stage (and dates)
    row_key = None if raw.dated else _row_keys(f_id, f_nom, f_stage)
    # shared communes, once per value
    share = _unique_map(c["partage"], share_value).to_numpy(dtype=object)
    for i in np.flatnonzero(pd.isna(share) & ~no_cpts):
        problems.append(Problem(path, "unrecognised value for a shared commune: write 'infra' "
                                "(or 'oui') for a commune shared below commune level, or leave "
                                "it empty", row=lines.iat[i], column=cols.get("share", "partage"),
                                value=c["partage"].iat[i]))
    share = np.where(pd.isna(share), False, share).astype(bool)
    # units
    resolved = resolve_units(c, ref, path, problems, notices, cols)
    codes = resolved.codes
    bad_stage = pd.isna(stage) & ~no_cpts
    if bad_stage.any():
        frame = pd.DataFrame({"label": c["stage"][bad_stage].astype(str),
                              "row": lines[bad_stage]})
        for label, sub in frame.groupby("label", sort=False):
            rows = sub["row"].tolist()
            problems.append(Problem(
                path, f"unknown stage (row(s) {rows_text(rows)}); accepted stages: "
                f"{', '.join(STAGES)}, or the labels used in listings such as 'ACI signé', "
                "'projet de santé validé', \"lettre d'intention\", 'émergence' (an empty cell "
                "means non renseigné)", row=rows[0], column=cols.get("stage", "stade"),
                value=label))
    # communes declared shared below commune level by name or code (JSON listing, perimeters)
    if raw.infra:
        share = _apply_infra(c, codes, share, raw, ref, path, problems)
    # rows named as no CPTS: their units are unclaimed
    unclaimed: tuple[str, ...] = ()
    if no_cpts.any():
        unclaimed = _no_cpts(c, codes, no_cpts, path, features, notices)
    keep = ~no_cpts & pd.notna(codes)
    # dates, once per cell value
    dates = {col: _read_dates(c, _RAW_DATE[col], col, cols, path, problems, notices, features)
             for col in raw.dated}
    claims = pd.DataFrame({
        "cpts_id": c["cpts_id"].to_numpy(dtype=object)[keep],
        "code": codes[keep],
        "partage": share[keep],
        "ligne": pd.array(lines.to_numpy()[keep], dtype="Int64"),
    })
    per_row = claims.assign(
        src=c["src"].to_numpy()[keep], nom=c["cpts_nom"].to_numpy(dtype=object)[keep],
        stage=stage[keep], label=c["stage"].to_numpy(dtype=object)[keep],
        column=c["column"].to_numpy(dtype=object)[keep],
        **{col: values[keep] for col, values in dates.items()})
    claims = _drop_duplicates(per_row, path, problems, notices, features).reset_index(drop=True)
    date_names = {col: cols.get(_RAW_DATE[col], col) for col in raw.dated}
    name_of, stage_of, date_of = _per_cpts(per_row, path, problems, notices, features,
                                           date_names,
                                           None if row_key is None else row_key[keep])
    ids = claims["cpts_id"]
    f_ids = _factorize(ids)  # each CPTS's name and stage looked up once, not per row
    out = pd.DataFrame({
        "cpts_id": ids.astype(object),
        "cpts_nom": _unique_map(ids, lambda i: name_of.get(i, np.nan), f_ids),
        "stade": _unique_map(ids, lambda i: stage_of.get(i, np.nan), f_ids),
        "code": claims["code"].astype(object),
        "partage": claims["partage"].astype(bool),
        "ligne": claims["ligne"],
    })
    for col in raw.dated:
        out[col] = pd.to_datetime(ids.map(date_of[col]), errors="coerce").astype(
            "datetime64[ns]")
    if len(raw.extras.columns):
        extras = raw.extras.iloc[claims["src"].to_numpy()].reset_index(drop=True)
        for name in extras.columns:
            if name not in out.columns:
                out[name] = pd.Series(extras[name].to_numpy(dtype=object), dtype=object)
    return Validated(out.reset_index(drop=True), resolved.remapped, resolved.names, unclaimed)


def _apply_infra(c: pd.DataFrame, codes: np.ndarray, share: np.ndarray, raw: RawClaims,
                 ref: Reference, path: str, problems: list[Problem]) -> np.ndarray:
    names = ref.units["nom"]
    share = share.copy()
    matched: dict[str, set[str]] = {}
    for i in range(len(c)):
        cid = c["cpts_id"].iat[i]
        if cid not in raw.infra or codes[i] is None:
            continue
        declared = raw.infra[cid][0]
        hit = {fold_words(codes[i]), fold_words(names.get(codes[i], ""))} & declared
        if hit:
            share[i] = True
            matched.setdefault(cid, set()).update(hit)
    for cid, (declared, row) in raw.infra.items():
        missing = sorted(declared - matched.get(cid, set()))
        if missing:
            name = c.loc[c["cpts_id"] == cid, "cpts_nom"].iloc[0] if (c["cpts_id"] == cid).any() \
                else cid
            problems.append(Problem(
                path, f"CPTS {name!r} declares shared communes that it does not claim: "
                f"{', '.join(missing)}. 'infra' must name (or give the code of) communes in its "
                "list of communes", row=row, column="infra"))
    return share


def _no_cpts(c: pd.DataFrame, codes: np.ndarray, no_cpts: np.ndarray, path: str,
             features: bool, notices: list[Notice]) -> tuple[str, ...]:
    sub = pd.DataFrame({"nom": c["cpts_nom"][no_cpts], "row": c["ligne"][no_cpts],
                        "code": codes[no_cpts]})
    for name, part in sub.groupby("nom", sort=False):
        rows = list(dict.fromkeys(part["row"].tolist()))
        units = part["code"].dropna().nunique()
        notices.append(Notice(
            "hors_cpts", f"{path}, {_where(rows, features)}: {name!r} is read as no CPTS: "
            f"{'its' if len(rows) == 1 else 'their'} {units} unit{'s' if units != 1 else ''} "
            "are counted as zones blanches, not as covered", rows[0]))
    declared = sub["code"].dropna()
    claimed = set(pd.Series(codes[~no_cpts]).dropna())
    both = sorted(set(declared) & claimed)
    if both:
        shown = ", ".join(both[:SHOWN]) + (" …" if len(both) > SHOWN else "")
        notices.append(Notice(
            "hors_cpts", f"{path}: {len(both)} unit(s) listed as no CPTS are also claimed by a "
            f"CPTS, and counted as claimed: {shown}", None))
    return tuple(sorted(set(declared) - claimed))


def _read_dates(c: pd.DataFrame, raw_col: str, col: str, cols: dict[str, str], path: str,
                problems: list[Problem], notices: list[Notice], features: bool) -> np.ndarray:
    parsed = _unique_map(c[raw_col], parse_date)
    values = np.asarray([p.value for p in parsed], dtype=object)
    column = cols.get(raw_col, col)
    frame = pd.DataFrame({"cell": c[raw_col].astype(str), "row": c["ligne"],
                          "error": [p.error for p in parsed],
                          "month": [p.month_only for p in parsed]})
    for cell, sub in frame[frame["error"].notna()].groupby("cell", sort=False):
        rows = list(dict.fromkeys(sub["row"].tolist()))
        also = f" (also on {_where(rows[1:], features)})" if len(rows) > 1 else ""
        problems.append(Problem(path, f"{sub['error'].iloc[0]}{also}", row=rows[0],
                                column=column, value=cell))
    for cell, sub in frame[frame["month"]].groupby("cell", sort=False):
        rows = list(dict.fromkeys(sub["row"].tolist()))
        notices.append(Notice("mois", f"{path}, {_where(rows, features)}: column {column!r} "
                              f"gives a month ({cell!r}), taken as its first day", rows[0]))
    return values


def _drop_duplicates(claims: pd.DataFrame, path: str, problems: list[Problem],
                     notices: list[Notice], features: bool) -> pd.DataFrame:
    """Claims counted once per (CPTS, unit); a repeated claim is a warning, or a problem.

    A problem when the two rows disagree on ``partage``.
    """
    dup = claims.duplicated(["cpts_id", "code"], keep="first").to_numpy()
    if dup.any():
        first = claims[~dup].set_index(["cpts_id", "code"])
        repeated = claims[dup]
        keys = pd.MultiIndex.from_frame(repeated[["cpts_id", "code"]])
        first_rows = first["ligne"].reindex(keys).to_numpy()
        first_share = first["partage"].reindex(keys).to_numpy()
        dupes = []
        for (_, r), row0, share0 in zip(repeated.iterrows(), first_rows, first_share,
                                        strict=True):
            if bool(share0) != bool(r["partage"]):
                problems.append(Problem(
                    path, f"duplicate claim: CPTS {r['nom']!r} claims {r['code']} twice (rows "
                    f"{row0} and {r['ligne']}) with different 'partage' values; keep one row",
                    row=r["ligne"], column=r["column"], value=r["code"]))
            else:
                dupes.append((r["ligne"], r["nom"], r["code"], row0))
        word = "feature" if features else "row"
        for row, name, code, row0 in dupes[:SHOWN]:
            notices.append(Notice("doublon", f"{path}, {word} {row}: duplicate claim of {code} "
                                  f"by CPTS {name!r} (first on {word} {row0}); counted once",
                                  row))
        if len(dupes) > SHOWN:
            notices.append(Notice(
                "doublon", f"{path}: {len(dupes) - SHOWN} more duplicate claims, each counted "
                f"once ({word}s {rows_text([d[0] for d in dupes[SHOWN:]])})", dupes[SHOWN][0]))
    return claims[~dup]


def _first_per_group(keys: pd.Series, values: Iterable[object]) -> dict[object, object]:
    out: dict[object, object] = {}
    for k, v in zip(keys, values, strict=True):
        out.setdefault(k, v)
    return out


def _groups_of_two(frame: pd.DataFrame, key: str, *, full: pd.DataFrame | None = None
                   ) -> Iterable[tuple[object, pd.DataFrame]]:
    """The groups of ``frame`` by ``key`` that hold two rows or more (of ``full`` if given).

    Most CPTS are consistent: only the few groups that may hold a problem are built.
    """
    twice = frame.loc[frame[key].duplicated(), key].unique()
    if not len(twice):
        return iter(())
    source = frame if full is None else full
    return source[source[key].isin(twice)].groupby(key, sort=False)


def _per_cpts(claims: pd.DataFrame, path: str, problems: list[Problem], notices: list[Notice],
              features: bool, date_names: dict[str, str] | None = None,
              row_key: np.ndarray | None = None
              ) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, object]]]:
    """The name, stage and dates of each CPTS, checked over all its rows.

    ``date_names`` gives the source's name of each date column, for messages.

    Checked first on the first row of each distinct combination of identifier, name, stage and
    dates (a few per CPTS, where a national registry has 30,000 rows): each CPTS gets the same
    name, stage and dates and the same warnings from them as from every row. Only when that
    finds a problem are all the rows looked at again, for messages listing every row.
    ``row_key`` (one integer per row, equal for rows alike) saves comparing the columns.
    """
    if row_key is not None:
        reduced = claims.iloc[np.sort(np.unique(row_key, return_index=True)[1])]
    else:
        keys = ["cpts_id", "nom", "stage", "label",
                *(c for c, _, _ in STEPS if c in claims.columns)]
        try:
            reduced = claims.drop_duplicates(keys)
        except TypeError:  # unhashable cells (lists from JSON)
            reduced = claims
    if len(reduced) < len(claims):
        found: list[Problem] = []
        warned: list[Notice] = []
        out = _per_cpts_rows(reduced, path, found, warned, features, date_names)
        if not found:
            notices.extend(warned)
            return out
    return _per_cpts_rows(claims, path, problems, notices, features, date_names)


def _per_cpts_rows(claims: pd.DataFrame, path: str, problems: list[Problem],
                   notices: list[Notice], features: bool, date_names: dict[str, str] | None
                   ) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, object]]]:
    """:func:`_per_cpts` over the rows of ``claims``."""
    rows = claims
    ids = rows["cpts_id"]
    named = rows["nom"].astype(str) != ids.astype(str)  # a row with only an id says nothing
    folded = _unique_map(rows["nom"], fold_column)
    # names of each identifier (the groups are looked at only where one holds two)
    pairs = pd.DataFrame({"id": ids[named], "fold": folded[named], "nom": rows["nom"][named],
                          "row": rows["ligne"][named]}).drop_duplicates(["id", "fold"])
    name_of: dict[str, str] = {str(i): str(i) for i in pd.unique(ids)}
    firsts = pairs.drop_duplicates("id")
    name_of.update(zip(firsts["id"].astype(str), firsts["nom"].astype(str), strict=True))
    for cid, sub in _groups_of_two(pairs, "id"):
        if len(sub) > 1:
            shown = "; ".join(f"{n!r} (row {r})" for n, r in zip(sub["nom"], sub["row"],
                                                                  strict=True))
            problems.append(Problem(
                path, f"CPTS {cid!r} is given different names: {shown}. Give each CPTS one name "
                "(or different identifiers)", row=sub["row"].iloc[1], value=cid))
    for _, sub in _groups_of_two(pairs.drop_duplicates(["fold", "id"]), "fold"):
        if len(sub) > 1:
            shown = ", ".join(f"{i!r} (row {r})" for i, r in list(zip(sub["id"], sub["row"],
                                                                      strict=True))[:SHOWN])
            problems.append(Problem(
                path, f"CPTS {sub['nom'].iloc[0]!r} is given {len(sub)} identifiers: {shown}. "
                "Give each CPTS one identifier (if that column numbers the rows rather than the "
                "CPTS, rename or delete it)", row=sub["row"].iloc[1], value=sub["id"].iloc[1]))
    # stages of each CPTS (rows left empty take the stage of the others)
    given = rows[rows["stage"] != "non_renseigne"]
    stage_of: dict[str, str] = {str(i): "non_renseigne" for i in pd.unique(ids)}
    labels = pd.DataFrame({"id": given["cpts_id"], "stage": given["stage"],
                           "row": given["ligne"], "label": given["label"]})
    firsts = labels.drop_duplicates("id")
    stage_of.update(zip(firsts["id"].astype(str), firsts["stage"].astype(str), strict=True))
    distinct = labels.drop_duplicates(["id", "stage"])
    twice = set(distinct.loc[distinct["id"].duplicated(), "id"])
    for cid, sub in labels[labels["id"].isin(twice)].groupby("id", sort=False):
        stages = list(dict.fromkeys(sub["stage"]))
        if len(stages) > 1:
            parts = []
            for s in stages:
                of_stage = sub[sub["stage"] == s]
                parts.append(f"{of_stage['label'].iloc[0]!r} → {s} (row(s) "
                             f"{rows_text(of_stage['row'].tolist())})")
            second = sub[sub["stage"] == stages[1]].iloc[0]
            problems.append(Problem(
                path, f"CPTS {name_of[str(cid)]!r} is given two different stages: "
                f"{'; '.join(parts)}. Give each CPTS a single stage (rows left empty take the "
                "stage of the others).", row=second["row"], value=second["label"]))
    date_of = _dates_per_cpts(rows, name_of, stage_of, path, problems, notices, features,
                              date_names or {})
    return name_of, stage_of, date_of


def _dates_per_cpts(rows: pd.DataFrame, name_of: dict[str, str], stage_of: dict[str, str],
                    path: str, problems: list[Problem], notices: list[Notice],
                    features: bool, date_names: dict[str, str]) -> dict[str, dict[str, object]]:
    date_cols = [col for col, _, _ in STEPS if col in rows.columns]
    date_of: dict[str, dict[str, object]] = {col: {} for col in date_cols}
    if not date_cols:
        return date_of
    for col in date_cols:
        given = rows[pd.notna(rows[col])]
        firsts = given.drop_duplicates("cpts_id")
        date_of[col].update(zip(firsts["cpts_id"].astype(str), firsts[col], strict=True))
        for cid, sub in _groups_of_two(given.drop_duplicates(["cpts_id", col]), "cpts_id",
                                       full=given):
            values = list(dict.fromkeys(sub[col]))
            if len(values) > 1:
                shown = "; ".join(f"{v:%d/%m/%Y} (row(s) "
                                  f"{rows_text(sub.loc[sub[col] == v, 'ligne'].tolist())})"
                                  for v in values[:SHOWN])
                problems.append(Problem(
                    path, f"CPTS {name_of[str(cid)]!r} is given different dates of "
                    f"{_STEP_LABEL[col]}: {shown}. Give each CPTS one date per step (rows left "
                    "empty take the date of the others).",
                    row=sub.loc[sub[col] == values[1], "ligne"].iloc[0],
                    column=date_names.get(col, col), value=f"{values[1]:%d/%m/%Y}"))
    first_row = _first_per_group(rows["cpts_id"], rows["ligne"])
    for cid in name_of:
        steps = [(col, date_of[col].get(cid)) for col in date_cols]
        steps = [(col, d) for col, d in steps if d is not None]
        for (a, da), (b, db) in itertools.pairwise(steps):
            if db < da:  # type: ignore[operator]
                problems.append(Problem(
                    path, f"CPTS {name_of[cid]!r}: dates out of order: {_STEP_LABEL[b]} on "
                    f"{db:%d/%m/%Y} comes before {_STEP_LABEL[a]} on {da:%d/%m/%Y}. Check both "
                    "dates (the steps go: lettre d'intention, projet de santé, ACI).",
                    row=first_row.get(cid), column=date_names.get(b, b),  # type: ignore[arg-type]
                    value=f"{db:%d/%m/%Y}"))
        if not steps:
            continue
        reached = _STEP_STAGE[steps[-1][0]]
        given = stage_of.get(cid, "non_renseigne")
        if given == "non_renseigne":
            stage_of[cid] = reached
        elif STAGES.index(given) > STAGES.index(reached):  # the dates show a later step
            notices.append(Notice(
                "stade_dates", f"{path}, {'feature' if features else 'row'} "
                f"{first_row.get(cid)}: CPTS {name_of[cid]!r} is at stage {given!r} but is "
                f"dated {_STEP_LABEL[steps[-1][0]]} on {steps[-1][1]:%d/%m/%Y} (stage "
                f"{reached!r}); the stage given is kept", first_row.get(cid)))  # type: ignore[arg-type]
    return date_of


def registry_from_raw(raw: RawClaims, source: str, reference: Reference,
                      problems: list[Problem] | None = None,
                      notices: list[Notice | str] | None = None) -> Registry:
    """Validate raw claims into a :class:`~cpts_geo.registry.model.Registry` (raise if any problem).

    Examples
    --------
    >>> from cpts_geo.registry.records import RawClaims, empty_raw
    >>> registry_from_raw(RawClaims(empty_raw()), "vide.csv", ref)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.ValidationError: 1 problem in the input:
      - vide.csv: no claims: the file has a header but no CPTS rows; ...
    """
    problems = [] if problems is None else problems
    found: list[Notice] = [n if isinstance(n, Notice) else _as_notice(n)
                           for n in (notices or [])]
    out = validate(raw, source, reference, problems, found)
    if not problems and out.claims.empty:
        if out.unclaimed:
            problems.append(Problem(source, "no CPTS: every row is named as no CPTS (HORS CPTS, "
                                    "zone blanche...); add the CPTS and their communes"))
        else:
            problems.append(Problem(source, "no claims: the file has a header but no CPTS rows; "
                                    "add one row per commune claimed by a CPTS (cpts_nom, "
                                    "code_insee)"))
    if problems:
        # file-level problems first, then by row, as the user reads the file
        problems.sort(key=lambda p: -1 if p.row is None else p.row)
        raise ValidationError(problems)
    order = {kind: i for i, kind in enumerate(dict.fromkeys(n.kind for n in found))}
    found.sort(key=lambda n: order[n.kind])
    return Registry(out.claims, source, tuple(n.message for n in found), out.remapped,
                    tuple(found), out.names if out.names is not None else Registry(
                        out.claims, source).names, out.unclaimed)


def registry_from_records(records: list[Record], source: str, reference: Reference,
                          problems: list[Problem] | None = None,
                          warnings: list[str] | None = None) -> Registry:
    """Validate records (one per CPTS: the JSON listing, perimeters) into a registry.

    Examples
    --------
    >>> rec = Record(row=1, cpts_id="CPTS A", cpts_nom="CPTS A", stage="ACI signé",
    ...              codes=[("communes", "13001")])
    >>> registry_from_records([rec], "a.json", ref).claims[["code", "stade"]].values.tolist()
    [['13001', 'fonctionnement']]
    """
    return registry_from_raw(records_to_raw(records), source, reference, problems, warnings)


def _as_notice(message: str) -> Notice:
    kind = ("encodage" if "Windows-1252" in message else
            "feuille" if "sheet" in message else
            "perimetre" if "CRS" in message or "make_valid" in message else "autre")
    return Notice(kind, message)
