"""Spreadsheets of the roster: the village roster as it is filtered on screen."""

from openpyxl import Workbook

from core import audit, disclosure
from core.spreadsheets import write_rows

from .models import Enrollment

HEADER = ["村/社区", "户号", "姓名", "身份证号码", "性别", "出生日期", "与户主关系", "联系电话", "{year}年度状态", "不参保原因", "档次", "已死亡"]


def _mask_phone(phone: str) -> str:
    return f"*******{phone[-4:]}" if phone else ""


def roster_workbook_for(*, actor, people, year: int, full_ids: bool, detail: dict, obj=None) -> Workbook:
    """``people`` (persons annotated with their ``year`` status, see selectors.persons_with_status)
    as xlsx. ID numbers are masked unless ``full_ids`` is asked for by a role that may see them
    (phone numbers go with the IDs); birth dates as the disclosure rule says. Every export is
    recorded; one with full numbers also as a view of full IDs."""
    shown = disclosure.for_viewer(actor, full_ids=disclosure.ID_FULL if full_ids else None)
    status_labels = dict(Enrollment._meta.get_field("status").flatchoices)
    reason_labels = dict(Enrollment._meta.get_field("exclusion_reason").flatchoices)
    rows = (
        [
            p.household.village.name, p.household.number, p.name,
            shown.id_number(p.id_number), p.get_sex_display(), shown.birth_cell(p.birth_date),
            p.get_relation_display(), p.phone if shown.full_ids else _mask_phone(p.phone),
            status_labels.get(p.year_status, "未登记") if p.year_status else ("" if p.is_deceased else "缺口"),
            reason_labels.get(p.year_reason, "") if p.year_reason else "", p.year_tier or "", "是" if p.is_deceased else "",
        ]
        for p in people.iterator(chunk_size=2000)
    )
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年度花名册"
    write_rows(ws, [h.format(year=year) for h in HEADER], rows, id_columns=(2, 4))
    audit.record_export(actor=actor, obj=obj, full_ids=shown.full_ids, detail={"what": "roster", "year": year, **detail})
    return wb
