"""Time: a dated registry as it stood on a given day, and its evolution month by month.

A registry with dates (:attr:`~cpts_geo.registry.model.Registry.dated`: the days each CPTS's
lettre d'intention, projet de santé and ACI were validated, :data:`~cpts_geo.registry.dates.STEPS`)
can be read at any day (``--at``, :func:`registry_at`) and followed over time
(:func:`evolution`). The rules, the same for both:

1. **Present.** A CPTS is in the registry on a day when its first date (of any step) is on or
   before that day. Before it, it is not there yet: its units are not covered.
2. **Stage.** On that day it has the stage of the latest step dated on or before it: lettre
   d'intention validée, projet de santé validé, ACI signé (en fonctionnement).
3. **Never beyond the stage given.** The stage the registry gives is where the CPTS is now: it
   is never counted beyond it. A CPTS at *lettre d'intention* in the registry but with an ACI
   date (the reader warns that they disagree) stays at *lettre d'intention*; a CPTS at
   *émergence* with a lettre d'intention date is at *émergence* from that date.
4. **A stage with no date is never reached.** A CPTS whose stage is beyond its
   dated steps (*en fonctionnement*, with only the date of its lettre d'intention) reached that
   stage on a day the registry does not say: at every date it is counted at its latest dated
   step, and a warning (``stade_non_date``) names it. Give the dates of the later steps to count
   it from them.
5. **No date at all.** A CPTS with no date in a dated registry (often one at *émergence*, a
   stage with no dated step) started on a day the registry does not say: it is left out at
   every date, and a warning (``sans_date``) names it. Give its lettre d'intention date to count
   it.

Rules 4 and 5 count only what the registry shows had happened by the day: a figure at a past
date is never higher than the dates support. So the registry read on a day after all its dates
is the registry itself, except the CPTS of rules 4 and 5, which the warnings name. The
perimeter of the figures is the whole registry's (a région whose first CPTS came later is in
the figures from the start, at 0 %).

The evolution gives, at the end of each month (its last day), the number of CPTS by stage and
the population covered at each stage threshold of
:data:`~cpts_geo.registry.stages.THRESHOLDS`, over the perimeter, by région and by département:
the figures :func:`~cpts_geo.analysis.core.analyse` gives for the registry read on that day,
computed without running it month by month (membership once, then for each month only which
CPTS are there and at which stage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import CptsGeoError, Notice
from ..registry import membership, perimeter, scope_regions
from ..registry.columns import DATE_ACI_NAMES, DATE_LI_NAMES, DATE_PS_NAMES
from ..registry.dates import STEPS, parse_when
from ..registry.model import Registry
from ..registry.stages import STAGES, THRESHOLDS

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["LEVELS", "Evolution", "as_day", "cpts_dates", "evolution", "month_ends",
           "registry_at", "require_dates"]

#: The tables of an evolution, as in :attr:`~cpts_geo.analysis.core.Analysis.couverture`.
LEVELS: tuple[str, ...] = ("france", "region", "departement")
_RANK = {s: i for i, s in enumerate(STAGES)}  # 0 = the most advanced
_NEVER = np.iinfo(np.int64).max
_STEP_LABELS = {col: label for col, _, label in STEPS}
_SHOWN = 5


def _threshold_rank(stages: tuple[str, ...]) -> int:
    """The least advanced stage a threshold counts; thresholds count every stage above it."""
    worst = max(_RANK[s] for s in stages)
    if {s for s in STAGES if _RANK[s] <= worst} != set(stages):  # pragma: no cover
        raise ValueError(f"threshold {stages} is not 'this stage or more advanced'")
    return worst


_THRESHOLD_RANK = {name: _threshold_rank(stages) for name, stages in THRESHOLDS.items()}


def require_dates(registry: Registry, option: str = "--at") -> None:
    """Raise a clear error when ``registry`` has no date column (it cannot be read at a date).

    Raises
    ------
    CptsGeoError
        Naming the option, the registry and the columns that would make it possible.

    Examples
    --------
    >>> require_dates(reg)  # the PACA listing gives no dates
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --at needs a dated registry, and .../paca-2026-01.csv has no
    date column. Add the date each CPTS reached its steps, in columns named like
    date_lettre_intention (or date_li, date_validation_lettre_intention), date_projet_sante (or
    date_ps, date_validation_projet_de_sante) and date_aci (or date_signature_aci, Date
    signature ACI); dates as dd/mm/yyyy, yyyy-mm-dd, Excel date cells or a month (juin 2021).
    """
    if registry.dated:
        return
    raise CptsGeoError(
        f"{option} needs a dated registry, and {registry.source} has no date column. Add the "
        "date each CPTS reached its steps, in columns named like "
        f"{DATE_LI_NAMES[0]} (or {DATE_LI_NAMES[2]}, {DATE_LI_NAMES[3]}), "
        f"{DATE_PS_NAMES[0]} (or {DATE_PS_NAMES[2]}, {DATE_PS_NAMES[4]}) and "
        f"{DATE_ACI_NAMES[0]} (or {DATE_ACI_NAMES[1]}, Date signature ACI); dates as "
        "dd/mm/yyyy, yyyy-mm-dd, Excel date cells or a month (juin 2021).")


def as_day(value: object, option: str = "--at") -> dt.date:
    """A day from a date, a datetime, a Timestamp or text (as ``--at`` accepts it).

    A month alone (``06/2021``) is its first day.

    Raises
    ------
    CptsGeoError
        When ``value`` is not a date; the message names ``option`` and the accepted forms.

    Examples
    --------
    >>> as_day("2021-06-15"), as_day(pd.Timestamp("2021-06-15 10:00"))
    (datetime.date(2021, 6, 15), datetime.date(2021, 6, 15))
    >>> as_day("hier")
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --at 'hier' is not a date: give it as yyyy-mm-dd ...
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_when(value, option)
    except ValueError as exc:
        raise CptsGeoError(str(exc)) from None


