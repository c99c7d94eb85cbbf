"""Spreadsheets for the tax office: the declaration form (申报表/缴费清册)."""

from decimal import Decimal

from openpyxl import Workbook

from core import audit, disclosure
from core.spreadsheets import write_rows

DECLARATION_HEADER = ["序号", "村/社区", "姓名", "公民身份号码", "缴费档次", "个人缴费金额", "资助类别", "备注"]
ZERO_NOTE = "零申报（全额资助）"


def declaration_workbook_for(*, actor, declaration) -> Workbook:
    """The declaration form as ``actor`` may have it: full ID numbers for the township that
    declares it and the tax office that imports it (``declaration.id_full``), masked for everyone
    else — the same rule as the form's lines in JSON. Every export is recorded; one with full
    numbers also as a view of full IDs."""
    shown = disclosure.for_viewer(actor, full_ids=disclosure.DECLARATION_ID_FULL)
    wb = declaration_workbook(declaration, shown=shown)
    audit.record_export(
        actor=actor, obj=declaration, full_ids=shown.full_ids,
        detail={"kind": "declaration", "rows": declaration.person_count},
    )
    return wb


def declaration_workbook(declaration, *, shown: disclosure.Disclosure = disclosure.MASKED) -> Workbook:
    """The form's two sheets, ID numbers as ``shown`` allows (masked unless told otherwise)."""
    lines = list(declaration.lines.select_related("village").order_by("village__code", "id"))
    rows = []
    for i, ln in enumerate(lines, 1):
        rows.append(
            [
                i,
                ln.village.name,
                ln.name,
                shown.id_number(ln.id_number),
                ln.tier,
                ln.amount,
                ln.subsidy_category_code,
                ZERO_NOTE if ln.amount == 0 else "",
            ]
        )
    total = sum((ln.amount for ln in lines), Decimal("0.00"))
    wb = Workbook()
    ws = wb.active
    ws.title = "缴费清册"
    footer = [["合计", f"{len(lines)}人", f"其中零申报{sum(1 for ln in lines if ln.amount == 0)}人", "", "", total, "", ""]]
    write_rows(ws, DECLARATION_HEADER, rows, id_columns=(4,), footer=footer)
    for (cell,) in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        cell.number_format = "0.00"
    unit = declaration.township.full_name + (f" / {declaration.village.name}" if declaration.village_id else "")
    info = wb.create_sheet("申报信息")
    write_rows(
        info,
        ["项目", "内容"],
        [["申报单位", unit], ["待遇年度", declaration.year], ["申报编号", declaration.pk],
         ["人数", declaration.person_count], ["金额合计", declaration.total]],
    )
    return wb
