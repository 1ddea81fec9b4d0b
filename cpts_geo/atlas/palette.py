"""Colour modes of the atlas pages and the checks that keep them readable.

A page colours its territories by one of four modes, switched from the legend: the stage
(:data:`cpts_geo.registry.stages.COLOURS`), the ACI size tier, the population and the population
density. The three quantitative modes use sequential ColorBrewer / viridis palettes, light for
small values, so that order reads as lightness for every reader.

Readability is checked, not assumed (``tests/test_atlas.py`` runs these on every palette):

* colour-vision deficiency: each colour is simulated for protanopia, deuteranopia and
  tritanopia with the matrices of Machado, Oliveira & Fernandes (2009, severity 1.0, applied
  in linear sRGB), and every two colours of a palette must stay at least
  :data:`MIN_DELTA_E` apart (CIE76 ΔE*ab in CIELAB, D65);
* contrast: text drawn on a swatch (the stage chips of the CPTS card and table) uses the
  :func:`text_colour` with the higher WCAG 2.1 contrast ratio, which must reach 4.5:1; hatch
  and outline colours reach 3:1 against white (WCAG 1.4.11, non-text contrast).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..registry.stages import COLOURS, TIER_LABELS  # noqa: F401  (COLOURS: the examples)

__all__ = [
    "DENSITY_BREAKS",
    "DENSITY_COLOURS",
    "HATCH_COLOURS",
    "MIN_DELTA_E",
    "MODES",
    "POPULATION_COLOURS",
    "TIER_COLOURS",
    "contrast_ratio",
    "delta_e",
    "min_distance",
    "population_breaks",
    "simulate",
    "text_colour",
    "tier_legend",
]

#: Colour modes, in the order of the legend's switch: key → French label.
MODES: dict[str, str] = {
    "stade": "Stade",
    "taille": "Taille ACI",
    "population": "Population",
    "densite": "Densité",
}
#: ACI tiers 1–4 (viridis, light to dark).
TIER_COLOURS: dict[int, str] = {1: "#fde725", 2: "#5ec962", 3: "#21918c", 4: "#3b528b"}
#: Population classes (ColorBrewer YlOrRd, 5 classes), bounds from :func:`population_breaks`.
POPULATION_COLOURS: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: Density classes in inhabitants per km² (lower bounds of classes 2..6).
DENSITY_BREAKS: tuple[int, ...] = (25, 50, 100, 300, 1000)
#: Density colours (viridis, 6 classes, light to dark).
DENSITY_COLOURS: tuple[str, ...] = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487",
                                    "#440154")
#: Hatch and outline colours drawn on white: zones blanches, conflicts, shared communes.
HATCH_COLOURS: dict[str, str] = {"zones_blanches": "#7a7a7a", "conflits": "#d7191c",
                                 "partages": "#2166ac"}
#: Smallest CIE76 distance between two colours of a palette, for every simulated vision.
MIN_DELTA_E = 10.0

_MACHADO = {  # Machado, Oliveira & Fernandes 2009, severity 1.0, linear RGB
    "protanopie": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopie": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopie": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _linear(colour: str) -> np.ndarray:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = (_XYZ @ linear) / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def simulate(colour: str, vision: str | None) -> np.ndarray:
    """Linear RGB of ``colour`` as seen with ``vision`` (``None``: normal vision).

    Examples
    --------
    >>> simulate("#ff0000", "deuteranopie").round(3).tolist()
    [0.367, 0.28, 0.0]
    """
    linear = _linear(colour)
    if vision is None:
        return linear
    if vision not in _MACHADO:
        raise ValueError(f"`vision` was {vision!r} but is expected to be in "
                         f"{sorted(_MACHADO)} or None")
    return np.clip(_MACHADO[vision] @ linear, 0.0, 1.0)


def delta_e(a: str, b: str, vision: str | None = None) -> float:
    """CIE76 ΔE*ab between two colours as seen with ``vision``.

    Examples
    --------
    >>> round(delta_e("#1b7837", "#5aae61"), 1)
    20.6
    """
    return float(np.linalg.norm(_lab(simulate(a, vision)) - _lab(simulate(b, vision))))


def min_distance(colours: Sequence[str]) -> tuple[float, str | None, str, str]:
    """The closest two colours of a palette over normal and simulated visions.

    Returns
    -------
    tuple
        ``(ΔE, vision, colour_a, colour_b)``.

    Examples
    --------
    >>> d, vision, a, b = min_distance(list(COLOURS.values()))
    >>> d >= MIN_DELTA_E, vision
    (True, 'tritanopie')
    """
    best: tuple[float, str | None, str, str] = (float("inf"), None, "", "")
    for vision in (None, *_MACHADO):
        for a, b in itertools.combinations(colours, 2):
            d = delta_e(a, b, vision)
            if d < best[0]:
                best = (d, vision, a, b)
    return best


def _luminance(colour: str) -> float:
    return float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(colour))


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21).

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    """
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (text on a swatch).

    Examples
    --------
    >>> text_colour("#1b7837"), text_colour("#fde725")
    ('#ffffff', '#000000')
    """
    dark, light = "#000000", "#ffffff"
    return dark if contrast_ratio(background, dark) >= contrast_ratio(background, light) else light


def population_breaks(populations: Sequence[int], k: int = len(POPULATION_COLOURS)) -> list[int]:
    """Bounds of ``k`` population classes: quantiles rounded to two significant figures.

    Parameters
    ----------
    populations
        Population of each territory (of the whole registry, so every page has one legend).
    k
        Number of classes.

    Returns
    -------
    list of int
        ``k - 1`` increasing lower bounds of classes 2..k (fewer when values repeat).

    Examples
    --------
    >>> population_breaks([10_000, 20_000, 30_000, 50_000, 90_000, 200_000])
    [20000, 30000, 50000, 90000]
    """
    values = np.asarray(list(populations), dtype=float)
    if not len(values):
        return []
    out: list[int] = []
    for q in np.linspace(0, 1, k + 1)[1:-1]:
        v = float(np.quantile(values, q))
        if v <= 0:
            continue
        digits = int(np.floor(np.log10(v))) - 1
        rounded = int(round(v, -digits))
        if not out or rounded > out[-1]:
            out.append(rounded)
    return out


def tier_legend() -> list[list[str]]:
    """``[label, colour]`` of each ACI tier, for the legend of the tier mode.

    Examples
    --------
    >>> tier_legend()[0]
    ['Taille 1 (< 40 000 hab.)', '#fde725']
    """
    return [[TIER_LABELS[t], TIER_COLOURS[t]] for t in sorted(TIER_COLOURS)]
