"""Roster writes: households with their members, enrollments, carry-over, notices, transfers.

Every service is keyword-only, atomic, checks the actor's capability and scope, validates
everything first and writes nothing unless everything is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core import audit, cells, idcard
from core.choices import RegionLevel
from core.models import Region
from core.scoping import ERR_OUT_OF_SCOPE, ensure_visible, region_in_scope, scope_q
from subsidies.choices import CoverGroup
from subsidies.selectors import PolicyMissing, policy_for

from . import rules
from .choices import PAID_STATUSES, REASONS_NEEDING_NOTE, EnrollmentStatus, ExclusionReason, Relation
from .models import Enrollment, Household, HouseholdNotice, Person, TransferRequest, TransferStatus

ERR_NO_EDIT = "您的角色不能修改花名册。"
ERR_NOT_VILLAGE = "请选择村/社区。"
ERR_NUMBER_REQUIRED = "请填写户号。"
ERR_NUMBER_TAKEN = "本村已有户号为“{number}”的户。"
ERR_NO_MEMBERS = "户内至少要有一名成员。"
ERR_ONE_HEAD = "每户必须有且只有一名户主（现有{count}名）。"
ERR_NAME_REQUIRED = "请填写姓名。"
ERR_DUPLICATE_IN_FORM = "本户中已有人使用这个身份证号码（第{row}行）。"
ERR_DUPLICATE_ID = "该身份证号码已在{place}登记（{masked}），一人只能建一档，不能重复登记。如确属本户，请申请转入。"
ERR_DECEASED_DATE = "已死亡人员须填写死亡日期。"
ERR_DECEASED_FUTURE = "死亡日期不能晚于今天。"
ERR_DECEASED_ENROL = "已死亡人员不能参保，请选择不参保原因“已死亡”。"
ERR_COVER_GROUP = "特殊参保人群“{value}”无法识别，可填：{choices}。"
ERR_COVER_SINCE = "儿童福利机构接收的儿童须填写进入机构日期。"
ERR_COVER_SINCE_FUTURE = "进入机构日期不能晚于今天。"
ERR_NOTE_REQUIRED = "选择“{reason}”时必须注明具体原因。"
ERR_LOCKED = "本年度已{status}，不能在花名册中改为不参保或删除；如需退费请走退费流程。"
ERR_DELETE_PAID = "已有缴费记录的人员不能删除；如已死亡请标记死亡，如已迁出请办理转出。"
ERR_TIER = "缴费档次应为1或2。"
ERR_YEAR = "待遇年度不正确。"
ERR_TRANSFER_SAME = "此人已在本户中。"
ERR_TRANSFER_UNKNOWN = "系统中没有这个身份证号码，请直接在本户中新增成员。"
ERR_TRANSFER_PENDING = "此人已有一条待处理的转户申请。"
ERR_TRANSFER_DECIDED = "该申请已处理。"
ERR_TRANSFER_NOT_HOLDER = "只有此人现在所在地区的经办人员才能处理转户申请。"
ERR_TRANSFER_PAID = "此人本年度已在原村缴费，转户后参保地不变，请在原村完成本年度征缴。"

ALLOWED_TIERS = (1, 2)
PARTICIPATION_CHOICES = [("", "— 未确定 —"), (rules.ENROL, "参保")] + [
    (c.value, f"不参保：{c.label}") for c in ExclusionReason
]


class RosterInvalid(Exception):
    """Everything that is wrong with a household and its members, to show next to each field."""

    def __init__(self, *, household=None, members=None, non_field=None):
        self.household: dict[str, list[str]] = household or {}
        self.members: dict[int, dict[str, list[str]]] = members or {}
        self.non_field: list[str] = non_field or []
        super().__init__(self.as_text())

    def as_text(self) -> str:
        parts = list(self.non_field)
        parts += [m for msgs in self.household.values() for m in msgs]
        for i, errs in sorted(self.members.items()):
            parts += [f"第{i + 1}行：{m}" for msgs in errs.values() for m in msgs]
        return "；".join(parts)

    def as_dict(self) -> dict:
        data = dict(self.household)
        if self.non_field:
            data["non_field_errors"] = self.non_field
        if self.members:
            data["members"] = {str(i): errs for i, errs in sorted(self.members.items())}
        return data


@dataclass
class MemberInput:
    """One member row as a form or an API request gives it."""

    name: str = ""
    id_number: str = ""
    relation: str = Relation.OTHER
    phone: str = ""
    hukou_place: str = ""
    is_student: bool = False
    is_deceased: bool = False
    deceased_on: date | None = None
    deceased_source: str = ""
    cover_group: str = ""  # subsidies.choices.CoverGroup: covered from a particular day (Jiangnan)
    cover_group_since: date | None = None  # a welfare child: the day the institution took it in
    participation: str | None = None  # None: leave the year's enrollment as it is
    reason_note: str = ""
    tier: int = 1
    person: Person | None = None  # an existing member being edited
    delete: bool = False
    # Set by validation: the existing person (elsewhere) that holds this ID.
    duplicate_of: Person | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: dict, person: Person | None = None) -> MemberInput:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k not in ("person", "duplicate_of")}
        for key in ("name", "phone", "hukou_place", "deceased_source", "reason_note", "cover_group"):
            if known.get(key) is None:
                known.pop(key, None)
        return cls(person=person, **known)


def require_edit(actor) -> None:
    if not actor.can("roster.edit"):
        raise PermissionDenied(ERR_NO_EDIT)


def _check_village(actor, village) -> None:
    if village is None or village.level != RegionLevel.VILLAGE:
        raise RosterInvalid(household={"village": [ERR_NOT_VILLAGE]})
    if not region_in_scope(actor, village):
        raise PermissionDenied(ERR_OUT_OF_SCOPE)


def _place(person: Person) -> str:
    return person.household.village.full_name


def cover_group_errors(group: str, since: date | None, *, today: date) -> dict[str, str]:
    """The rule of a person's cover group (the household form, the API and the roster import):
    a known group; a welfare child needs the day the institution took it in (its cover starts
    then, where the county says so), never in the future."""
    if not group:
        return {}
    if group not in CoverGroup.values:
        return {"cover_group": ERR_COVER_GROUP.format(value=group, choices="、".join(str(c.label) for c in CoverGroup))}
    if group == CoverGroup.WELFARE_CHILD and since is None:
        return {"cover_group_since": ERR_COVER_SINCE}
    if since is not None and since > today:
        return {"cover_group_since": ERR_COVER_SINCE_FUTURE}
    return {}


@dataclass
class IdChecked:
    number: str
    sex_label: str
    birth_date: date
    holder: Person | None = None  # someone else already registered with it


def id_number_errors(raw, *, person: Person | None = None, today: date | None = None) -> tuple[list[str], IdChecked | None]:
    """One ID number as a member row gives it: well-formed (``core.idcard``) and held by nobody
    else (一人一档). The errors, and what it says (None when it cannot be read)."""
    try:
        parsed = idcard.parse(raw, today=today or timezone.localdate())
    except idcard.IdNumberError as exc:
        return [exc.message], None
    info = IdChecked(parsed.number, "男" if parsed.sex == "M" else "女", parsed.birth_date)
    info.holder = (
        Person.objects.select_related("household__village__parent__parent")
        .filter(id_number=parsed.number)
        .exclude(pk=person.pk if person else None)
        .first()
    )
    if info.holder is not None:
        return [ERR_DUPLICATE_ID.format(place=_place(info.holder), masked=idcard.mask(info.holder.id_number))], info
    return [], info


def _validate_member(m: MemberInput, *, today: date) -> dict[str, list[str]]:
    """Rules of one row that need no other row (the database is asked only for the ID's holder)."""
    errors: dict[str, list[str]] = {}

    def add(key, msg):
        errors.setdefault(key, []).append(msg)

    if not (m.name or "").strip():
        add("name", ERR_NAME_REQUIRED)
    id_errors, info = id_number_errors(m.id_number, person=m.person, today=today)
    for msg in id_errors:
        add("id_number", msg)
    if info is not None:
        m.id_number = info.number
        m.duplicate_of = info.holder
    if m.is_deceased:
        if not m.deceased_on:
            add("deceased_on", ERR_DECEASED_DATE)
        elif m.deceased_on > today:
            add("deceased_on", ERR_DECEASED_FUTURE)
        if m.participation == rules.ENROL:
            add("participation", ERR_DECEASED_ENROL)
    for key, msg in cover_group_errors(m.cover_group, m.cover_group_since, today=today).items():
        add(key, msg)
    if m.participation in REASONS_NEEDING_NOTE and not (m.reason_note or "").strip():
        add("reason_note", ERR_NOTE_REQUIRED.format(reason=ExclusionReason(m.participation).label))
    if m.tier not in ALLOWED_TIERS:
        add("tier", ERR_TIER)
    return errors


def _locked_enrollment(person: Person | None, year: int) -> Enrollment | None:
    """This year's enrollment if money has been taken for it (it cannot be changed here)."""
    if person is None or person.pk is None:
        return None
    return (
        Enrollment.objects.filter(person=person, year=year)
        .filter(status__in=(*PAID_STATUSES, EnrollmentStatus.REFUNDED))
        .first()
    )


@transaction.atomic
def household_save(
    *,
    actor,
    year: int,
    members: list[MemberInput],
    village: Region | None = None,
    number: str = "",
    address: str = "",
    household: Household | None = None,
    today: date | None = None,
) -> Household:
    """Create or update a household and all its members (and their ``year`` enrollment) at once.

    ``members`` holds every row, including rows to delete, in display order: errors come back
    keyed by that index. Nothing is written unless everything is valid.
    """
    require_edit(actor)
    today = today or timezone.localdate()
    if household is not None:
        ensure_visible(actor, household)
        village = village or household.village
    _check_village(actor, village)
    own_ids = {p.pk for p in household.members.all()} if household is not None else set()
    for m in members:
        if m.person is not None and m.person.pk not in own_ids:
            raise PermissionDenied(ERR_OUT_OF_SCOPE)

    hh_errors: dict[str, list[str]] = {}
    number = cells.household_number(number or "")
    if not number:
        hh_errors["number"] = [ERR_NUMBER_REQUIRED]
    else:
        taken = Household.objects.filter(village=village, number=number)
        if household is not None:
            taken = taken.exclude(pk=household.pk)
        if taken.exists():
            hh_errors["number"] = [ERR_NUMBER_TAKEN.format(number=number)]

    member_errors: dict[int, dict[str, list[str]]] = {}
    kept = [(i, m) for i, m in enumerate(members) if not m.delete]
    seen: dict[str, int] = {}
    for i, m in kept:
        errs = _validate_member(m, today=today)
        if "id_number" not in errs:
            if m.id_number in seen:
                errs.setdefault("id_number", []).append(ERR_DUPLICATE_IN_FORM.format(row=seen[m.id_number] + 1))
            seen.setdefault(m.id_number, i)
        locked = _locked_enrollment(m.person, year)
        if locked is not None and m.participation not in (None, "", rules.ENROL):
            errs.setdefault("participation", []).append(ERR_LOCKED.format(status=locked.get_status_display()))
        if errs:
            member_errors[i] = errs
    for i, m in enumerate(members):
        if m.delete and m.person is not None:
            if m.person.enrollments.filter(status__in=(*PAID_STATUSES, EnrollmentStatus.REFUNDED)).exists():
                member_errors.setdefault(i, {}).setdefault("delete", []).append(ERR_DELETE_PAID)

    non_field = []
    if not kept:
        non_field.append(ERR_NO_MEMBERS)
    else:
        heads = sum(1 for _, m in kept if m.relation == Relation.HEAD)
        if heads != 1:
            non_field.append(ERR_ONE_HEAD.format(count=heads))
    if hh_errors or member_errors or non_field:
        raise RosterInvalid(household=hh_errors, members=member_errors, non_field=non_field)

    # Everything is valid: write.
    try:
        with transaction.atomic():
            if household is None:
                household = Household(village=village)
            household.village = village
            household.number = number
            household.address = (address or "").strip()
            household.full_clean()
            household.save()
            for m in members:
                if m.delete and m.person is not None:
                    _delete_person(m.person)
            for _, m in kept:
                person = m.person or Person(household=household)
                _apply_member(person, m)
                person.household = household
                person.full_clean()
                person.save()
                if m.participation is not None:
                    _set_participation(person, year=year, village=village, participation=m.participation,
                                       reason_note=m.reason_note, tier=m.tier)
    except ValidationError as exc:
        raise RosterInvalid(non_field=[m for msgs in exc.message_dict.values() for m in msgs]) from None
    except IntegrityError:
        # Someone else registered the same ID or household number a moment ago.
        raise RosterInvalid(non_field=["保存时发现重复的户号或身份证号码（可能他人刚刚登记），请刷新后重试。"]) from None
    return household


def _apply_member(person: Person, m: MemberInput) -> None:
    person.name = m.name.strip()
    person.id_number = m.id_number
    person.fill_from_id()  # sex and birth date always follow the ID number
    person.relation = m.relation
    person.phone = (m.phone or "").strip()
    person.hukou_place = (m.hukou_place or "").strip()
    person.is_student = bool(m.is_student)
    person.is_deceased = bool(m.is_deceased)
    person.deceased_on = m.deceased_on if m.is_deceased else None
    person.deceased_source = (m.deceased_source or "").strip() if m.is_deceased else ""
    person.cover_group = m.cover_group or ""
    person.cover_group_since = m.cover_group_since if person.cover_group == CoverGroup.WELFARE_CHILD else None


def _delete_person(person: Person) -> None:
    try:
        person.enrollments.all().delete()
        person.delete()
    except ProtectedError:
        raise RosterInvalid(non_field=[f"{person.name}：{ERR_DELETE_PAID}"]) from None


def _set_participation(person: Person, *, year: int, village, participation: str, reason_note: str, tier: int):
    """This year's enrollment from the participation a clerk chose ('' = undecided: a gap)."""
    if person.is_deceased and not participation:
        participation = ExclusionReason.DECEASED
    if person.pk is not None:
        # The receipt lifecycle's lock order (collections_app.lifecycle): the person, then the
        # enrollment; so a payment taken meanwhile is seen here, never overwritten.
        list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True))
    current = Enrollment.objects.select_for_update().filter(person=person, year=year).first()
    if current is not None and current.status in (*PAID_STATUSES, EnrollmentStatus.REFUNDED):
        return current  # money was taken: only collections and refunds change it
    if not participation:
        if current is not None:
            current.delete()
        return None
    enrollment = current or Enrollment(person=person, year=year, village=village)
    enrollment.tier = tier
    if participation == rules.ENROL:
        enrollment.status = EnrollmentStatus.PENDING
        enrollment.exclusion_reason = ""
        enrollment.reason_note = ""
    else:
        enrollment.status = EnrollmentStatus.EXCLUDED
        enrollment.exclusion_reason = participation
        enrollment.reason_note = (reason_note or "").strip() if participation in REASONS_NEEDING_NOTE else ""
    if enrollment.pk is None or enrollment.status == EnrollmentStatus.PENDING:
        enrollment.village = village
    enrollment.full_clean()
    enrollment.save()
    return enrollment


