"""Amounts in Chinese capital numerals (大写金额), as written on receipts. Pure, no database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
GROUP_UNITS = ("", "万", "亿", "万亿")
ERR_TOO_LARGE = "金额过大，无法写成大写。"


def _group(g: int) -> str:
    """1..9999 as capitals, with 零 for inner zeros (1070 → 壹仟零柒拾)."""
    out, zero, started = "", False, False
    for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
        d = g // 10**power % 10
        if d == 0:
            zero = zero or started
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[d] + unit
        started = True
    return out


def _integer(n: int) -> str:
    if n == 0:
        return "零"
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(GROUP_UNITS):
        raise ValueError(ERR_TOO_LARGE)
    out, gap = "", False
    for i in reversed(range(len(groups))):
        g = groups[i]
        if g == 0:
            gap = bool(out)
            continue
        if out and (gap or g < 1000):
            out += "零"
        out += _group(g) + GROUP_UNITS[i]
        gap = False
    return out


def amount_in_words(value) -> str:
    """400.00 → 肆佰元整; 1070.50 → 壹仟零柒拾元伍角; 10005.07 → 壹万零伍元零柒分."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = ""
    if amount < 0:
        sign, amount = "负", -amount
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if jiao == 0 and fen == 0:
        return f"{sign}{_integer(yuan)}元整"
    head = f"{_integer(yuan)}元" if yuan else ""
    if jiao:
        tail = DIGITS[jiao] + "角" + (DIGITS[fen] + "分" if fen else "")
    else:
        tail = ("零" if yuan else "") + DIGITS[fen] + "分"
    return sign + head + tail
