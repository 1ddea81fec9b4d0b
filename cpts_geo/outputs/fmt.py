"""Numbers the French way, for every output a person reads (terminal, pages, figures).

Thousands are separated by a narrow no-break space (U+202F) and the percent sign follows a
no-break space (U+00A0), as the French typographic rules (and the ministry's tables) write them.
"""

from __future__ import annotations

__all__ = ["NBSP", "NNBSP", "fmt_eur", "fmt_int", "fmt_pct"]

NBSP = "\u00a0"  # no-break space: before %, between a number and its unit
NNBSP = "\u202f"  # narrow no-break space: the thousands separator


def fmt_int(value: float) -> str:
    """A whole number with French thousands separators.

    Examples
    --------
    >>> fmt_int(5218960).split()  # groups split by U+202F
    ['5', '218', '960']
    >>> fmt_int(101088.6) == "101" + NNBSP + "089"
    True
    """
    return f"{round(float(value)):,}".replace(",", NNBSP)


def fmt_pct(value: float) -> str:
    """A percentage with two decimals, a decimal comma and a no-break space before ``%``.

    Examples
    --------
    >>> fmt_pct(98.06) == "98,06" + NBSP + "%"
    True
    """
    return f"{float(value):.2f}".replace(".", ",") + NBSP + "%"


def fmt_eur(value: float) -> str:
    """An amount in whole euros, with French thousands separators and a no-break space.

    Examples
    --------
    >>> fmt_eur(380000) == "380" + NNBSP + "000" + NBSP + "€"
    True
    """
    return fmt_int(value) + NBSP + "€"