def participation_of(enrollment: Enrollment | None) -> str:
    """The participation choice that reproduces an enrollment ('' for none)."""
    if enrollment is None:
        return ""
    if enrollment.status == EnrollmentStatus.EXCLUDED:
        return enrollment.exclusion_reason
    return rules.ENROL


def member_input_of(person: Person) -> MemberInput:
    """The member row that keeps ``person`` as they are (a form or request that leaves them out)."""
    return MemberInput(
        person=person, name=person.name, id_number=person.id_number, relation=person.relation, phone=person.phone,
        hukou_place=person.hukou_place, is_student=person.is_student, is_deceased=person.is_deceased,
        deceased_on=person.deceased_on, deceased_source=person.deceased_source,
        cover_group=person.cover_group, cover_group_since=person.cover_group_since,
    )


@transaction.atomic
def person_update(*, actor, person: Person, today: date | None = None, **changes) -> Person:
    """Correct one person (e.g. a mistyped ID number): same rules as the household form."""
    require_edit(actor)
    ensure_visible(actor, person)
    m = member_input_of(person)
    for key, value in changes.items():
        if key in MemberInput.__dataclass_fields__ and key not in ("person", "duplicate_of", "delete"):
            setattr(m, key, value)
    errors = _validate_member(m, today=today or timezone.localdate())
    if "relation" in changes and changes["relation"] != person.relation:
        others = person.household.members.exclude(pk=person.pk)
        heads = others.filter(relation=Relation.HEAD).count() + (1 if m.relation == Relation.HEAD else 0)
        if heads != 1:
            errors.setdefault("relation", []).append(ERR_ONE_HEAD.format(count=heads))
    if errors:
        raise RosterInvalid(members={0: errors})
    _apply_member(person, m)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def enrollment_set(
    *, actor, person: Person, year: int, participation: str, reason_note: str = "", tier: int = 1
) -> Enrollment | None:
    """Record a person's participation in a benefit year: enrol (pending), or an exclusion reason."""
    require_edit(actor)
    ensure_visible(actor, person)
    m = member_input_of(person)
    m.participation, m.reason_note, m.tier = participation, reason_note, tier
    errors = {k: v for k, v in _validate_member(m, today=timezone.localdate()).items() if k != "id_number"}
    if not 2000 <= int(year) <= 2100:
        errors.setdefault("year", []).append(ERR_YEAR)
    locked = _locked_enrollment(person, year)
    if locked is not None and participation not in ("", rules.ENROL):
        errors.setdefault("participation", []).append(ERR_LOCKED.format(status=locked.get_status_display()))
    if errors:
        raise RosterInvalid(members={0: errors})
    return _set_participation(
        person, year=year, village=person.household.village, participation=participation,
        reason_note=reason_note, tier=tier,
    )


