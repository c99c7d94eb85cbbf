"""The departures list as an importer of the one import flow (``core.imports``).

Columns: 姓名, 身份证号码, and optionally 名单类型 (a row's kind, else the list's) and 日期 (the
date of death; for other kinds, when the person left — today if blank). What follows, by kind
(the seeds: 国家医保办函〔2021〕11号 as Neixiang and Gaoyang quote it — a refund only for a
payment made "未进入待遇享受期前"):

- 死亡/户口注销: the person is marked deceased; unpaid → excluded (已死亡); paid and died
  before cover began → a death refund candidate.
- 参加职工医保: unpaid → excluded; paid and left before cover began → an employee-insurance
  refund candidate.
- 在外地参保: likewise, with the elsewhere refund.
- 大学生在校参保: unpaid → excluded; a payment is left alone (the seeds name no refund).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from core import idcard, intake
from core.cells import CellError, parse_date, text
from core.imports.importers import ERROR, Checked, Importer, Outcome, TargetError, register
from core.spreadsheets import UploadError
from enrollment.choices import PAID_STATUSES, EnrollmentStatus, ExclusionReason
from enrollment.models import Enrollment, Person
from enrollment.services import Leave, persons_leave
from subsidies.choices import RefundReason

from ..refunds.services import benefit_start, county_refund_codes, refund_flag_candidates

KINDS = {  # how the offices write a row's kind → the exclusion reason
    "死亡": ExclusionReason.DECEASED, "已死亡": ExclusionReason.DECEASED, "户口注销": ExclusionReason.DECEASED,
    "参加职工医保": ExclusionReason.EMPLOYEE_INSURANCE, "职工医保": ExclusionReason.EMPLOYEE_INSURANCE,
    "大学生在校参保": ExclusionReason.STUDENT_AT_SCHOOL, "在校参保": ExclusionReason.STUDENT_AT_SCHOOL,
    "学校参保": ExclusionReason.STUDENT_AT_SCHOOL,
    "在外地参保": ExclusionReason.ENROLLED_ELSEWHERE, "外地参保": ExclusionReason.ENROLLED_ELSEWHERE,
    "其他统筹地区参保": ExclusionReason.ENROLLED_ELSEWHERE,
}
LIST_KINDS = [  # what the upload page offers for a whole list
    (ExclusionReason.DECEASED, "死亡（户口注销）名单"),
    (ExclusionReason.EMPLOYEE_INSURANCE, "参加职工医保人员名单"),
    (ExclusionReason.STUDENT_AT_SCHOOL, "大学生在校参保名单"),
    (ExclusionReason.ENROLLED_ELSEWHERE, "在外地参保人员名单"),
]
REFUNDS = {
    ExclusionReason.DECEASED: RefundReason.DEATH,
    ExclusionReason.EMPLOYEE_INSURANCE: RefundReason.EMPLOYEE,
    ExclusionReason.ENROLLED_ELSEWHERE: RefundReason.ELSEWHERE,
}
HEADERS = {
    "name": ("姓名",),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "证件号码"),
    "kind": ("名单类型", "类型", "减员原因", "原因"),
    "on": ("日期", "死亡日期", "注销日期", "参保日期", "变动日期"),
}
COLUMNS = intake.Columns(HEADERS, required=("name", "id_number"))
MAX_ROWS = 50000

ERR_NO_HEADER = "找不到表头：前{rows}行中没有同时包含“姓名”“身份证号码”的行。".format(rows=intake.TITLE_ROWS)
ERR_NO_ROWS = "文件中没有数据行。"
ERR_NAME = "姓名不能为空。"
ERR_KIND = "名单类型“{value}”无法识别，请写：死亡、户口注销、参加职工医保、大学生在校参保或在外地参保。"
ERR_DATE = "日期“{value}”无法识别，请写成 2024-10-05。"
ERR_DEATH_DATE = "死亡人员须填写死亡日期。"
ERR_DATE_FUTURE = "日期不能晚于今天。"
ERR_UNKNOWN_ID = "系统中没有这个身份证号码（{masked}），未处理。"
ERR_NAME_MISMATCH = "姓名“{given}”与花名册中的“{actual}”不一致，请核对。"
ERR_DUPLICATE_ROW = "与第{line}行重复。"
ERR_NO_COUNTY = "您的账户没有绑定县/区，不能导入名单。"
ERR_YEAR = "请填写年度（year，如 2027）。"
ERR_LIST_KIND = "请选择名单类型（kind）：deceased、employee、student_school 或 elsewhere。"
MSG_REFUND = "{year}年度已缴费{amount}元，在待遇享受期开始（{start:%Y年%-m月%-d日}）前{event}：提出{reason}退费候选，由医保局审批。"
MSG_KEPT_STARTED = "{year}年度已缴费，待遇已于{start:%Y年%-m月%-d日}开始享受，个人缴费不再退回，未改动。"
MSG_KEPT_NOT_REFUNDED = "{year}年度已缴费；{county}不受理“{reason}”退费，个人缴费未改动。"
MSG_KEPT_STUDENT = "{year}年度已缴费，在校参保名单不退费，未改动，请核实是否重复参保。"
MSG_DONE = "导入完成：移出应参保{excluded}人，提出退费候选{refund}人，已缴费未改动{kept}人，无变化{same}人，跳过有错误的{skipped}行。"


@dataclass
class Row:
    line: int
    name: str
    id_number: str
    reason: str = ""
    on: date | None = None
    person: Person | None = None
    enrollment: Enrollment | None = None
    status: str = ""
    message: str = ""


class DepartureListImporter(Importer):
    kind = "departure_list"
    label = "部门减员名单"
    capabilities = ("identity.import",)
    statuses = {"excluded": "移出应参保", "refund": "提出退费候选", "kept": "已缴费，未改动", "same": "已是此状态，无变化"}
    all_or_none = False

    def _check(self, run, *, actor, progress) -> list[Row]:
        today = timezone.localdate()
        with run.file.open("rb") as fh:
            rows = intake.read_rows(fh, name=run.original_name, max_rows=MAX_ROWS, keep_lines=True)
        if not rows:
            raise UploadError(ERR_NO_ROWS)
        numbered = enumerate(rows, start=1)
        header = intake.find_header(numbered, COLUMNS)
        if header is None:
            raise UploadError(ERR_NO_HEADER)
        body = list(intake.data_rows(numbered, header, COLUMNS, max_rows=MAX_ROWS))
        cols = header.columns

        def cell(r, key):
            i = cols.get(key)
            return r[i] if i is not None and i < len(r) else None

        checked, errors = [], {}
        for done, (line, r) in enumerate(body, start=1):
            progress(done, len(body))
            raw_id = cell(r, "id_number")
            row = Row(line=line, name=text(cell(r, "name")), id_number=text(raw_id) if not isinstance(raw_id, float) else str(raw_id))
            problems = []
            if not row.name:
                problems.append(ERR_NAME)
            try:
                row.id_number = idcard.parse(raw_id, today=today).number
            except idcard.IdNumberError as exc:
                problems.append(exc.message)
            label = text(cell(r, "kind"))
            row.reason = KINDS.get(label, "") if label else run.options.get("kind", "")
            if not row.reason:
                problems.append(ERR_KIND.format(value=label))
            raw_on = cell(r, "on")
            try:
                row.on = parse_date(raw_on)
            except CellError:
                problems.append(ERR_DATE.format(value=text(raw_on)))
            if row.on and row.on > today:
                problems.append(ERR_DATE_FUTURE)
            if row.reason == ExclusionReason.DECEASED and row.on is None and not any(p.startswith("日期") for p in problems):
                problems.append(ERR_DEATH_DATE)
            errors[line] = problems
            checked.append(row)
        people = {p.id_number: p for p in Person.objects.visible_to(actor).filter(
            id_number__in=[r.id_number for r in checked if r.id_number]).select_related("household__village")}
        enrollments = {e.person_id: e for e in Enrollment.objects.filter(person__in=people.values(), year=run.year)}
        refunded = county_refund_codes(run.region, run.year)
        seen: dict[str, int] = {}
        for row in checked:
            problems = errors[row.line]
            if not any("身份证" in p for p in problems):
                row.person = people.get(row.id_number)
                if row.person is None:
                    problems.append(ERR_UNKNOWN_ID.format(masked=idcard.mask(row.id_number)))
                elif row.name and row.name != row.person.name:
                    problems.append(ERR_NAME_MISMATCH.format(given=row.name, actual=row.person.name))
                elif row.id_number in seen:
                    problems.append(ERR_DUPLICATE_ROW.format(line=seen[row.id_number]))
                else:
                    seen[row.id_number] = row.line
            if problems:
                row.status, row.message = ERROR, "；".join(problems)
                continue
            row.enrollment = enrollments.get(row.person.pk)
            self._judge(row, year=run.year, today=today, refunded=refunded, county=run.region.name)
        return checked

    def _judge(self, row: Row, *, year: int, today: date, refunded: set[str], county: str) -> None:
        e = row.enrollment
        if e is None or e.status not in (*PAID_STATUSES, EnrollmentStatus.REFUNDED):
            same = e is not None and e.status == EnrollmentStatus.EXCLUDED and e.exclusion_reason == row.reason
            if row.reason == ExclusionReason.DECEASED:
                same = same and row.person.is_deceased
            row.status = "same" if same else "excluded"
            return
        if e.status == EnrollmentStatus.REFUNDED:
            row.status = "same"
            return
        start = benefit_start(e)
        event = row.on or today
        refund = REFUNDS.get(row.reason)
        if refund is None:
            row.status, row.message = "kept", MSG_KEPT_STUDENT.format(year=year)
        elif refund not in refunded:
            row.status = "kept"
            row.message = MSG_KEPT_NOT_REFUNDED.format(year=year, county=county, reason=RefundReason(refund).label)
        elif event >= start:
            row.status, row.message = "kept", MSG_KEPT_STARTED.format(year=year, start=start)
        else:
            row.status = "refund"
            row.message = MSG_REFUND.format(year=year, amount=e.amount_due, start=start, event=ExclusionReason(row.reason).label,
                                            reason=RefundReason(refund).label)

    @staticmethod
    def _outcomes(rows: list[Row]) -> Checked:
        return Checked([Outcome(r.line, r.status, r.message, r.name, r.id_number) for r in rows])

    def check(self, run, *, actor, progress):
        return self._outcomes(self._check(run, actor=actor, progress=progress))

    def apply(self, run, *, actor, progress):
        rows = self._check(run, actor=actor, progress=progress)
        source = run.options.get("source_list", "") or run.original_name
        leaves = [Leave(row.person, row.reason, row.on) for row in rows
                  if row.status in ("excluded", "refund") or (row.status == "kept" and row.reason == ExclusionReason.DECEASED)]
        persons_leave(actor=actor, leaves=leaves, year=run.year, source=source)
        candidates: dict[str, list] = {}
        for row in rows:
            if row.status == "refund":
                candidates.setdefault(REFUNDS[row.reason], []).append(
                    (row.enrollment.pk, row.enrollment.amount_due, f"部门名单：{source} 第{row.line}行", row.message))
        for reason, items in candidates.items():
            refund_flag_candidates(items, reason=reason)
        checked = self._outcomes(rows)
        counts = checked.counts or {}
        return checked, {"excluded": counts.get("excluded", 0), "refund": counts.get("refund", 0), "kept": counts.get("kept", 0),
                         "same": counts.get("same", 0), "skipped": counts.get(ERROR, 0)}

    def target(self, actor, data):
        year = str(data.get("year", "")).strip()
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            raise TargetError("year", ERR_YEAR)
        kind = str(data.get("list_kind", "") or "").strip()
        if kind not in dict(LIST_KINDS):
            raise TargetError("list_kind", ERR_LIST_KIND)
        if actor.county is None:
            raise TargetError("detail", ERR_NO_COUNTY)
        source = str(data.get("source_list", "") or "").strip()[:200] or str(data.get("file_name", ""))
        return actor.county, int(year), {"kind": kind, "source_list": source}

    def summary(self, run) -> str:
        return f"{run.region.name} · {run.year}年度 · {dict(LIST_KINDS).get(run.options.get('kind'), '')}“{run.options.get('source_list', '')}”。"

    def done_message(self, run) -> str:
        return MSG_DONE.format(**run.result)

    # done_url: the run's own page — a department may not read the refunds it proposed.


DEPARTURES = register(DepartureListImporter())
