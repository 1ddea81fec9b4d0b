"""JSON registries: a list of CPTS with their communes, as in ``cpts.json``.

Accepted shapes: a list of objects (one per CPTS, with ``communes``, optional
``arrondissements`` and ``infra``), an object holding such a list (``{"cpts": [...]}``), or an
object mapping each CPTS name to its codes (``{"CPTS A": ["13001", ...]}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ..errors import Problem
from ..reference.codes import ARRONDISSEMENTS, format_code
from .columns import ID_NAMES, NAME_NAMES, STAGE_NAMES, date_columns, fold_column
from .records import SHARE_FALSE, SHARE_TRUE, Record, cell, split_codes

__all__ = ["JSON_SHAPE", "json_records"]

JSON_SHAPE = ('expected a list of objects, one per CPTS, like [{"cpts_id": "PACA-001", "nom": '
               '"CPTS ...", "statut": "...", "communes": ["13001", ...], "arrondissements": '
               '[...], "infra": [...]}] (or an object {"cpts": [...]}, or {"CPTS name": '
               '["13001", ...]})')


def _json_items(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    for key in ("cpts", "CPTS", "items", "data", "registre"):
        if isinstance(data.get(key), list):
            return data[key]  # type: ignore[no-any-return]
    # {"CPTS A": ["13001", ...], "CPTS B": [...]}: name → codes
    if data and all(isinstance(v, list) and all(isinstance(x, (str, int)) for x in v)
                    for v in data.values()):
        return [{"nom": k, "communes": v} for k, v in data.items()]
    return None


def json_records(data: Any, path: str, problems: list[Problem]) -> list[Record]:
    """Records of a parsed JSON registry (one per CPTS); problems are appended to ``problems``.

    Examples
    --------
    >>> problems = []
    >>> recs = json_records([{"nom": "CPTS A", "communes": ["13001", "13002"]}], "a.json",
    ...                     problems)
    >>> [(r.cpts_nom, [v for _, v in r.codes]) for r in recs], problems
    ([('CPTS A', ['13001', '13002'])], [])
    """
    items = _json_items(data)
    if items is None or not all(isinstance(x, dict) for x in items):
        kind = type(data).__name__ if items is None else "a list holding " + ", ".join(sorted(
            {type(x).__name__ for x in items if not isinstance(x, dict)}))
        kind = {"dict": "an object", "list": "a list", "str": "a string", "int": "a number",
                "float": "a number", "NoneType": "null", "bool": "a boolean"}.get(kind, kind)
        problems.append(Problem(path, f"JSON of the wrong shape: found {kind}; {JSON_SHAPE}"))
        return []
    if not items:
        problems.append(Problem(path, "empty file: the JSON list holds no CPTS"))
        return []
    records: list[Record] = []
    for n, obj in enumerate(items, start=1):
        keys = {fold_column(k): k for k in obj}

        def pick(names: Iterable[str], obj: dict[str, Any] = obj,
                 keys: dict[str, str] = keys) -> Any:
            for name in names:
                if name in keys:
                    return obj[keys[name]]
            return None

        cid = cell(pick(ID_NAMES))
        name = cell(pick(NAME_NAMES))
        where = f"CPTS n° {n} of the JSON list"
        if not cid and not name:
            problems.append(Problem(path, f"{where} has no name nor identifier (keys 'cpts_id', "
                                    f"'nom'); found keys {sorted(map(str, obj))}", row=n))
            continue
        communes = pick(("communes", "codes", "code_communes", "codes_communes", "codes_insee",
                         "code_insee", "code_commune", "insee", "code", "membres"))
        arrs = pick(("arrondissements", "codes_arrondissements", "arrondissements_municipaux"))
        lists: list[tuple[str, list[Any]]] = []
        for label, value in (("communes", communes), ("arrondissements", arrs)):
            if value is None:
                continue
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                value = split_codes(str(value))
            if not isinstance(value, list):
                problems.append(Problem(path, f"{where}: '{label}' must be a list of codes, like "
                                        '["13001", "13002"]', row=n, column=label,
                                        value=json.dumps(value, ensure_ascii=False)[:80]))
                continue
            lists.append((label, [_json_code(v) for v in value]))
        if not lists:
            problems.append(Problem(path, f"{where} ({name or cid}) has no commune: give a "
                                    "'communes' list of INSEE codes", row=n, value=name or cid))
            continue
        if not any(v for _, v in lists):
            problems.append(Problem(path, f"{where} ({name or cid}): its list of communes is "
                                    "empty; give the INSEE codes of its communes", row=n,
                                    value=name or cid))
            continue
        arr_codes = {format_code(a) for lbl, v in lists if lbl == "arrondissements" for a in v}
        codes: list[tuple[str, object]] = []
        for label, values in lists:
            for v in values:
                code = format_code(v)
                # a city listed with some of its arrondissements stands for those only
                if (label == "communes" and code in ARRONDISSEMENTS
                        and arr_codes & set(ARRONDISSEMENTS[code])):
                    continue
                codes.append((label, v))
        infra = pick(("infra", "partage", "communes_partagees", "partages", "infra_communal"))
        if isinstance(infra, str) and fold_column(infra) in SHARE_TRUE | SHARE_FALSE:
            infra = fold_column(infra) in SHARE_TRUE  # "partage": "oui": every commune is shared
        elif isinstance(infra, str):  # "Nice; Toulon" (names may hold spaces)
            infra = [x.strip() for x in re.split(r"[;,|]", infra) if x.strip()]
        dated = {role: list(obj)[i] for role, i in date_columns([str(k) for k in obj]).items()}
        records.append(Record(
            row=n, cpts_id=cid or name, cpts_nom=name or cid,
            stage=cell(pick(STAGE_NAMES)), codes=codes,
            infra=tuple(cell(x) for x in infra or ()) if isinstance(infra, list) else (),
            partage=infra if isinstance(infra, bool) else "",
            stage_column=next((keys[k] for k in STAGE_NAMES if k in keys), "statut"),
            share_column=next((keys[k] for k in ("infra", "partage") if k in keys), "infra"),
            dates={role: obj[k] for role, k in dated.items()},
            date_columns={role: str(k) for role, k in dated.items()}))
    return records


def _json_code(value: Any) -> Any:
    """A code in a JSON list: the value itself, or the code of a ``{"code": ..., "nom": ...}``."""
    if isinstance(value, dict):
        for key in ("code", "code_insee", "insee", "code_commune", "codgeo"):
            if key in value:
                return value[key]
        return json.dumps(value, ensure_ascii=False)[:80]
    if isinstance(value, (list, tuple)):
        return json.dumps(value, ensure_ascii=False)[:80]
    return value
