"""Commune resolution: what a value given for a commune stands for, or why it cannot be one."""

from __future__ import annotations

import re

__all__ = ["bad_code_hint"]


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
    if re.search(r"[A-Za-zÀ-ÿ]{3,}", text):
        return ("not a commune code (a commune name?). Give the 5-character INSEE code, "
                "e.g. 13001 for Aix-en-Provence")
    return "not a commune code: expected 5 characters, e.g. 01001 or 2A004"
