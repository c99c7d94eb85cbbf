"""Roster spreadsheets through django-import-export: one row per person, into one village.

Columns (Chinese headers, as clerks keep them): 户号, 住址, 姓名, 身份证号码, 与户主关系, 联系电话,
户籍地, 在校大学生, 特殊参保人群, 进入机构日期, 本年度参保, 原因说明, 档次 (``COLUMNS``: the header may sit below title rows; the
sheet is read by ``core.intake``, cells cleaned by ``core.cells``). Each row is checked with the
same rules as the household form; errors come back per row, in Chinese, with the row's number in
the sheet. A household number is text: a numeric
户号 cell is that row's error. A person already registered in another household of the village
is moved only as a listed ``Move`` the preview showed; the confirm refuses any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from import_export import fields, resources, widgets

from core import cells, idcard, intake
from subsidies.choices import CoverGroup

from . import rules
from .choices import PAID_STATUSES, REASONS_NEEDING_NOTE, ExclusionReason, Relation
from .models import Enrollment, Household, Person
from .services import ALLOWED_TIERS, ERR_DUPLICATE_ID, _set_participation, cover_group_errors

COL_NUMBER, COL_ADDRESS, COL_NAME, COL_ID = "户号", "住址", "姓名", "身份证号码"
COL_RELATION, COL_PHONE, COL_HUKOU, COL_STUDENT = "与户主关系", "联系电话", "户籍地", "在校大学生"
COL_PARTICIPATION, COL_NOTE, COL_TIER = "本年度参保", "原因说明", "档次"
COL_GROUP, COL_GROUP_SINCE = "特殊参保人群", "进入机构日期"
REQUIRED_COLUMNS = (COL_NUMBER, COL_NAME, COL_ID)
TEMPLATE_COLUMNS = [COL_NUMBER, COL_ADDRESS, COL_NAME, COL_ID, COL_RELATION, COL_PHONE, COL_HUKOU, COL_STUDENT,
                    COL_GROUP, COL_GROUP_SINCE, COL_PARTICIPATION, COL_NOTE, COL_TIER]

# The header texts each column is known by (after core.intake.normalise_header).
COLUMNS = intake.Columns({
    COL_NUMBER: (COL_NUMBER, "户编号"), COL_ADDRESS: (COL_ADDRESS, "家庭住址", "地址"), COL_NAME: (COL_NAME,),
    COL_ID: (COL_ID, "身份证号", "公民身份号码", "证件号码"), COL_RELATION: (COL_RELATION, "与户主关系名称", "关系"),
    COL_PHONE: (COL_PHONE, "电话", "手机号码"), COL_HUKOU: (COL_HUKOU,), COL_STUDENT: (COL_STUDENT,),
    COL_GROUP: (COL_GROUP, "特殊人群"), COL_GROUP_SINCE: (COL_GROUP_SINCE, "进入福利机构日期"),
    COL_PARTICIPATION: (COL_PARTICIPATION, "是否参保"), COL_NOTE: (COL_NOTE,), COL_TIER: (COL_TIER, "缴费档次"),
}, required=REQUIRED_COLUMNS, id_key=COL_ID)

ERR_MISSING_COLUMNS = "表格缺少必需的列：{columns}。表头行应为列名，如：" + "、".join(TEMPLATE_COLUMNS)
ERR_NUMBER = "户号不能为空。"
ERR_NAME = "姓名不能为空。"
ERR_RELATION = "与户主关系“{value}”无法识别，可填：{choices}。"
ERR_PARTICIPATION = "本年度参保“{value}”无法识别，可填：参保，或不参保原因（{choices}）。"
ERR_NOTE = "选择“{reason}”时必须在“原因说明”中注明具体原因。"
ERR_TIER = "档次应为1或2。"
ERR_DUP_IN_FILE = "文件中第{row}行已有这个身份证号码。"
ERR_HEADS = "户号 {number}：每户必须有且只有一名户主（导入后有{count}名），请检查“与户主关系”一列。"
ERR_PAID_EXCLUDED = "{name}本年度已缴费（{status}），不能改为“{reason}”；如需退费请走退费申请。"
MSG_MOVE = "{name}（{masked}）将从户号 {old} 移到户号 {new}。"
ERR_MOVE_NOT_PREVIEWED = (
    "{name}（{masked}）现在登记在户号 {old}，导入会把此人移到户号 {new}，但预览中没有这一项（预览后花名册有了变动）。"
    "没有写入任何数据，请重新上传文件，核对预览后再确认。"
)
ERR_MOVE_GONE = (
    "预览中{name}（{masked}）要从户号 {old} 移到户号 {new}，但此人现在已不在户号 {old}（预览后花名册有了变动）。"
    "没有写入任何数据，请重新上传文件，核对预览后再确认。"
)

RELATION_BY_LABEL = {str(c.label): c.value for c in Relation} | {c.value: c.value for c in Relation}
RELATION_BY_LABEL |= {"本人": Relation.HEAD, "妻": Relation.SPOUSE, "夫": Relation.SPOUSE, "子": Relation.CHILD,
                      "女": Relation.CHILD, "儿子": Relation.CHILD, "女儿": Relation.CHILD, "父亲": Relation.PARENT,
                      "母亲": Relation.PARENT, "孙子": Relation.GRANDCHILD, "孙女": Relation.GRANDCHILD}
REASON_BY_LABEL = {str(c.label): c.value for c in ExclusionReason} | {c.value: c.value for c in ExclusionReason}
REASON_BY_LABEL |= {"职工医保": ExclusionReason.EMPLOYEE_INSURANCE, "外地参保": ExclusionReason.ENROLLED_ELSEWHERE,
                    "拒绝参保": ExclusionReason.REFUSED, "拒缴": ExclusionReason.REFUSED, "死亡": ExclusionReason.DECEASED,
                    "其他": ExclusionReason.OTHER, "服刑": ExclusionReason.PRISON, "参军": ExclusionReason.MILITARY}
ENROL_WORDS = {"参保", "是", "缴费", "待缴费", rules.ENROL}
GROUP_BY_LABEL = {str(c.label): c.value for c in CoverGroup} | {"无": "", "否": ""}
GROUP_BY_LABEL |= {"退伍军人": CoverGroup.VETERAN, "福利机构儿童": CoverGroup.WELFARE_CHILD, "社区矫正人员": CoverGroup.COMMUNITY_CORRECTIONS}
ERR_GROUP_SINCE = "进入机构日期“{value}”无法识别，请写成 2024-10-05。"
YES_WORDS = {"是", "Y", "y", "1", "TRUE", "True", "true", "√"}


@dataclass(frozen=True)
class Move:
    """A person of the village whose row files them under another household number."""

    row: int  # spreadsheet row (header is row 1)
    id_number: str
    name: str
    from_household: int
    from_number: str
    to_number: str

    @property
    def key(self) -> tuple[str, int, str]:
        """What the confirm must find again, exactly (kept in the session between the two steps)."""
        return (self.id_number, self.from_household, self.to_number)

    def message_fields(self) -> dict:
        """The placeholders of MSG_MOVE and the confirm's refusals (the ID masked, as on every page)."""
        return {"name": self.name, "masked": idcard.mask(self.id_number), "old": self.from_number, "new": self.to_number}

    @property
    def message(self) -> str:
        return MSG_MOVE.format(**self.message_fields())