def cpts_dates(registry: Registry) -> pd.DataFrame:
    """One row per CPTS: its stage given, its step dates, first date and last dated stage.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cpts_id``: ``cpts_nom``, ``stade`` (as the registry gives it), the date
        columns of the registry (``datetime64``), ``debut`` (the first date, ``NaT`` when none)
        and ``stade_date`` (the stage of its latest dated step, ``None`` when none).

    Examples
    --------
    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims[reg.claims["cpts_id"].isin(["PACA-001", "PACA-002"])].assign(
    ...     date_lettre_intention=pd.Timestamp("2019-03-01"),
    ...     date_aci=pd.Timestamp("2021-06-15"))
    >>> claims.loc[claims["cpts_id"] == "PACA-002", "date_aci"] = pd.NaT
    >>> t = cpts_dates(Registry(claims, "daté.csv"))
    >>> t[["debut", "stade_date"]].astype(str).values.tolist()
    [['2019-03-01', 'fonctionnement'], ['2019-03-01', 'lettre_intention']]
    """
    cpts = registry.cpts
    dated = [c for c in registry.dated if c in cpts.columns]
    out = cpts[["cpts_nom", "stade", *dated]].copy()
    for col in dated:
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    out["debut"] = out[dated].min(axis=1) if dated else pd.NaT
    out["debut"] = pd.to_datetime(out["debut"]).astype("datetime64[ns]")
    last: list[str | None] = [None] * len(out)
    for col, stage, _ in STEPS:
        if col not in dated:
            continue
        has = out[col].notna().to_numpy()
        for i in np.flatnonzero(has):
            if last[i] is None or _RANK[stage] < _RANK[last[i]]:  # type: ignore[index]
                last[i] = stage
    out["stade_date"] = pd.Series(last, index=out.index, dtype=object)
    return out