@transaction.atomic
def carry_over(*, actor, village: Region, to_year: int, from_year: int | None = None) -> rules.CarryOverReport:
    """Carry a village's roster of ``from_year`` (default: the year before) into ``to_year``.

    People enrolled last year need no re-registration: each gets a ``to_year`` enrollment to pay
    (same tier). The deceased, the excluded and the refunded are skipped; people who already have
    a ``to_year`` record are left alone. Running it twice changes nothing the second time.
    """
    require_edit(actor)
    _check_village(actor, village)
    from_year = from_year or to_year - 1
    report = rules.CarryOverReport(village=village.full_name, from_year=from_year, to_year=to_year)
    # Everyone who lives in the village now (people who moved in bring last year's record along).
    last = Enrollment.objects.filter(person__household__village=village, year=from_year)
    has_next = set(
        Enrollment.objects.filter(year=to_year, person__in=last.values("person_id")).values_list("person_id", flat=True)
    )
    new_rows = []
    rows = last.order_by("pk").values_list("person_id", "status", "tier", "person__is_deceased")
    for person_id, status, tier, is_deceased in rows.iterator(chunk_size=2000):
        outcome = rules.carry_over_outcome(last_status=status, is_deceased=is_deceased, has_next=person_id in has_next)
        report.counts[outcome] += 1
        if outcome == rules.CARRY_CREATE:
            new_rows.append(
                Enrollment(person_id=person_id, year=to_year, village_id=village.pk, tier=tier, status=EnrollmentStatus.PENDING)
            )
    if new_rows:
        bulk_create_with_history(new_rows, Enrollment, batch_size=1000, default_user=actor,
                                 default_change_reason=f"{from_year}年度花名册结转")
    audit.record(actor=actor, action=audit.ACTION_CARRY_OVER, obj=village, detail=report.as_dict())
    return report


