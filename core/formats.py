"""How dates read where people read them: 2024年10月5日 (no leading zeros), as the seeds write them."""

from datetime import date


def chinese_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""
