"""A run's rows that need attention as an xlsx sheet, ID numbers as the viewer may see them."""

from __future__ import annotations

import openpyxl

from .. import audit, disclosure
from ..spreadsheets import write_rows
from .importers import importer_for

HEADER = ["行号", "结果", "原因", "姓名", "身份证号码"]


def problems_workbook(*, actor, run) -> openpyxl.Workbook:
    """Every kept row with its outcome and message; recorded as an export (and as a view of full
    IDs when the viewer may see them)."""
    labels = importer_for(run.kind).labels()
    shown = disclosure.for_viewer(actor)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "问题行"
    write_rows(
        ws, HEADER,
        ([line, labels.get(status, status), message, name, shown.id_number(number)] for line, status, message, name, number in run.rows),
        id_columns=(5,),
    )
    ws.column_dimensions["C"].width = 60
    audit.record_export(actor=actor, obj=run, full_ids=shown.full_ids, detail={"what": f"{run.kind}_problems", "run": run.pk})
    return wb