@transaction.atomic
def notice_set(
    *, actor, household: Household, year: int, notice_receipt: bool, pledge_letter: bool, note: str = ""
) -> HouseholdNotice:
    """Record whether an unpaid household's notice receipt (告知书回执) and pledge letter (承诺书) are in."""
    require_edit(actor)
    ensure_visible(actor, household)
    notice, _ = HouseholdNotice.objects.get_or_create(household=household, year=year)
    notice.notice_receipt = bool(notice_receipt)
    notice.pledge_letter = bool(pledge_letter)
    notice.note = (note or "").strip()
    notice.full_clean()
    notice.save()
    return notice


@transaction.atomic
def transfer_request(
    *, actor, id_number: str, to_household: Household, relation: str = Relation.OTHER, note: str = ""
) -> TransferRequest:
    """Ask for a resident registered elsewhere to be moved into one of the actor's households."""
    require_edit(actor)
    ensure_visible(actor, to_household)
    try:
        number = idcard.parse(id_number).number
    except idcard.IdNumberError as exc:
        raise RosterInvalid(household={"id_number": [exc.message]}) from None
    person = Person.objects.select_related("household").filter(id_number=number).first()
    if person is None:
        raise RosterInvalid(household={"id_number": [ERR_TRANSFER_UNKNOWN]})
    if person.household_id == to_household.pk:
        raise RosterInvalid(household={"id_number": [ERR_TRANSFER_SAME]})
    if TransferRequest.objects.filter(person=person, status=TransferStatus.PENDING).exists():
        raise RosterInvalid(household={"id_number": [ERR_TRANSFER_PENDING]})
    transfer = TransferRequest(
        person=person, from_household=person.household, to_household=to_household, relation=relation,
        note=(note or "").strip(), requested_by=actor,
    )
    transfer.full_clean()
    transfer.save()
    return transfer


