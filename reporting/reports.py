"""The report registry (after oscar's ReportGenerator): each kind of report is a publisher over
(county, day) that stores a Report record, plus an HTML template and an xlsx formatter. Every
reader sees the payload cut to their scope (``scoped_payload``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from openpyxl import Workbook

from core import audit
from core.choices import RegionLevel
from core.spreadsheets import write_rows

from . import selectors, services
from .models import ReportKind

YES = "是"


@dataclass(frozen=True)
class ReportType:
    kind: str
    template: str
    publish: Callable
    sheets: Callable  # (payload, notes) -> [(sheet title, header, rows)]


def _d(value):
    return None if value in (None, "") else Decimal(value)


def _flag(value):
    return YES if value else ""


FIGURE_HEADER = ["任务数", "目标任务数", "已收款人数", "已申报人数", "已入库人数", "参保率(%)", "目标完成率(%)", "已收金额(元)", "重点人群", "重点人群已入库", "无记录无原因", "部分未缴费户"]


def _figures(r):
    return [
        r["quota_base"],
        r["quota_target"],
        r["collected"],
        r["declared"],
        r["confirmed"],
        _d(r["rate"]),
        _d(r["rate_target"]),
        _d(r["money_collected"]),
        r["special_total"],
        r["special_confirmed"],
        r["no_record"],
        r["partial_households"],
    ]


CASH_HEADER = ["收款人", "乡镇", "村（社区）", "未报解金额(元)", "凭证张数", "最早收款日期", "持有天数", "超期天数", "超额度", "超双限"]


def _cash_row(c):
    return [c["collector"], c["township"], c["village"], _d(c["amount"]), c["receipts"], c["oldest"], c["days_held"],
            c["days_overdue"], _flag(c["over_amount"]), _flag(c["breached"])]


def daily_sheets(payload, notes=None):
    names = {t["code"]: t["name"] for t in payload.get("townships", [])}
    county = payload.get("county")
    towns = [[t["rank"], t["name"], *_figures(t)] for t in payload.get("townships", [])]
    if county:
        towns.append(["合计", county["name"], *_figures(county)])
    villages = [[names.get(v["parent"], ""), v["name"], *_figures(v)] for v in payload.get("villages", [])]
    return [
        ("乡镇", ["名次", "乡镇", *FIGURE_HEADER], towns),
        ("村（社区）", ["乡镇", "村（社区）", *FIGURE_HEADER], villages),
        ("现金与双限", CASH_HEADER, [_cash_row(c) for c in payload.get("cash", [])]),
    ]


RANK_HEADER = ["名次", "上期名次", "名次变化", "单位", "任务数", "已收款人数", "已入库人数", "参保率(%)", "排名靠后", "连续靠后次数", "约谈", "沿用前次数据"]


def _rank_row(e):
    return [
        e["rank"],
        e["previous_rank"],
        e["change"],
        e["name"],
        e["quota"],
        e["collected"],
        e["confirmed"],
        _d(e["rate"]),
        _flag(e["in_bottom"]),
        e["bottom_streak"],
        _flag(e["interview"]),
        _flag(e["carried"]),
    ]


def weekly_sheets(payload, notes=None):
    names = {t["code"]: t["name"] for t in payload.get("townships", [])}
    villages = []
    for town_code, rows in payload.get("villages", {}).items():
        villages += [[names.get(town_code, town_code), *_rank_row(e)] for e in rows]
    sheets = [
        ("乡镇排名", RANK_HEADER, [_rank_row(e) for e in payload.get("townships", [])]),
        ("村排名", ["乡镇", *RANK_HEADER], villages),
    ]
    if notes is not None:
        sheets.append(
            (
                "乡镇周报",
                ["乡镇", "典型做法", "存在问题", "建议"],
                [[t["name"], *(notes[t["code"]] if t["code"] in notes else ["未报送", "", ""])] for t in payload.get("townships", [])],
            )
        )
    return sheets


def final_sheets(payload, notes=None):
    rows = [
        [t["rank"], t["name"], t["quota"], t["confirmed"], _d(t["rate"]), t.get("prize", ""), _d(t.get("prize_amount")), _d(t.get("work_funds"))]
        for t in payload.get("townships", [])
    ]
    summary = [
        ["奖励资金总额", _d(payload.get("prize_pool"))],
        ["已分配奖金", _d(payload.get("prize_total"))],
        ["工作经费标准（元/人）", _d(payload.get("work_fund_per_person"))],
        ["工作经费合计", _d(payload.get("work_funds_total"))],
    ]
    return [
        ("考核结果", ["名次", "乡镇", "任务数", "入库人数", "参保率(%)", "奖项", "奖金(元)", "工作经费(元)"], rows),
        ("汇总", ["项目", "金额(元)"], summary),
    ]


REGISTRY: dict[str, ReportType] = {
    ReportKind.DAILY: ReportType(ReportKind.DAILY, "reporting/report_daily.html", services.daily_report_publish, daily_sheets),
    ReportKind.WEEKLY: ReportType(ReportKind.WEEKLY, "reporting/report_weekly.html", services.weekly_report_publish, weekly_sheets),
    ReportKind.FINAL: ReportType(ReportKind.FINAL, "reporting/report_final.html", services.final_assessment_publish, final_sheets),
}


def scoped_payload(user, report) -> dict:
    """The payload as ``user`` may read it: township rows are published to the whole county;
    village rows only inside the reader's own township (a village user: only their village)."""
    payload = copy.deepcopy(report.payload)
    region = getattr(user, "region", None)
    if user.is_superuser or (region is not None and region.level == RegionLevel.COUNTY):
        return payload
    if region is None:
        return {}
    if region.level == RegionLevel.TOWNSHIP:
        def keep(code, parent):
            return parent == region.code
    else:
        def keep(code, parent):
            return code == region.code
    if isinstance(payload.get("cash"), list):  # a collector's cash: their own township or village only
        field = "township_code" if region.level == RegionLevel.TOWNSHIP else "village_code"
        payload["cash"] = [c for c in payload["cash"] if c.get(field) == region.code]
    villages = payload.get("villages")
    if isinstance(villages, list):
        payload["villages"] = [v for v in villages if keep(v["code"], v.get("parent"))]
    elif isinstance(villages, dict):
        payload["villages"] = {
            town: [v for v in rows if keep(v["code"], town)] for town, rows in villages.items() if any(keep(v["code"], town) for v in rows)
        }
    return payload


def workbook_for_reader(*, actor, report) -> Workbook:
    """The report as ``actor`` may read it (``scoped_payload``, the notes they may see) as xlsx;
    every export is recorded."""
    notes = selectors.report_notes(user=actor, report=report)
    note_rows = None
    if notes is not None:
        note_rows = {code: [n.good_practices, n.problems, n.suggestions] for code, n in notes.items()}
    wb = workbook_for(report, scoped_payload(actor, report), note_rows)
    audit.record(actor=actor, action=audit.ACTION_EXPORT, obj=report, detail={"kind": report.kind, "date": report.date.isoformat()})
    return wb


def workbook_for(report, payload, notes=None) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in REGISTRY[report.kind].sheets(payload, notes):
        ws = wb.create_sheet(title)
        write_rows(ws, header, rows)
    info = wb.create_sheet("说明")
    write_rows(info, ["项目", "内容"], [["标题", report.title], ["日期", report.date.isoformat()], ["排名规则", payload.get("tie_break", "")]])
    return wb