def _ns(values: pd.Series) -> np.ndarray:
    """``datetime64`` as int64 nanoseconds, :data:`_NEVER` for ``NaT``."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    out = arr.astype(np.int64)
    out[np.isnat(arr)] = _NEVER
    return out


def _caps(stages: pd.Series) -> np.ndarray:
    """Rank of the stage given, the cap of the stage counted (``non_renseigne``: no cap)."""
    ranks = stages.map(_RANK).fillna(_RANK["non_renseigne"]).to_numpy(dtype=np.int64)
    return np.where(ranks == _RANK["non_renseigne"], 0, ranks)


def _stage_ranks(table: pd.DataFrame, dated: Iterable[str], times: np.ndarray) -> np.ndarray:
    """Rank of each CPTS's stage at each time (times × CPTS); -1 where it is not there yet."""
    times = np.asarray(times, dtype=np.int64)
    best = np.full((len(times), len(table)), _NEVER, dtype=np.int64)
    for col, stage, _ in STEPS:
        if col not in dated:
            continue
        reached = _ns(table[col])[None, :] <= times[:, None]
        best = np.where(reached, np.minimum(best, _RANK[stage]), best)
    present = best != _NEVER
    ranks = np.maximum(best, _caps(table["stade"])[None, :])
    return np.where(present, ranks, -1)