def transfers_to_decide(user):
    """Pending requests for people who live inside the user's region (the holding side decides)."""
    pending = TransferRequest.objects.filter(status=TransferStatus.PENDING)
    return pending.filter(scope_q(TransferRequest, user, path="from_household__village"))


def transfer_to_decide(user, pk) -> TransferRequest:
    """One pending request the user may decide; 404 for any other (it is scoped by the holding
    side, not by ``visible_to``'s receiving side, so it has its own lookup)."""
    return get_object_or_404(transfers_to_decide(user), pk=pk)


def can_decide(user, transfer: TransferRequest) -> bool:
    if user.is_superuser:
        return True
    if not user.region_id or not user.can("roster.edit"):
        return False
    return region_in_scope(user, transfer.from_household.village)


@transaction.atomic
def transfer_decide(*, actor, transfer: TransferRequest, approve: bool) -> TransferRequest:
    """The holding side approves (the person moves, with this year's unpaid enrollment) or rejects."""
    require_edit(actor)
    transfer = TransferRequest.objects.select_for_update().get(pk=transfer.pk)
    if not can_decide(actor, transfer):
        raise PermissionDenied(ERR_TRANSFER_NOT_HOLDER)
    if transfer.status != TransferStatus.PENDING:
        raise RosterInvalid(non_field=[ERR_TRANSFER_DECIDED])
    if approve:
        person = transfer.person
        person.household = transfer.to_household
        person.relation = transfer.relation if transfer.relation != Relation.HEAD else Relation.OTHER
        person.full_clean()
        person.save()
        # Unpaid enrollments follow the person to the new village; paid ones stay where the money was taken.
        unpaid = Enrollment.objects.filter(person=person, status__in=(EnrollmentStatus.PENDING, EnrollmentStatus.EXCLUDED))
        for enrollment in unpaid.exclude(village=transfer.to_household.village):
            enrollment.village = transfer.to_household.village
            enrollment.save()
        transfer.status = TransferStatus.APPROVED
    else:
        transfer.status = TransferStatus.REJECTED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.save()
    return transfer


