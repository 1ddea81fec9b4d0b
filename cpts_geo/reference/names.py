"""Commune names: folding, the index of current and former names, départements and régions by name.

Real listings name communes the way people write them: ``SISTERON``, ``Thèze``, ``Le Broc``,
``Broc (Le)``, ``St-Martin-Vésubie``, ``Marseille 1er``. :func:`fold_name` reduces a name to a
key that ignores case, accents, ligatures, hyphens, apostrophes and spaces, writes ``St``/``Ste``
as ``Saint``/``Sainte`` and puts an article written after the name (``Broc (Le)``) back in
front. :class:`NameIndex` finds the units of a key: the current communes and arrondissements,
then the former communes (*communes déléguées* and *associées* of the reference table) mapped to
the commune they merged into. A département or région, and a postal code, narrow the
candidates; what stays ambiguous is reported with every candidate, never picked.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .units import Reference

__all__ = [
    "NameIndex",
    "NameMatch",
    "departement_code",
    "fold_name",
    "fold_words",
    "name_index",
    "name_keys",
    "region_code_of",
]

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_SAINTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLES = ("le", "la", "les", "l")
# "Broc (Le)", "Escarène (L')", "Baux-de-Provence (Les)", "Broc, Le"
_TRAILING_ARTICLE = re.compile(r"^(?P<name>.+?)\s*(?:\(\s*(?P<a>les|le|la|l)\s*'?\s*\)|,\s*"
                               r"(?P<b>les|le|la|l)\s*'?)\s*$", re.IGNORECASE)
_ARRONDISSEMENT = re.compile(
    r"^(?P<city>paris|lyon|marseille)\s*(?P<n>\d{1,2})\s*(?:er|e|eme|ieme|em|è|ème|°)?"
    r"(?:\s*(?:arrondissement|arr|ardt|arrdt|ar))?$")
_CITY_CODES = {"paris": "75056", "lyon": "69123", "marseille": "13055"}


@lru_cache(maxsize=65_536)
def fold_words(label: str) -> str:
    """Lower-case words without accents or punctuation, one space apart.

    Examples
    --------
    >>> fold_words("  Lettre d'Intention  VALIDÉE ")
    'lettre d intention validee'
    >>> fold_words("Cœuvres-et-Valsery")
    'coeuvres et valsery'
    """
    text = unicodedata.normalize("NFKD", str(label).translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


@lru_cache(maxsize=131_072)
def fold_name(name: str) -> str:
    """The key a commune name is matched by.

    Case, accents, ligatures, hyphens, apostrophes and spaces are ignored; ``St``, ``Ste`` stand
    for ``Saint``, ``Sainte``; an article written after the name (``Broc (Le)``, ``Broc, Le``)
    is put back in front; ``Marseille 1er``, ``MARSEILLE 01`` and ``Marseille 1er
    Arrondissement`` are one key.

    Examples
    --------
    >>> fold_name("Broc (Le)") == fold_name("LE BROC") == fold_name("le-broc")
    True
    >>> fold_name("St-Martin-Vésubie"), fold_name("Escarène (L')")
    ('saint martin vesubie', 'l escarene')
    >>> fold_name("Marseille 01"), fold_name("Marseille 1er Arrondissement")
    ('marseille 1', 'marseille 1')
    """
    text = str(name).strip()
    m = _TRAILING_ARTICLE.match(text)
    if m:
        text = f"{m.group('a') or m.group('b')} {m.group('name')}"
    words = [_SAINTS.get(w, w) for w in fold_words(text).split()]
    folded = " ".join(words)
    arr = _ARRONDISSEMENT.match(folded)
    if arr:
        return f"{arr.group('city')} {int(arr.group('n'))}"
    return folded


def _without_article(key: str) -> str:
    first, _, rest = key.partition(" ")
    return rest if first in _ARTICLES and rest else key


@dataclass(frozen=True)
class NameMatch:
    """What a name stands for in a :class:`NameIndex`.

    Attributes
    ----------
    code
        The current unit code when exactly one unit matches, else ``None``.
    candidates
        ``(code, name, département)`` of every unit the name could be (one when resolved).
    former
        The former commune matched, ``(code, name)``, when the name is that of a commune since
        merged into ``code``; ``None`` otherwise.
    how
        ``nom`` (the name as is), ``nom sans article``, ``ancien nom`` or ``code postal`` (a
        postal code decided between namesakes); ``""`` when nothing matched.

    Examples
    --------
    >>> m = name_index(ref).find("Broc (Le)", departement="06")
    >>> m.code, m.how, m.candidates
    ('06025', 'nom', [('06025', 'Le Broc', '06')])
    """

    code: str | None
    candidates: list[tuple[str, str, str]] = field(default_factory=list)
    former: tuple[str, str] | None = None
    how: str = ""


class NameIndex:
    """The units of a reference by folded name, with former names and postal codes.

    Build it with :func:`name_index` (once per reference).

    Examples
    --------
    >>> idx = name_index(ref)
    >>> idx.find("SISTERON").code
    '04209'
    >>> [c for c, _, _ in idx.find("Sigoyer").candidates]  # namesakes in the 04 and the 05
    ['04207', '05168']
    >>> idx.find("Sigoyer", departement="05").code
    '05168'
    >>> m = idx.find("Ristolas")  # merged into Abriès-Ristolas in 2019
    >>> m.code, m.former, m.how
    ('05001', ('05120', 'Ristolas'), 'ancien nom')
    """

    def __init__(self, units: pd.DataFrame, former: pd.DataFrame, *,
                 keys: list[str] | None = None, former_keys: list[str] | None = None) -> None:
        self._names = units["nom"].to_dict()
        self._deps = units["departement"].to_dict()
        self._regions = units["region"].to_dict()
        postal = units["codes_postaux"] if "codes_postaux" in units.columns else None
        self._postal: dict[str, set[str]] = {}
        if postal is not None:
            for code, text in postal.items():
                if text:
                    self._postal[str(code)] = {p.strip() for p in str(text).split(";")
                                               if p.strip()}
        self._by_key: dict[str, list[str]] = defaultdict(list)
        self._by_bare: dict[str, list[str]] = defaultdict(list)
        if keys is None:  # the folded names (stored with the reference tables when cached)
            keys = name_keys(units["nom"])
        for code, key in zip(self._names, keys, strict=True):
            self._by_key[key].append(str(code))
            self._by_bare[_without_article(key)].append(str(code))
        self._former: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        if former_keys is None:
            former_keys = name_keys(former["nom"])
        for (code, nom, current), key in zip(former[["code", "nom", "commune"]].itertuples(
                index=False), former_keys, strict=True):
            if current in self._names:
                self._former[key].append((str(code), str(nom), str(current)))
        self._by_dep: dict[str, list[str]] = defaultdict(list)
        for key, codes in self._by_key.items():
            for dep in {self._deps[c] for c in codes}:
                self._by_dep[dep].append(key)

    def name(self, code: str) -> str:
        """The name of unit ``code`` (``""`` when unknown)."""
        return str(self._names.get(code, ""))

    def departement(self, code: str) -> str:
        """The département of unit ``code`` (``""`` when unknown)."""
        return str(self._deps.get(code, ""))

    def postal_codes(self, code: str) -> set[str]:
        """The postal codes of unit ``code``."""
        return set(self._postal.get(code, ()))

    def _narrow(self, codes: list[str], departement: str | None, region: str | None,
                postal: str | None) -> tuple[list[str], bool]:
        out = list(dict.fromkeys(codes))
        if departement:
            out = [c for c in out if self._deps.get(c) == departement]
        if region:
            out = [c for c in out if self._regions.get(c) == region]
        by_postal = False
        if postal and len(out) != 1:
            with_postal = [c for c in out if postal in self._postal.get(c, ())]
            if with_postal:
                by_postal = len(with_postal) < len(out)
                out = with_postal
        return out, by_postal

    def find(self, name: str, *, departement: str | None = None, region: str | None = None,
             postal: str | None = None) -> NameMatch:
        """The unit named ``name``: exactly, else without a leading article, else a former name.

        Parameters
        ----------
        name
            The name as written.
        departement, region
            Codes that the unit must lie in (namesakes are told apart by them).
        postal
            A postal code of the unit (tells namesakes of one département apart).

        Returns
        -------
        NameMatch
            ``code`` set when exactly one unit matches; the candidates otherwise (none when
            the name matches nothing).

        Examples
        --------
        >>> idx = name_index(ref)
        >>> idx.find("Lavandou").code  # "Le Lavandou", the article left out
        '83070'
        >>> idx.find("Marseille 1er").code, idx.find("Paris 15e").code
        ('13201', '75115')
        """
        key = fold_name(name)
        tiers = (("nom", self._by_key.get(key, [])),
                 ("nom sans article", self._by_bare.get(_without_article(key), [])))
        for how, codes in tiers:
            found, by_postal = self._narrow(codes, departement, region, postal)
            if found:
                return self._match(found, "code postal" if by_postal else how)
        former = self._former.get(key, [])
        if former:
            currents = [cur for _, _, cur in former]
            found, _ = self._narrow(currents, departement, region, postal)
            if found:
                match = self._match(found, "ancien nom")
                if match.code is not None:
                    old = next(f for f in former if f[2] == match.code)
                    return NameMatch(match.code, match.candidates, (old[0], old[1]),
                                     "ancien nom")
                return match
        return NameMatch(None, [], None, "")

    def _match(self, codes: list[str], how: str) -> NameMatch:
        cands = sorted((c, self.name(c), self.departement(c)) for c in codes)
        return NameMatch(codes[0] if len(codes) == 1 else None, cands, None, how)

    def suggestions(self, name: str, *, departement: str | None = None,
                    n: int = 5) -> list[tuple[str, str, str]]:
        """The closest names to ``name`` (in ``departement`` when given), best first.

        Examples
        --------
        >>> name_index(ref).suggestions("Sisterone", departement="04")[0]
        ('04209', 'Sisteron', '04')
        """
        key = fold_name(name)
        keys = self._by_dep.get(departement, []) if departement else list(self._by_key)
        close = difflib.get_close_matches(key, keys, n=n, cutoff=0.6)
        if not close:
            bare = _without_article(key)
            close = [k for k in keys if _without_article(k).startswith(bare[:4])][:n]
        out: list[tuple[str, str, str]] = []
        for k in close:
            for c in sorted(self._by_key[k]):
                if not departement or self._deps.get(c) == departement:
                    out.append((c, self.name(c), self.departement(c)))
        return out[:n]


def name_keys(names: Iterable[object]) -> list[str]:
    """:func:`fold_name` of each name (computed once per data version: see the tables cache).

    Examples
    --------
    >>> name_keys(["Le Broc", "Broc (Le)", "St-Jeannet"])
    ['le broc', 'le broc', 'saint jeannet']
    """
    return [fold_name(str(n)) for n in names]


def name_index(reference: Reference) -> NameIndex:
    """The :class:`NameIndex` of ``reference``, built once and kept in ``reference.memo``.

    Examples
    --------
    >>> name_index(ref) is name_index(ref)
    True
    """
    key = "names:index"
    if key not in reference.memo:
        keys = reference.memo.get("names:keys")
        former_keys = reference.memo.get("names:former_keys")
        reference.memo[key] = NameIndex(reference.units, reference.former, keys=keys,
                                        former_keys=former_keys)
    return reference.memo[key]  # type: ignore[no-any-return]


_CODE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(2[AaBb]|97[1-6]|\d{1,2})(?![0-9A-Za-z])")


def departement_code(value: object, departements: pd.DataFrame) -> str | None:
    """The département code a cell stands for: ``04``, ``4``, ``2a``, a name, or both.

    Parameters
    ----------
    value
        The cell: a code (``"4"``, ``"04"``, ``"2A"``, ``"974"``), a name (``"Hautes-Alpes"``),
        or both (``"05 - Hautes-Alpes"``, ``"Hautes-Alpes (05)"``).
    departements
        The reference's départements (``Reference.departements``: indexed by code, ``nom``).

    Returns
    -------
    str or None
        The code, or ``None`` when the cell names no département (or two that disagree).

    Examples
    --------
    >>> [departement_code(v, ref.departements) for v in ("4", "2a", "Hautes Alpes",
    ...                                                   "05 - Hautes-Alpes", "Tarn (81)", "x")]
    ['04', '2A', '05', '05', '81', None]
    """
    text = str(value).strip()
    if not text:
        return None
    by_name = {fold_words(n): str(c) for c, n in departements["nom"].items()}
    if fold_words(text) in by_name:
        return by_name[fold_words(text)]
    codes = {m.upper().zfill(2) for m in _CODE_IN_TEXT.findall(text)}
    if len(codes) > 1 or not codes <= set(departements.index):
        return None
    rest = " ".join(w for w in fold_words(_CODE_IN_TEXT.sub(" ", text)).split()
                    if w not in _GENERIC_WORDS)
    named = by_name.get(rest) if rest else None
    if rest and named is None:
        return None
    if named is not None and codes and codes != {named}:
        return None
    return named or next(iter(codes), None)


_GENERIC_WORDS = {"dep", "dept", "dpt", "departement", "n", "no", "num", "numero"}


#: Short names of régions found in listings.
REGION_ALIASES = {
    "paca": "93", "provence alpes cote d azur": "93", "sud": "93", "region sud": "93",
    "idf": "11", "ile de france": "11", "aura": "84", "ara": "84", "bfc": "27", "cvl": "24",
    "centre": "24", "hdf": "32", "ge": "44", "grand est": "44", "naq": "75", "na": "75",
    "occitanie": "76", "pdl": "52", "bretagne": "53", "normandie": "28", "corse": "94",
}


def region_code_of(value: object, regions: pd.DataFrame) -> str | None:
    """The région code a cell stands for: a code (``93``), a name, or a usual short name.

    Examples
    --------
    >>> [region_code_of(v, ref.regions) for v in ("93", "PACA", "Provence-Alpes-Côte d'Azur",
    ...                                           "Bretagne", "Atlantide")]
    ['93', '93', '93', '53', None]
    """
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() and text.zfill(2) in regions.index:
        return text.zfill(2)
    folded = fold_words(text)
    for code, nom in regions["nom"].items():
        if fold_words(nom) == folded:
            return str(code)
    return REGION_ALIASES.get(folded)
