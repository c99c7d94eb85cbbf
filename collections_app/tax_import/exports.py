"""Spreadsheets of a tax import: the problem rows, for the tax office and for each township."""

import openpyxl

from core import audit, disclosure
from core.spreadsheets import write_rows

PROBLEM_HEADER = ["行号", "结果", "原因", "姓名", "身份证号码", "缴费金额", "应缴金额", "缴费日期", "税票号码", "缴费渠道", "参保地", "乡镇", "待遇年度", "退费候选"]


def problems_workbook_for(*, actor, rows, detail: dict, obj=None, with_import: bool = False) -> openpyxl.Workbook:
    """The problem rows as an xlsx sheet, ID numbers as ``actor`` may see them (``with_import``: a
    first column names each row's import). Every export is recorded; one with full numbers also
    as a view of full IDs."""
    disclosed = disclosure.for_viewer(actor)
    lead = 1 if with_import else 0
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "问题行"
    write_rows(
        ws,
        ["导入批次"] * lead + PROBLEM_HEADER,
        (
            [f"#{r.tax_import_id}"] * lead
            + [
                r.row_number, r.get_outcome_display(), r.message, r.name,
                disclosed.id_number(r.id_number),
                r.amount, r.owed, r.paid_on, r.voucher, r.channel, r.place, r.township.name if r.township else "",
                r.year, "是" if r.refund_candidate else "",
            ]
            for r in rows.iterator(chunk_size=2000)
        ),
        id_columns=(5 + lead, 9 + lead),
    )
    ws.column_dimensions["D" if lead else "C"].width = 60
    audit.record_export(actor=actor, obj=obj, full_ids=disclosed.full_ids, detail=detail)
    return wb