@dataclass(frozen=True)
class Leave:
    """One row of a department's list: ``person`` leaves the resident scheme (``reason``: an
    ExclusionReason — deceased, employee insurance, student insured at school, elsewhere; ``on``:
    the date of death, or when they left)."""

    person: Person
    reason: str
    on: date | None = None


LEAVE_CHUNK = 2000  # persons locked and written per round: a list is up to 50,000 rows


def _update_in_groups(objs: list, fields: list[str], *, actor, why: str) -> None:
    """Write ``fields`` of ``objs`` (one model) as one UPDATE per distinct set of values — a
    list's rows share a few (the reason, the date of death) — and their history rows in bulk.
    Django's ``bulk_update`` builds a CASE per row: quadratic on SQLite at 50,000 rows."""
    model = type(objs[0])
    groups: dict[tuple, list[int]] = {}
    for obj in objs:
        groups.setdefault(tuple(getattr(obj, f) for f in fields), []).append(obj.pk)
    for values, pks in groups.items():
        for start in range(0, len(pks), 1000):
            model._default_manager.filter(pk__in=pks[start:start + 1000]).update(**dict(zip(fields, values)))
    model.history.bulk_history_create(objs, batch_size=1000, update=True, default_user=actor, default_change_reason=why)


@transaction.atomic
def persons_leave(*, actor, leaves: list[Leave], year: int, source: str = "") -> int:
    """A department's list says these persons leave the resident scheme for ``year``. A death
    marks the person deceased (``on``, ``source``). The year's enrollment takes the reason, out
    of the should-enrol base — unless money was taken: then it stays as it is, for a refund to
    change (collections_app). Written in bulk with its history (who, when, the list as the
    reason), under the receipt lifecycle's lock order (the persons, then their enrollments), so
    a payment taken meanwhile is seen here and never overwritten. Returns how many enrollments
    changed."""
    changed = 0
    why = source[:100]
    # The scope check by the actor's villages (one query), not a join per person: the same rule
    # as ``visible_to``, which SQLite plans badly for thousands of ids.
    villages = set(Region.objects.visible_to(actor).filter(level=RegionLevel.VILLAGE).values_list("pk", flat=True))
    for start in range(0, len(leaves), LEAVE_CHUNK):
        part = {leave.person.pk: leave for leave in leaves[start:start + LEAVE_CHUNK]}
        locked = dict(Person.objects.select_for_update(of=("self",)).filter(pk__in=list(part)).values_list("pk", "household__village_id"))
        if len(locked) != len(part) or not set(locked.values()) <= villages:
            raise PermissionDenied(ERR_OUT_OF_SCOPE)  # a person outside the actor's region: nothing is written
        died = []
        for leave in part.values():
            if leave.reason == ExclusionReason.DECEASED and not leave.person.is_deceased:
                p = leave.person
                p.is_deceased, p.deceased_on, p.deceased_source = True, leave.on, why
                died.append(p)
        if died:
            _update_in_groups(died, ["is_deceased", "deceased_on", "deceased_source"], actor=actor, why=why)
        current = {e.person_id: e for e in Enrollment.objects.select_for_update().filter(person_id__in=list(part), year=year)}
        new, updated = [], []
        for pk, leave in part.items():
            e = current.get(pk)
            if e is not None and e.status in (*PAID_STATUSES, EnrollmentStatus.REFUNDED):
                continue  # money was taken: only collections and refunds change it
            if e is not None and (e.status, e.exclusion_reason, e.tier) == (EnrollmentStatus.EXCLUDED, leave.reason, 1):
                continue
            if e is None:
                e = Enrollment(person_id=pk, year=year, village_id=leave.person.household.village_id)
                new.append(e)
            else:
                updated.append(e)
            e.status, e.exclusion_reason, e.reason_note, e.tier = EnrollmentStatus.EXCLUDED, leave.reason, "", 1
        if new:
            bulk_create_with_history(new, Enrollment, batch_size=1000, default_user=actor, default_change_reason=why)
        if updated:
            _update_in_groups(updated, ["status", "exclusion_reason", "reason_note", "tier"], actor=actor, why=why)
        changed += len(new) + len(updated)
    return changed


