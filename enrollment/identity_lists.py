"""Department identity lists (xlsx/xls/ods/csv: 姓名, 身份证号码, 资助类别, 认定日期): read, check, write.

Read through the one reader and header finder (``core.intake``: title rows above the header are
fine), cells through the one normaliser (``core.cells``). Reading and checking write nothing;
``identity_import`` writes the checked rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from core import idcard, intake
from core.cells import CellError, parse_date, text
from core.scoping import ensure_visible
from core.spreadsheets import UploadError
from subsidies.models import PolicyYear, SubsidyCategory

from .models import Person, PersonIdentity

ERR_NO_IMPORT = "您的角色不能导入资助身份名单。"
ERR_NOT_YOUR_CATEGORY = "资助类别“{name}”不由本部门认定，不能导入。"
ERR_NO_ROWS = "文件中没有数据行。"
ERR_NO_HEADER = "找不到表头：前{rows}行中没有同时包含“姓名”“身份证号码”“资助类别”“认定日期”的行。".format(rows=intake.TITLE_ROWS)
ERR_NAME = "姓名不能为空。"
ERR_CATEGORY_MISSING = "资助类别不能为空。"
ERR_CATEGORY_UNKNOWN = "{year}年度没有资助类别“{name}”。"
ERR_CATEGORY_NOT_YOURS = "资助类别“{name}”不由本部门认定，不能导入。"
ERR_DATE = "认定日期“{value}”无法识别，请写成 2024-10-05。"
ERR_DATE_MISSING = "认定日期不能为空。"
ERR_DATE_FUTURE = "认定日期不能晚于今天。"
ERR_UNKNOWN_ID = "系统中没有这个身份证号码（{masked}），未导入。请先由村/乡镇在花名册中登记此人。"
ERR_NAME_MISMATCH = "姓名“{given}”与花名册中的“{actual}”不一致，请核对。"
ERR_DUPLICATE_ROW = "与第{line}行重复。"
WARN_AFTER_WINDOW = "认定日期晚于集中征缴期，下一年度起享受资助。"

STATUS_NEW = "new"
STATUS_SAME = "same"
STATUS_CHANGED = "changed"
STATUS_LABELS = {STATUS_NEW: "新增", STATUS_SAME: "已有，无变化", STATUS_CHANGED: "已有，更新认定日期"}

HEADERS = {
    "name": ("姓名",),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "证件号码"),
    "category": ("资助类别", "类别", "身份类别", "资助对象"),
    "certified_on": ("认定日期", "认定时间", "认定日"),
}
COLUMNS = intake.Columns(HEADERS, required=tuple(HEADERS))
MAX_ROWS = 50000


def read_rows(fileobj, *, name: str = "") -> list[list]:
    """The rows of the first sheet, as lists of raw cell values, ``rows[i]`` being the sheet's row
    ``i + 1`` (blank rows kept as ``[]``); a list longer than MAX_ROWS is refused with a message
    (never silently cut)."""
    return intake.read_rows(fileobj, name=name, max_rows=MAX_ROWS, keep_lines=True)


def to_plain(rows: list[list]) -> list[list]:
    """Raw cells → JSON-safe values (kept in the session between preview and confirm). An ID
    stored as a number is kept as a float so the check can refuse it."""
    return [[c if isinstance(c, float) else text(c) for c in r] for r in rows]


def split_header(rows: list[list]) -> tuple[dict, list[tuple[int, list]]]:
    """The header's columns (found below any title rows) and the data rows with their row
    numbers in the sheet (``rows[0]`` is row 1)."""
    if not rows:
        raise UploadError(ERR_NO_ROWS)
    numbered = enumerate(rows, start=1)  # one iterator: the data rows follow where the header was found
    header = intake.find_header(numbered, COLUMNS)
    if header is None:
        raise UploadError(ERR_NO_HEADER)
    body = list(intake.data_rows(numbered, header, COLUMNS, max_rows=MAX_ROWS))
    if not body:
        raise UploadError(ERR_NO_ROWS)
    return header.columns, body


def check_rows(*, actor, policy: PolicyYear, rows: list[list], today: date | None = None, progress=None) -> list[ImportRow]:
    """Check every row; per-row errors, never a silent creation of a person. ``progress``: called
    with (rows done, rows in all)."""
    today = today or date.today()
    cols, body = split_header(rows)
    all_cats = list(policy.categories.all())
    mine = {c.pk for c in _importable_categories(actor, policy)}
    by_code = {c.code: c for c in all_cats}
    by_name = {c.name: c for c in all_cats}

    def cell(r, key):
        i = cols[key]
        return r[i] if i < len(r) else None

    checked: list[ImportRow] = []
    numbers = []
    for done, (line, r) in enumerate(body, start=1):
        if progress is not None:
            progress(done, len(body))
        raw_id = cell(r, "id_number")
        row = ImportRow(
            line=line,
            name=text(cell(r, "name")),
            id_number=text(raw_id) if not isinstance(raw_id, float) else str(raw_id),
            category_label=text(cell(r, "category")),
            certified_on=None,
        )
        if not row.name:
            row.errors.append(ERR_NAME)
        try:
            row.id_number = idcard.parse(raw_id, today=today).number
        except idcard.IdNumberError as exc:
            row.errors.append(exc.message)
        cat = by_code.get(row.category_label) or by_name.get(row.category_label)
        if not row.category_label:
            row.errors.append(ERR_CATEGORY_MISSING)
        elif cat is None:
            row.errors.append(ERR_CATEGORY_UNKNOWN.format(year=policy.year, name=row.category_label))
        elif cat.pk not in mine:
            row.errors.append(ERR_CATEGORY_NOT_YOURS.format(name=cat.name))
        else:
            row.category_id = cat.pk
        raw_date = cell(r, "certified_on")
        try:
            row.certified_on = parse_date(raw_date)
            if row.certified_on is None:
                row.errors.append(ERR_DATE_MISSING)
            elif row.certified_on > today:
                row.errors.append(ERR_DATE_FUTURE)
            elif row.certified_on > policy.window_end:
                row.warnings.append(WARN_AFTER_WINDOW)
        except CellError:
            row.errors.append(ERR_DATE.format(value=text(raw_date)))
        checked.append(row)
        numbers.append(row.id_number)

    people = {
        p.id_number: p
        for p in Person.objects.visible_to(actor).filter(id_number__in=[n for n in numbers if n]).only("id", "id_number", "name")
    }
    existing = {
        (i.person_id, i.category_id): i.certified_on
        for i in PersonIdentity.objects.filter(year=policy.year, category__policy=policy, person__in=people.values())
    }
    seen: dict[tuple, int] = {}
    for row in checked:
        if any("身份证" in e for e in row.errors):
            continue
        person = people.get(row.id_number)
        if person is None:
            row.errors.append(ERR_UNKNOWN_ID.format(masked=idcard.mask(row.id_number)))
            continue
        if row.name and row.name != person.name:
            row.errors.append(ERR_NAME_MISMATCH.format(given=row.name, actual=person.name))
            continue
        row.person_id = person.pk
        key = (person.pk, row.category_id)
        if row.category_id is not None:
            if key in seen:
                row.errors.append(ERR_DUPLICATE_ROW.format(line=seen[key]))
                continue
            seen[key] = row.line
        if not row.errors:
            before = existing.get(key)
            row.status = STATUS_NEW if before is None else STATUS_SAME if before == row.certified_on else STATUS_CHANGED
    return checked


# --- Identity lists --------------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    name: str
    id_number: str
    category_label: str
    certified_on: date | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    person_id: int | None = None
    category_id: int | None = None
    status: str = ""  # "new", "same", "changed" once checked


@dataclass(frozen=True)
class Certified:
    """An identity a list certified or re-dated: what follows from it elsewhere reads this."""

    person_id: int
    category_id: int
    certified_on: date


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    certified: list[Certified] = field(default_factory=list)  # the rows created or re-dated
    followed: dict[str, int] = field(default_factory=dict)  # each follower's count (``FOLLOWERS``)


@dataclass(frozen=True)
class Follower:
    """What another app does, inside the import's transaction, once a list has certified identities
    (collections_app proposes subsidy-difference refunds: ``collections_app.refunds.differences``).
    Apps to the right of enrollment register one in their ``AppConfig.ready`` — enrollment does not
    import them. ``follow(actor=, policy=, certified=, source_list=)`` returns how many things it
    did — None where the policy has it do nothing, and then nothing is said — and ``message``
    says so after the import, with ``{n}``."""

    key: str  # its count in the import's result
    message: str
    follow: Callable[..., int | None]


FOLLOWERS: dict[str, Follower] = {}


def follow_certified(follower: Follower) -> Follower:
    FOLLOWERS[follower.key] = follower
    return follower


def require_import(actor) -> None:
    if not actor.can("identity.import"):
        raise PermissionDenied(ERR_NO_IMPORT)


@transaction.atomic
def identity_import(*, actor, policy: PolicyYear, rows: list[ImportRow], source_list: str) -> ImportResult:
    """Write the checked rows (those without errors). Re-importing the same list changes nothing;
    a changed certification date or source is updated. Unknown ID numbers were reported by the
    check and are never created here. The audit event is the import flow's (``core.imports``)."""
    require_import(actor)
    ensure_visible(actor, policy)
    result = ImportResult()
    allowed = {c.pk: c for c in _importable_categories(actor, policy)}
    for row in rows:
        if row.errors or row.person_id is None or row.category_id is None:
            result.skipped += 1
            continue
        if row.category_id not in allowed:
            raise PermissionDenied(ERR_NOT_YOUR_CATEGORY.format(name=row.category_label))
        ident = PersonIdentity.objects.filter(person_id=row.person_id, category_id=row.category_id, year=policy.year).first()
        if ident is None:
            ident = PersonIdentity(person_id=row.person_id, category_id=row.category_id, year=policy.year,
                                   certified_on=row.certified_on, source_list=source_list)
            ident.full_clean(validate_unique=False)
            try:
                with transaction.atomic():
                    ident.save()
            except IntegrityError:
                result.unchanged += 1
                continue
            result.created += 1
        elif ident.certified_on != row.certified_on:
            ident.certified_on = row.certified_on
            ident.source_list = source_list
            ident.save()
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        result.certified.append(Certified(ident.person_id, ident.category_id, ident.certified_on))
    # Re-check inside the transaction that everything written is visible to the actor.
    written = PersonIdentity.objects.filter(year=policy.year, category__policy=policy, source_list=source_list)
    if written.exclude(pk__in=PersonIdentity.objects.visible_to(actor)).exists():
        raise PermissionDenied
    for follower in FOLLOWERS.values():
        done = follower.follow(actor=actor, policy=policy, certified=result.certified, source_list=source_list)
        if done is not None:
            result.followed[follower.key] = done
    return result


def _importable_categories(actor, policy):
    qs = SubsidyCategory.objects.filter(policy=policy)
    if actor.role == "department" and not actor.is_superuser:
        qs = qs.filter(department=actor.department)
    return qs
