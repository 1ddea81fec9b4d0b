"""The naive script: what a GIS user writes to get CPTS territories and their overlaps.

It reads the commune layer, joins the registry, ``dissolve()`` s the members by CPTS and
``overlay()`` s the territories with themselves to find where two CPTS overlap, then writes the
territories and the overlaps to a GeoPackage. It gets DROM, arrondissements and shared communes
wrong (mainland only; claims on an arrondissement go to its whole city; a declared share is an
overlap like any other), computes no coverage, no zones blanches and no atlas: it is the lower
bound the whole ``cpts_geo`` job is measured against (``benchmarks/run.py``).

Run as a whole process::

    python benchmarks/naive.py REGISTRY.csv COMMUNES.gpkg OUT_DIR
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd


def main(registry: str, communes: str, out: str) -> None:
    layer = gpd.read_file(communes, layer="metro_l93")
    claims = pd.read_csv(registry, dtype=str, keep_default_na=False)
    code = "code_commune" if "code_commune" in claims.columns else claims.columns[3]
    # the layer has Paris, Lyon and Marseille whole: an arrondissement goes to its city
    city = {**{str(c): "75056" for c in range(75101, 75121)},
            **{str(c): "69123" for c in range(69381, 69390)},
            **{str(c): "13055" for c in range(13201, 13217)}}
    claims["code_commune"] = claims[code].map(lambda c: city.get(c, c))
    members = layer.merge(claims[["cpts_id", "code_commune"]], on="code_commune")
    territories = members.dissolve(by="cpts_id").reset_index()[["cpts_id", "geometry"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overlaps = gpd.overlay(territories, territories, how="intersection")
    overlaps = overlaps[overlaps["cpts_id_1"] < overlaps["cpts_id_2"]]
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    territories.to_file(target / "naive.gpkg", layer="territoires")
    overlaps.to_file(target / "naive.gpkg", layer="chevauchements")
    print(f"{len(territories)} territories, {len(overlaps)} overlapping pairs")


if __name__ == "__main__":
    main(*sys.argv[1:4])