ERR_GUARDIAN_NOT_NEWBORN = "只有出生当年或次年的新生儿可以选择随同参保的监护人。"
ERR_GUARDIAN_NOT_MEMBER = "随同参保的监护人须是本户的成年成员。"
ERR_GUARDIAN_UNPAID = "{name}{year}年度尚未缴费：新生儿只能随已参保缴费的监护人享受待遇。"
ERR_GUARDIAN_FIXED = "{county}规定：新生儿随同参保的监护人一经选择不得变更（已选择{name}）。"


def guardian_candidates(newborn: Person, *, today: date | None = None) -> list[Person]:
    """Who a newborn (born this year or last, living) may follow: the grown-up living members of
    its household (18 or over on its birth day). None for anyone else."""
    today = today or timezone.localdate()
    if newborn.birth_date.year < today.year - 1 or newborn.is_deceased:
        return []
    members = newborn.household.members.exclude(pk=newborn.pk).filter(is_deceased=False).order_by("pk")
    return [m for m in members if rules.age_on(m.birth_date, newborn.birth_date) >= 18]


def guardian_is_fixed(newborn: Person) -> bool:
    """The county's plan for the newborn's birth year fixes the guardian once chosen."""
    try:
        return policy_for(county=newborn.household.village.county, year=newborn.birth_date.year).newborn_guardian_fixed
    except PolicyMissing:
        return False


