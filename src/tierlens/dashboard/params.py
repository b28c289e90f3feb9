"""Validation of what arrives in a page's URL (``st.query_params``) or a free-text filter.

A link is shared, so a bad value in it must never break the page for whoever opens it: each
value is checked here, a bad one is dropped with a one-line reason (``Ignored date_from=
'2026-13-45' from the link: not a date (YYYY-MM-DD).``) and the page carries on without it.
Pure functions: the pages show the reasons (:func:`tierlens.dashboard.ui.warn`).
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from tierlens.dashboard.queries.base import TIER_PATHS
from tierlens.dashboard.queries.filters import Filters

MAX_TEXT = 200  # longest free-text value accepted from a link (ids, queue and agent names)
SENTIMENTS = ("negative", "neutral", "positive")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")
_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def problem(name: str, value: Any, reason: str) -> str:
    """The one-line reason a value from the link was dropped."""
    return f"Ignored {name}={_shown(value)} from the link: {reason}."


def parse_date(value: str) -> date | None:
    """A strict ``YYYY-MM-DD`` date, or None."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def text(name: str, value: str | None) -> tuple[str | None, str | None]:
    """A free-text value (an id, a queue): printable, at most MAX_TEXT characters."""
    if value in (None, ""):
        return None, None
    if len(value) > MAX_TEXT or not value.isprintable():
        return None, problem(name, value, f"not a valid value (printable, at most {MAX_TEXT} "
                                          "characters)")
    return value, None


def choice(name: str, value: str | None, options: list[str] | tuple[str, ...]
           ) -> tuple[str | None, str | None]:
    """``value`` when it is one of ``options`` (None, with a reason, otherwise)."""
    if value in (None, ""):
        return None, None
    if value not in options:
        shown = ", ".join(map(str, options[:8])) + (", ..." if len(options) > 8 else "")
        return None, problem(name, value, f"not one of {shown}" if options else "nothing to "
                             "choose from yet")
    return value, None


def month(name: str, value: str | None, months: list[str]) -> tuple[str | None, str | None]:
    """A ``YYYY-MM`` month that the snapshot has."""
    if value not in (None, "") and not _MONTH.fullmatch(value):
        return None, problem(name, value, "not a month (YYYY-MM)")
    return choice(name, value, months)


def _score(name: str, value: str) -> tuple[float | None, str | None]:
    try:
        x = float(value)
    except ValueError:
        return None, problem(name, value, "not a number")
    if not math.isfinite(x) or not 0 <= x <= 100:
        return None, problem(name, value, "must be between 0 and 100")
    return x, None


def qa_filters(params: dict[str, str]) -> tuple[Filters, list[str]]:
    """The QA filters in ``params``, each validated; returns (filters, reasons for drops)."""
    kw: dict[str, Any] = {}
    problems: list[str] = []

    def keep(key: str, pair: tuple[Any, str | None]) -> None:
        value, why = pair
        if why:
            problems.append(why)
        elif value is not None:
            kw[key] = value

    for key in ("date_from", "date_to"):
        v = params.get(key)
        if v not in (None, ""):
            ok = parse_date(str(v)) is not None
            keep(key, (v, None) if ok else (None, problem(key, v, "not a date (YYYY-MM-DD)")))
    if "date_from" in kw and "date_to" in kw and kw["date_from"] > kw["date_to"]:
        problems.append(problem("date_to", kw.pop("date_to"), "before date_from"))
    keep("tier", choice("tier", params.get("tier"), tuple(TIER_PATHS)))
    keep("sentiment", choice("sentiment", params.get("sentiment"), SENTIMENTS))
    for key in ("queue", "agent", "bot_version", "intent", "resolution"):
        keep(key, text(key, params.get(key)))
    for key in ("qa_min", "qa_max"):
        if params.get(key) not in (None, ""):
            keep(key, _score(key, str(params[key])))
    rf = params.get("red_flag")
    if rf not in (None, ""):
        flag = _BOOL.get(str(rf).lower())
        keep("red_flag", (flag, None) if flag is not None
             else (None, problem("red_flag", rf, "use true or false")))
    return Filters(**kw), problems