class RosterResource(resources.ModelResource):
    name = fields.Field(attribute="name", column_name=COL_NAME, widget=widgets.CharWidget())
    id_number = fields.Field(attribute="id_number", column_name=COL_ID, widget=widgets.CharWidget())
    phone = fields.Field(attribute="phone", column_name=COL_PHONE, widget=widgets.CharWidget())
    hukou_place = fields.Field(attribute="hukou_place", column_name=COL_HUKOU, widget=widgets.CharWidget())

    class Meta:
        model = Person
        fields = ("name", "id_number", "phone", "hukou_place")
        import_id_fields = ("id_number",)
        clean_model_instances = True
        skip_diff = True
        use_transactions = True

    def __init__(self, *, actor, village, year: int, previewed_moves: list[Move] | None = None,
                 lines: list[int] | None = None, progress=None):
        """``previewed_moves``: on confirm, the moves the preview showed; any other move refuses the file.
        ``lines``: the sheet's row number of each dataset row (a header below title rows); by
        default the header is row 1. ``progress``: called with (rows done, rows in all)."""
        super().__init__()
        self.lines, self.progress, self._total = lines, progress, 0
        self.actor, self.village, self.year = actor, village, year
        self.previewed_moves = {m.key: m for m in previewed_moves} if previewed_moves is not None else None
        self.moves: list[Move] = []
        self._seen: dict[str, int] = {}
        self._parsed: dict[int, dict] = {}

    def line(self, row_number: int) -> int:
        """The sheet's row number of the dataset's row ``row_number`` (1-based)."""
        return line_of(row_number, self.lines)

    def before_import(self, dataset, **kwargs):
        headers = [cells.text(h) for h in (dataset.headers or [])]
        dataset.headers = headers
        missing = [c for c in REQUIRED_COLUMNS if c not in headers]
        if missing:
            raise ValidationError(ERR_MISSING_COLUMNS.format(columns="、".join(missing)))
        self._total = len(dataset)

    def before_import_row(self, row, **kwargs):
        """Check the row with the roster's rules; normalise the ID so the lookup finds the person."""
        number = kwargs.get("row_number")
        if self.progress is not None and number:
            self.progress(number - 1, self._total)
        errors: dict[str, list[str]] = {}
        try:
            row[COL_ID] = cells.normalise_id(row.get(COL_ID))  # a number cell is refused: digits were lost
        except idcard.IdNumberError as exc:
            errors[COL_ID] = [exc.message]
        if COL_ID not in errors:
            first = self._seen.setdefault(row[COL_ID], number)
            if first != number:
                errors[COL_ID] = [ERR_DUP_IN_FILE.format(row=self.line(first))]
        try:
            household_number = cells.household_number(row.get(COL_NUMBER))
        except cells.HouseholdNumberError as exc:
            errors[COL_NUMBER] = [exc.message]
        else:
            if not household_number:
                errors[COL_NUMBER] = [ERR_NUMBER]
        row[COL_NAME] = cells.text(row.get(COL_NAME))
        if not row[COL_NAME]:
            errors[COL_NAME] = [ERR_NAME]
        row[COL_PHONE] = cells.text(row.get(COL_PHONE))
        row[COL_HUKOU] = cells.text(row.get(COL_HUKOU))
        relation_raw = cells.text(row.get(COL_RELATION))
        relation = RELATION_BY_LABEL.get(relation_raw) if relation_raw else Relation.OTHER
        if relation is None:
            errors[COL_RELATION] = [ERR_RELATION.format(value=relation_raw, choices="、".join(str(c.label) for c in Relation))]
        part_raw = cells.text(row.get(COL_PARTICIPATION))
        if not part_raw:
            participation = None
        elif part_raw in ENROL_WORDS:
            participation = rules.ENROL
        else:
            participation = REASON_BY_LABEL.get(part_raw)
            if participation is None:
                errors[COL_PARTICIPATION] = [ERR_PARTICIPATION.format(
                    value=part_raw, choices="、".join(str(c.label) for c in ExclusionReason))]
        note = cells.text(row.get(COL_NOTE))
        if participation in REASONS_NEEDING_NOTE and not note:
            errors[COL_NOTE] = [ERR_NOTE.format(reason=ExclusionReason(participation).label)]
        # Without the column (an older template) the person's group is left as it is.
        group = GROUP_BY_LABEL.get(raw, raw) if (raw := cells.text(row.get(COL_GROUP))) or COL_GROUP in row else None
        since = None
        try:
            since = cells.parse_date(row.get(COL_GROUP_SINCE))
        except cells.CellError:
            errors[COL_GROUP_SINCE] = [ERR_GROUP_SINCE.format(value=cells.text(row.get(COL_GROUP_SINCE)))]
        if COL_GROUP_SINCE not in errors:
            for key, msg in cover_group_errors(group or "", since, today=timezone.localdate()).items():
                errors[COL_GROUP if key == "cover_group" else COL_GROUP_SINCE] = [msg]
        tier_raw = cells.text(row.get(COL_TIER)) or "1"
        tier = int(tier_raw) if tier_raw.isdigit() else None
        if tier not in ALLOWED_TIERS:
            errors[COL_TIER] = [ERR_TIER]
        if errors:
            raise ValidationError(errors)
        self._parsed[number] = {
            "number": household_number, "address": cells.text(row.get(COL_ADDRESS)), "relation": relation,
            "participation": participation, "note": note, "tier": tier,
            "student": cells.text(row.get(COL_STUDENT)) in YES_WORDS, "group": group, "since": since,
        }

    def import_instance(self, instance, row, **kwargs):
        parsed = self._parsed[kwargs["row_number"]]
        if instance.pk is not None and instance.household.village_id != self.village.pk:
            holder = instance.household.village.full_name
            raise ValidationError({COL_ID: [ERR_DUPLICATE_ID.format(place=holder, masked=idcard.mask(instance.id_number))]})
        if instance.pk is not None and instance.household.number != parsed["number"]:
            move = Move(row=self.line(kwargs["row_number"]), id_number=instance.id_number, name=instance.name,
                        from_household=instance.household_id, from_number=instance.household.number,
                        to_number=parsed["number"])
            self.moves.append(move)
            if self.previewed_moves is not None and move.key not in self.previewed_moves:
                raise ValidationError({COL_NUMBER: [ERR_MOVE_NOT_PREVIEWED.format(**move.message_fields())]})
        super().import_instance(instance, row, **kwargs)
        household, created = Household.objects.get_or_create(
            village=self.village, number=parsed["number"], defaults={"address": parsed["address"]}
        )
        if not created and parsed["address"] and household.address != parsed["address"]:
            household.address = parsed["address"]
            household.save()
        instance.household = household
        instance.relation = parsed["relation"]
        instance.is_student = parsed["student"]
        if parsed["group"] is not None:
            instance.cover_group = parsed["group"]
            instance.cover_group_since = parsed["since"] if parsed["group"] == CoverGroup.WELFARE_CHILD else None
        instance.fill_from_id()

    def after_save_instance(self, instance, row, **kwargs):
        parsed = self._parsed[kwargs["row_number"]]
        if parsed["participation"] not in (None, rules.ENROL):
            paid = Enrollment.objects.filter(person=instance, year=self.year, status__in=PAID_STATUSES).first()
            if paid is not None:
                # The form refuses this too: money was taken, only a refund takes the person out.
                raise ValidationError({COL_PARTICIPATION: [ERR_PAID_EXCLUDED.format(
                    name=instance.name, status=paid.get_status_display(),
                    reason=ExclusionReason(parsed["participation"]).label)]})
        if parsed["participation"] is not None:
            _set_participation(
                instance, year=self.year, village=self.village, participation=parsed["participation"],
                reason_note=parsed["note"], tier=parsed["tier"],
            )


    def after_import(self, dataset, result, **kwargs):
        """Every household the file touched, moved into or out of, has exactly one head, as the household
        form requires (checked on the rows as written, inside the import's transaction); on confirm,
        every move the preview showed happened."""
        errors = []
        if self.previewed_moves is not None:
            made = {m.key for m in self.moves}
            errors += [ERR_MOVE_GONE.format(**m.message_fields()) for key, m in self.previewed_moves.items() if key not in made]
        numbers = {p["number"] for p in self._parsed.values()}
        left = {m.from_household for m in self.moves}
        wrong = (
            Household.objects.filter(village=self.village)
            .filter(Q(number__in=numbers) | Q(pk__in=left))
            .annotate(heads=Count("members", filter=Q(members__relation=Relation.HEAD)))
            .exclude(heads=1)
            .order_by("number")
        )
        errors += [ERR_HEADS.format(number=h.number, count=h.heads) for h in wrong]
        if errors:
            raise ValidationError(errors)


def line_of(row_number: int, lines: list[int] | None) -> int:
    """The sheet's row number of dataset row ``row_number`` (1-based): from ``lines`` when the
    dataset came from a sheet, else the row below a header in row 1."""
    if lines and 0 < row_number <= len(lines):
        return lines[row_number - 1]
    return row_number + 1


def row_messages(result, lines: list[int] | None = None) -> list[tuple[int, str]]:
    """(spreadsheet row number, Chinese message) for every invalid or failed row; file-wide
    problems are reported at row 1. ``lines``: see ``RosterResource``."""
    out = []
    for invalid in result.invalid_rows:
        err = invalid.error
        if hasattr(err, "message_dict"):
            msgs = [f"{field}：{m}" if field != "__all__" else m for field, ms in err.message_dict.items() for m in ms]
        else:
            msgs = list(err.messages)
        out.append((line_of(invalid.number, lines), "；".join(msgs)))
    for number, errors in result.row_errors():
        for e in errors:
            out.append((line_of(number, lines), str(e.error)))
    for e in result.base_errors:
        err = e.error
        out.append((1, "；".join(err.messages) if isinstance(err, ValidationError) else str(err)))
    return sorted(out)