@transaction.atomic
def guardian_choose(*, actor, newborn: Person, guardian: Person, today: date | None = None) -> Person:
    """The one guardian a newborn not enrolled on its own follows in its birth year: a grown-up
    member of its household who has paid for that year. Where the county's plan says so
    (``PolicyYear.newborn_guardian_fixed``, Shizhu) the choice, once made, is never changed."""
    require_edit(actor)
    ensure_visible(actor, newborn)
    newborn = Person.objects.select_for_update(of=("self",)).select_related("guardian", "household__village").get(pk=newborn.pk)
    year = newborn.birth_date.year
    candidates = guardian_candidates(newborn, today=today)
    if not candidates:
        raise ValidationError({"guardian": ERR_GUARDIAN_NOT_NEWBORN})
    if guardian.pk not in {c.pk for c in candidates}:
        raise ValidationError({"guardian": ERR_GUARDIAN_NOT_MEMBER})
    if newborn.guardian_id == guardian.pk:
        return newborn
    if newborn.guardian_id is not None and guardian_is_fixed(newborn):
        county = newborn.household.village.county
        raise ValidationError({"guardian": ERR_GUARDIAN_FIXED.format(county=county.name, name=newborn.guardian.name)})
    if not Enrollment.objects.filter(person=guardian, year=year, status__in=PAID_STATUSES).exists():
        raise ValidationError({"guardian": ERR_GUARDIAN_UNPAID.format(name=guardian.name, year=year)})
    newborn.guardian = guardian
    newborn.save(update_fields=["guardian", "updated_at"])
    return newborn


def reveal_id(*, actor, person: Person) -> str:
    """The full ID number for a role that needs it; every look is recorded."""
    if not actor.can("id.full"):
        raise PermissionDenied("您的角色只能查看脱敏后的身份证号码。")
    ensure_visible(actor, person)
    audit.record(actor=actor, action=audit.ACTION_VIEW_FULL_ID, obj=person)
    return person.id_number
