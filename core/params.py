"""Query parameters that name a row or a day: one parser each, shared by every page.

A value that is not what the page expects answers 400 with a Chinese sentence
(``InvalidParameter``, shown by config.requests.bad_request), never a 500 from the database
driver (``int("abc")``, an id past 64 bits, 2025-13-45).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import BadRequest

# The largest key a row id can have (a 64-bit signed integer).
ID_MAX = 2**63 - 1

# The benefit years a page accepts (``?year=``); anything else is ignored, not an error.
MIN_YEAR, MAX_YEAR = 2000, 2100

ERR_BAD_ID = "参数“{name}”应为记录编号（正整数），请从页面上的链接或列表中重新选择。"
ERR_TOO_MANY_IDS = "参数“{name}”一次最多选{limit}项，请分批操作。"
ERR_BAD_DATE = "参数“{name}”应为有效日期（如 2026-09-01），请检查后重新输入。"


class InvalidParameter(BadRequest):
    """A query parameter a page cannot use; its message is shown to the user."""


def query_id(params, name: str) -> int | None:
    """``params[name]`` as a row id, None when absent or empty."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    return _as_id(raw, name)


def query_ids(params, name: str, *, limit: int = 200) -> list[int]:
    """Every ``name=`` of the query as row ids (ticked boxes), at most ``limit``; empty ones skipped."""
    values = [v for v in params.getlist(name) if v != ""]
    if len(values) > limit:
        raise InvalidParameter(ERR_TOO_MANY_IDS.format(name=name, limit=limit))
    return [_as_id(v, name) for v in values]


def _as_id(raw, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(ERR_BAD_ID.format(name=name)) from None
    if not 1 <= value <= ID_MAX:
        raise InvalidParameter(ERR_BAD_ID.format(name=name))
    return value


def query_date(params, name: str) -> date | None:
    """``params[name]`` as an ISO date (YYYY-MM-DD), None when absent or empty."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(ERR_BAD_DATE.format(name=name)) from None


def parse_year(raw) -> int | None:
    """A benefit year from a parameter or a cell, None unless it is a sensible year."""
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return year if MIN_YEAR <= year <= MAX_YEAR else None