def _names(ids: Iterable[str], names: pd.Series) -> str:
    ids = list(ids)
    shown = ", ".join(repr(str(names.get(i, i))) for i in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _beyond(table: pd.DataFrame) -> np.ndarray:
    """Whether each CPTS is at a stage its dates do not reach (rule 4)."""
    caps = _caps(table["stade"])
    last = table["stade_date"].map(lambda s: _RANK.get(s, -1) if s else -1).to_numpy()
    return (last >= 0) & (caps < last)


def _timeline_notices(table: pd.DataFrame, source: str,
                      present: np.ndarray | None = None) -> list[Notice]:
    """The warnings of rules 4 and 5 (module docstring), for the CPTS concerned."""
    notices = []
    names = table["cpts_nom"]
    undated = table.index[table["debut"].isna()]
    if len(undated):
        notices.append(Notice(
            "sans_date", f"{source}: {len(undated)} CPTS have no date ({_names(undated, names)}):"
            " when they started is not known, so they are left out at every date (--at, "
            "evolution); give the date of their lettre d'intention to count them"))
    beyond = _beyond(table)
    if present is not None:
        beyond &= present
    for cid in table.index[beyond]:
        r = table.loc[cid]
        step = next(col for col, s, _ in STEPS if s == r["stade_date"])
        notices.append(Notice(
            "stade_non_date", f"{source}, CPTS {r['cpts_nom']!r}: at stage {r['stade']!r} but "
            f"its dates go only to {_STEP_LABELS[step]} ({r[step]:%d/%m/%Y}): the day it "
            f"reached {r['stade']!r} is not known, so it is counted at {r['stade_date']!r} at "
            "every date; give the dates of its later steps to count them"))
    return notices


def registry_at(registry: Registry, when: object, reference: Reference | None = None
                ) -> Registry:
    """The registry as it stood on ``when``: the CPTS there by then, at the stage reached.

    See the module docstring for the rules (present from the first date; the stage of the
    latest step dated by then, never beyond the stage given; CPTS and stages with no date).

    Parameters
    ----------
    registry
        A dated registry.
    when
        The day (a date, or text such as ``2021-06-15``, ``15/06/2021``, ``06/2021``).
    reference
        When given, the result keeps the whole registry's perimeter
        (:attr:`~cpts_geo.registry.model.Registry.regions`), so that the figures at a past
        date are over the same régions as today's; without it, the perimeter is found from the
        CPTS there on ``when``.

    Returns
    -------
    Registry
        A new registry: the claims of the CPTS present, with their stage on ``when`` and only
        the dates on or before it; its source says the day (``… au 15/06/2021``); its
        warnings are the registry's and those of rules 4 and 5 for the CPTS concerned.

    Raises
    ------
    CptsGeoError
        When the registry has no date column (naming the columns that would make it
        possible), or ``when`` is not a date.

    Examples
    --------
    Two CPTS of the PACA listing, dated: the first signs its ACI in June 2021.

    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims[reg.claims["cpts_id"].isin(["PACA-001", "PACA-002"])].assign(
    ...     date_lettre_intention=pd.Timestamp("2019-03-01"), date_aci=pd.NaT,
    ...     stade="lettre_intention")
    >>> claims.loc[claims["cpts_id"] == "PACA-001", ["date_aci", "stade"]] = [
    ...     pd.Timestamp("2021-06-15"), "fonctionnement"]
    >>> claims.loc[claims["cpts_id"] == "PACA-002", "date_lettre_intention"] = pd.Timestamp(
    ...     "2020-01-10")
    >>> dated = Registry(claims, "daté.csv")
    >>> registry_at(dated, "2019-12-31").cpts["stade"].to_dict()
    {'PACA-001': 'lettre_intention'}
    >>> at = registry_at(dated, "2021-06-15", ref)
    >>> at.cpts["stade"].to_dict(), at.source, at.regions
    ({'PACA-001': 'fonctionnement', 'PACA-002': 'lettre_intention'}, 'daté.csv au 15/06/2021',
     ('93',))
    >>> registry_at(reg, "2021-06-15")
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --at needs a dated registry, and .../paca-2026-01.csv has no
    date column. ...
    """
    require_dates(registry)
    day = as_day(when)
    stamp = np.datetime64(day, "ns").astype(np.int64)
    table = cpts_dates(registry)
    ranks = _stage_ranks(table, registry.dated, np.asarray([stamp]))[0]
    present = ranks >= 0
    stage_of = dict(zip(table.index[present], np.asarray(STAGES, dtype=object)[ranks[present]],
                        strict=True))
    claims = registry.claims
    claims = claims[claims["cpts_id"].isin(stage_of)].copy()
    claims["stade"] = claims["cpts_id"].map(stage_of).astype(object)
    limit = pd.Timestamp(day)
    for col in registry.dated:
        claims[col] = claims[col].where(claims[col] <= limit).astype("datetime64[ns]")
    claims = claims.reset_index(drop=True)
    notices = _timeline_notices(table, registry.source, present)
    regions = registry.regions
    if regions is None and reference is not None:
        regions = perimeter(registry, reference)
    all_notices = (*registry.notices, *notices)
    return Registry(claims, f"{registry.source} au {day:%d/%m/%Y}",
                    (*registry.warnings, *(n.message for n in notices)), dict(registry.remapped),
                    all_notices, registry.names, registry.unclaimed, regions)


def month_ends(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """The last day of each month from ``start``'s month to ``end``'s, both included.

    Examples
    --------
    >>> [d.strftime("%Y-%m-%d") for d in month_ends(dt.date(2023, 11, 20), dt.date(2024, 2, 1))]
    ['2023-11-30', '2023-12-31', '2024-01-31', '2024-02-29']
    """
    first = pd.Timestamp(start.year, start.month, 1)
    last = pd.Timestamp(end.year, end.month, 1)
    return pd.date_range(first, last, freq="MS") + pd.offsets.MonthEnd(0)


@dataclass(frozen=True, eq=False)
class Evolution:
    """A dated registry's figures month by month (:func:`evolution`).

    Attributes
    ----------
    source
        The registry's source.
    region
        The région asked for, or ``None``.
    perimeter
        The régions of the figures (``None``: all of France).
    label
        What the figures are about, in French (``93 Provence-Alpes-Côte d'Azur``, ``France``).
    tables
        ``france`` (the whole perimeter), ``region``, ``departement`` → one row per (group,
        month): ``mois`` (``2021-06``), ``date`` (the month's last day, when the figures are
        taken), ``code``, ``nom``, ``population_totale``, ``n_cpts`` and ``n_cpts_<stade>`` for
        each stage, ``population_couverte_<seuil>`` and ``taux_<seuil>`` (percent, two
        decimals) for each threshold of :data:`~cpts_geo.registry.stages.THRESHOLDS`; sorted by
        code then month. The perimeter's rows have code ``FR``.
    notices
        The warnings of the rules for CPTS and stages with no date (module docstring).
    undated
        The CPTS with no date at all, counted at no month (rule 5).
    beyond
        The CPTS at a stage their dates do not reach, counted at their last dated step
        (rule 4).
    """

    source: str
    region: str | None
    perimeter: tuple[str, ...] | None
    label: str
    tables: dict[str, pd.DataFrame]
    notices: tuple[Notice, ...] = ()
    undated: tuple[str, ...] = ()
    beyond: tuple[str, ...] = ()

    @property
    def months(self) -> list[str]:
        """The months, ``YYYY-MM``, in order.

        Examples
        --------
        >>> from cpts_geo.registry import Registry
        >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15")), "d.csv")
        >>> evolution(dated, ref, start="2021-05-01", end="2021-07-01").months
        ['2021-05', '2021-06', '2021-07']
        """
        return self.tables["france"]["mois"].tolist()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The messages of :attr:`notices`."""
        return tuple(n.message for n in self.notices)

    def to_dict(self) -> dict[str, Any]:
        """The ``evolution --json`` object.

        Keys: ``registre``, ``perimetre`` (in words), ``perimetre_regions``, ``region``,
        ``debut`` and ``fin`` (the first and last month), ``regle`` (how the figures are
        taken, in French), ``mois`` (one object per month: ``mois``, ``date``,
        ``population_totale``, ``n_cpts``, ``n_cpts_par_stade``, ``par_stade`` with
        ``population_couverte`` and ``taux_couverture`` for each threshold, as in
        ``coverage --json``), ``par_region`` and ``par_departement`` (one object per group:
        ``code``, ``nom``, ``mois``: the same list) and ``avertissements``.

        Examples
        --------
        >>> from cpts_geo.registry import Registry
        >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
        ...                                    stade="fonctionnement"), "d.csv")
        >>> d = evolution(dated, ref, start="2021-05", end="2021-06").to_dict()
        >>> [m["par_stade"]["fonctionnement"]["taux_couverture"] for m in d["mois"]]
        [0.0, 98.06]
        >>> d["mois"][1]["n_cpts_par_stade"]["fonctionnement"], len(d["par_departement"])
        (70, 6)
        """
        def months(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for r in frame.itertuples(index=False):
                row = r._asdict()
                out.append({
                    "mois": row["mois"], "date": row["date"].isoformat(),
                    "population_totale": int(row["population_totale"]),
                    "n_cpts": int(row["n_cpts"]),
                    "n_cpts_par_stade": {s: int(row[f"n_cpts_{s}"]) for s in STAGES},
                    "par_stade": {t: {"population_couverte": int(row[f"population_couverte_{t}"]),
                                      "taux_couverture": float(row[f"taux_{t}"])}
                                  for t in THRESHOLDS}})
            return out

        def groups(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{"code": str(code), "nom": str(part["nom"].iloc[0]), "mois": months(part)}
                    for code, part in frame.groupby("code", sort=True)]

        france = self.tables["france"]
        perimeter = self.perimeter
        return {
            "registre": self.source,
            "perimetre": self.label,
            "perimetre_regions": None if perimeter is None else list(perimeter),
            "region": self.region,
            "debut": self.months[0] if len(france) else None,
            "fin": self.months[-1] if len(france) else None,
            "regle": RULE,
            "mois": months(france),
            "par_region": groups(self.tables["region"]),
            "par_departement": groups(self.tables["departement"]),
            "avertissements": list(self.warnings),
        }


#: How the figures are taken, in French, for the reports and the JSON.
RULE = ("Chiffres au dernier jour de chaque mois. Une CPTS compte à partir de sa première date "
        "(lettre d'intention, projet de santé ou ACI), au stade de la dernière étape datée à ce "
        "jour, jamais au-delà du stade indiqué par le registre ; une CPTS sans aucune date n'est "
        "comptée à aucune date.")


def _window(table: pd.DataFrame, dated: tuple[str, ...], start: object, end: object,
            source: str) -> tuple[dt.date, dt.date]:
    values = pd.concat([table[c] for c in dated]).dropna()
    first = as_day(start, "--from") if start is not None else None
    last = as_day(end, "--to") if end is not None else None
    if values.empty and (first is None or last is None):
        raise CptsGeoError(f"{source}: its date columns ({', '.join(dated)}) are empty: no "
                           "CPTS has a date, so there is no evolution to show. Fill in the "
                           "dates (or give both --from and --to)")
    last = last or values.max().date()
    first = first or min(values.min().date(), last)  # --to before every date: one month
    if (last.year, last.month) < (first.year, first.month):
        raise CptsGeoError(f"--from {first:%m/%Y} comes after --to {last:%m/%Y}: give --from "
                           "before --to")
    return first, last


def evolution(registry: Registry, reference: Reference, *, region: str | None = None,
              start: object = None, end: object = None, france: bool = False,
              steps: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> Evolution:
    """The figures of a dated registry at the end of each month.

    Parameters
    ----------
    registry
        A dated registry.
    reference
        The reference data.
    region
        Only this région; by default the registry's perimeter (as
        :func:`~cpts_geo.analysis.core.analyse`).
    start, end
        The first and last month (any day of it, as a date or text); by default the months of
        the registry's first and last dates.
    france
        Figures over all of France (ignored with ``region``).
    steps
        Wraps the loop over the tables (e.g. a progress bar); ``iter`` by default.

    Returns
    -------
    Evolution
        At each month's last day, what ``analyse(registry_at(registry, day, reference))``
        gives: CPTS by stage, population covered at each threshold and the rates, over the
        perimeter, by région and by département.

    Raises
    ------
    CptsGeoError
        When the registry has no date column, no date at all, ``start`` comes after ``end``,
        or ``region`` is not a région code.

    Examples
    --------
    Every CPTS of the PACA listing signs its ACI in June 2021 (a lettre d'intention in 2020):

    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_lettre_intention=pd.Timestamp("2020-01-01"),
    ...                                    date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> e = evolution(dated, ref, start="2021-05", end="2021-07")
    >>> e.tables["france"][["mois", "n_cpts_fonctionnement", "taux_fonctionnement",
    ...                     "taux_tous_stades"]].values.tolist()
    [['2021-05', 0, 0.0, 98.06], ['2021-06', 70, 98.06, 98.06], ['2021-07', 70, 98.06, 98.06]]
    >>> e.tables["departement"]["code"].unique().tolist()
    ['04', '05', '06', '13', '83', '84']
    """
    require_dates(registry, "evolution")
    finest = reference.finest
    if region is not None:
        region = reference.region_code(region)
    table = cpts_dates(registry)
    first, last = _window(table, registry.dated, start, end, registry.source)
    ends = month_ends(first, last)
    members = membership(registry, reference)
    regions = scope_regions(registry, reference, members, region=region, france=france)
    units = finest if regions is None else finest[finest["region"].isin(regions)]
    # claims on the units of the scope, by position
    pos = units.index.get_indexer(members["code"])
    inside = pos >= 0
    m_pos = pos[inside]
    cpts_pos = table.index.get_indexer(members["cpts_id"].to_numpy()[inside])
    # each CPTS's stage at each month's end (months × CPTS), then the month it enters each
    # threshold (stages only advance: a threshold once reached stays reached)
    times = ends.to_numpy(dtype="datetime64[ns]").astype(np.int64)  # midnight: dates are days
    ranks = _stage_ranks(table, registry.dated, times)
    n_months = len(ends)
    entry = {}
    for name, worst in _THRESHOLD_RANK.items():
        inside_t = (ranks >= 0) & (ranks <= worst)
        first_month = np.where(inside_t.any(axis=0), inside_t.argmax(axis=0), n_months)
        entry[name] = first_month
    population = units["population"].to_numpy(dtype=np.int64)
    tables = {}
    for level in steps(LEVELS):
        tables[level] = _level_table(level, units, reference, population, m_pos, cpts_pos,
                                     ranks, entry, ends)
    label = "France" if regions is None else ", ".join(
        f"{r} {reference.region_name(r)}" for r in regions)
    return Evolution(registry.source, region, regions, label, tables,
                     tuple(_timeline_notices(table, registry.source)),
                     tuple(map(str, table.index[table["debut"].isna()])),
                     tuple(map(str, table.index[_beyond(table)])))


def _level_table(level: str, units: pd.DataFrame, reference: Reference, population: np.ndarray,
                 m_pos: np.ndarray, cpts_pos: np.ndarray, ranks: np.ndarray,
                 entry: dict[str, np.ndarray], ends: pd.DatetimeIndex) -> pd.DataFrame:
    """One level's table (see :attr:`Evolution.tables`)."""
    n_months = len(ends)
    if level == "france":
        group_of_unit = np.zeros(len(units), dtype=np.int64)
        codes = np.asarray(["FR"], dtype=object)
        names = np.asarray(["France"], dtype=object)
    else:
        group_of_unit, codes = pd.factorize(units[level].to_numpy(), sort=True)
        lookup = reference.regions["nom"] if level == "region" else reference.departements["nom"]
        names = lookup.reindex(codes).fillna(pd.Series(codes, index=codes)).to_numpy(
            dtype=object)
        codes = np.asarray(codes, dtype=object)
    n_groups = len(codes)
    totals = np.bincount(group_of_unit, weights=population, minlength=n_groups)
    # population covered: each unit enters a threshold in the first month one of its CPTS does
    claim_group = group_of_unit[m_pos]
    covered = {}
    for name, first_month in entry.items():
        unit_month = np.full(len(units), n_months, dtype=np.int64)
        np.minimum.at(unit_month, m_pos, first_month[cpts_pos])
        ok = unit_month < n_months
        sums = np.bincount(group_of_unit[ok] * n_months + unit_month[ok],
                           weights=population[ok], minlength=n_groups * n_months)
        covered[name] = np.rint(np.cumsum(sums.reshape(n_groups, n_months), axis=1)).astype(
            np.int64)
    # CPTS by stage: the (group, CPTS) pairs, each CPTS's stage at each month
    pairs = pd.DataFrame({"g": claim_group, "c": cpts_pos}).drop_duplicates().to_numpy()
    stage_counts = np.zeros((len(STAGES), n_groups, n_months), dtype=np.int64)
    if len(pairs):
        pair_ranks = ranks[:, pairs[:, 1]]  # months × pairs
        for s in range(len(STAGES)):
            hits = (pair_ranks == s).T.astype(np.int64)  # pairs × months
            np.add.at(stage_counts[s], pairs[:, 0], hits)
    frame: dict[str, Any] = {
        "mois": np.tile(ends.strftime("%Y-%m").to_numpy(dtype=object), n_groups),
        "date": np.tile(np.asarray([d.date() for d in ends], dtype=object), n_groups),
        "code": np.repeat(codes, n_months),
        "nom": np.repeat(names, n_months),
        "population_totale": np.repeat(np.rint(totals).astype(np.int64), n_months),
    }
    frame["n_cpts"] = stage_counts.sum(axis=0).reshape(-1)
    for s, stage in enumerate(STAGES):
        frame[f"n_cpts_{stage}"] = stage_counts[s].reshape(-1)
    total = frame["population_totale"].astype(float)
    for name in THRESHOLDS:
        frame[f"population_couverte_{name}"] = covered[name].reshape(-1)
    for name in THRESHOLDS:
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(total > 0, 100 * frame[f"population_couverte_{name}"] / total, 0.0)
        frame[f"taux_{name}"] = np.round(rate, 2)
    return pd.DataFrame(frame)
