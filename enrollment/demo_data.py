"""Synthetic demo data for one county: households, residents, enrollments, subsidy identities.

Everything here is made up. ID numbers are built with ``idcard.make`` from the county's own
6-digit code, a random birth date and a random sequence, so they are valid in form but are not
taken from any real person. Names are drawn from common surnames and given-name characters.

Speed matters (a county of 600,000 residents must seed in well under two minutes): rows are
generated as plain tuples, then written in chunks with ``bulk_create``; there is no per-row
``save()`` or ``full_clean()``. ``tests/integration/test_seed_demo.py`` runs ``full_clean()`` on a
sample to prove the rows are valid anyway.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from core import idcard
from core.audit import ACTION_IMPORT, record
from core.choices import RegionLevel
from core.models import Region, RegionQuota
from subsidies.book import HeldIdentity, OwedBook
from subsidies.models import PolicyYear

from .choices import EnrollmentStatus, ExclusionReason, Relation, Sex
from .models import Enrollment, Household, Person, PersonIdentity

ERR_NOT_A_COUNTY = "“{code}”不是已载入的县/区代码（先运行 load_localities）。"

# --- Names ---------------------------------------------------------------------------------
# Common surnames, roughly by frequency (the first ones repeated to weight them).
SURNAMES = (
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨赵赵黄黄周周吴吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成志海东晨博文德春立新建军红卫永兴宏福贵祥"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲桂英华红梅兰凤琴云莉萍燕颖婷雪慧倩琳晶月玉珍翠荣爱丹洁佳欣悦蓉琪萱怡璐淑贞巧美"

CHINESE_DIGITS = "零一二三四五六七八九"

DEMO_VILLAGES_DEFAULT = 8
DEMO_VILLAGES_MIN, DEMO_VILLAGES_MAX = 5, 15
PERSONS_PER_DEMO_VILLAGE = 1500  # villages made for a township with a should-enrol figure

HOUSEHOLD_SIZE_WEIGHTS = (12, 22, 20, 20, 14, 8, 4)  # sizes 1..7

# Exclusion reasons other than death and students insured at school, with their weights.
EXCLUSIONS_WORKING_AGE = (
    (ExclusionReason.EMPLOYEE_INSURANCE, 80),
    (ExclusionReason.ENROLLED_ELSEWHERE, 14),
    (ExclusionReason.MILITARY, 1),
    (ExclusionReason.PRISON, 1),
    (ExclusionReason.REFUSED, 2),
    (ExclusionReason.OTHER, 2),
)
REFUSAL_NOTES = ("认为身体好，不需要参保", "对缴费标准上涨有意见", "家庭经济困难，暂不缴纳", "已购买商业保险")
OTHER_NOTES = ("长期在外务工，联系不上", "户口待迁出", "重复登记待核实")
DECEASED_SOURCE = "民政部门火化信息"

CHUNK_PERSONS = 25_000
BATCH_SIZE = 2_000


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (for demo village names)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_DIGITS[tens]
    return head + "十" + (CHINESE_DIGITS[ones] if ones else "")


def demo_village_name(i: int) -> str:
    return f"演示{chinese_number(i)}村"


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if not weights:
        return []
    s = sum(weights)
    if s <= 0:
        weights, s = [1.0] * len(weights), float(len(weights))
    exact = [total * w / s for w in weights]
    counts = [math.floor(x) for x in exact]
    rest = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[:rest]:
        counts[i] += 1
    return counts


def collection_window(year: int, policy=None) -> tuple[date, date]:
    """The collection window of a benefit year: the policy's, else 1 Sept – 31 Dec of year − 1."""
    if policy is not None:
        return policy.window_start, policy.window_end
    return date(year - 1, 9, 1), date(year - 1, 12, 31)


# --- Regions ------------------------------------------------------------------------------
def ensure_demo_villages(county: Region) -> list[Region]:
    """Give every township of ``county`` that has no village a few clearly labelled demo villages."""
    created = []
    for town in Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP).order_by("sort_order", "code"):
        if Region.objects.filter(parent=town, level=RegionLevel.VILLAGE).exists():
            continue
        quota = _quota_task(town)
        n = DEMO_VILLAGES_DEFAULT
        if quota:
            n = max(DEMO_VILLAGES_MIN, min(DEMO_VILLAGES_MAX, round(quota / PERSONS_PER_DEMO_VILLAGE)))
        for i in range(1, n + 1):
            code = f"{town.code}{i:03d}"
            village, made = Region.objects.get_or_create(
                code=code,
                defaults={
                    "level": RegionLevel.VILLAGE,
                    "name": demo_village_name(i),
                    "parent": town,
                    "sort_order": i,
                    "is_demo": True,
                },
            )
            if made:
                created.append(village)
    return created


def _quota_task(region, year: int | None = None):
    quotas = RegionQuota.objects.filter(region=region)
    if year is not None and quotas.filter(year=year).exists():
        quotas = quotas.filter(year=year)
    quota = quotas.order_by("-year").first()
    return quota.task if quota else None


def village_weights(county: Region, year: int) -> list[tuple[Region, float]]:
    """Each village of the county with its share: its own quota, else its township's quota split
    evenly over the township's villages, else the average of the known shares (or 1)."""
    villages = list(
        Region.objects.filter(parent__parent=county, level=RegionLevel.VILLAGE)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )
    per_town = defaultdict(int)
    for v in villages:
        per_town[v.parent_id] += 1
    quotas = {}
    for q in RegionQuota.objects.filter(region__in=[v.pk for v in villages] + list(per_town)).order_by("year"):
        if q.year <= year or q.region_id not in quotas:
            quotas[q.region_id] = q.task  # the benefit year's, else the latest before it
    weights = []
    for v in villages:
        w = quotas.get(v.pk)
        if not w and quotas.get(v.parent_id):
            w = quotas[v.parent_id] / per_town[v.parent_id]
        weights.append(w or None)
    known = [w for w in weights if w]
    fill = sum(known) / len(known) if known else 1.0
    return [(v, float(w) if w else fill) for v, w in zip(villages, weights, strict=True)]


# Students their school enrols (every plan has schools collect from their pupils): the share the
# demo gives, the same in every county (it is a demonstration, not a county's rule).
SCHOOL_INSURED_SHARE = 0.1


# --- Policy ---------------------------------------------------------------------------------
@dataclass
class PolicyView:
    """What the generator needs from a PolicyYear, loaded once; amounts come from the one book."""

    policy: PolicyYear | None
    window_start: date
    window_end: date
    tiers: list  # tier numbers ([] without a policy: nobody can pay)
    categories: list  # SubsidyCategory rows a person may be certified for (not applies_to_all)
    category_weights: list
    book: OwedBook

    def owed(self, tier: int, student: bool, identities: tuple, birth_date: date, paid_on: date):
        """(standard, subsidy, self_pay, category code) as every page computes it."""
        held = [HeldIdentity(0, self._cat_by_id[cat_id], self.policy.year, certified_on) for cat_id, certified_on in identities]
        result = self.book.owed(self.policy.year, tier, student, birth_date, paid_on, held)
        return result.standard, result.subsidy, result.self_pay, result.category.code if result.category else ""

    def __post_init__(self):
        self._cat_by_id = {c.pk: c for c in self.categories}


def load_policy(county: Region, year: int) -> PolicyView:
    book = OwedBook(county)
    policy = book.policy(year)
    start, end = collection_window(year, policy)
    if policy is None:
        return PolicyView(None, start, end, [], [], [], book)
    personal = list(policy.categories.filter(applies_to_all=False).order_by("sort_order", "code"))
    weights = [1.0 / (1 + i * 0.3) for i in range(len(personal))]
    return PolicyView(policy, start, end, sorted(t.number for t in policy.tiers.all()), personal, weights, book)


# --- People -------------------------------------------------------------------------------
@dataclass
class Member:
    relation: str
    sex: str
    age: int
    surname: str


def _household_members(rng: random.Random, size: int) -> list[Member]:
    head_male = rng.random() < 0.8
    head_sex = Sex.MALE if head_male else Sex.FEMALE
    other = Sex.FEMALE if head_male else Sex.MALE
    if size == 1:
        head_age = rng.choice((rng.randint(22, 45), rng.randint(55, 88), rng.randint(60, 90)))
    else:
        head_age = rng.randint(28, 72)
    family = rng.choice(SURNAMES)
    members = [Member(Relation.HEAD, head_sex, head_age, family)]
    spouse_surname = rng.choice(SURNAMES)
    child_surname = family if head_male else spouse_surname
    slots = size - 1
    if slots and rng.random() < 0.9:
        members.append(Member(Relation.SPOUSE, other, max(20, head_age + rng.randint(-5, 3)), spouse_surname))
        slots -= 1
    # Parents when the head is young enough to have living parents.
    n_parents = 0
    if slots >= 3 or (slots and rng.random() < 0.25):
        n_parents = min(2 if slots >= 4 else 1, slots)
    children = []
    while slots - n_parents > 0:
        age = head_age - rng.randint(22, 34) - 2 * len(children)
        if age < 0 or len(children) >= 3:
            break
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        children.append(Member(Relation.CHILD, sex, age, child_surname))
        slots -= 1
    members.extend(children)
    # An adult child may bring a spouse and children (three generations).
    adults = [c for c in children if c.age >= 22]
    if adults and slots - n_parents > 0:
        c = adults[0]
        members.append(
            Member(Relation.CHILD_IN_LAW, Sex.FEMALE if c.sex == Sex.MALE else Sex.MALE, c.age + rng.randint(-3, 3), rng.choice(SURNAMES))
        )
        slots -= 1
        g = 0
        while slots - n_parents > 0 and g < 3:
            age = c.age - rng.randint(20, 30) - 2 * g
            if age < 0:
                break
            members.append(Member(Relation.GRANDCHILD, rng.choice((Sex.MALE, Sex.FEMALE)), age, c.surname if c.sex == Sex.MALE else rng.choice(SURNAMES)))
            slots -= 1
            g += 1
    for i in range(n_parents):
        age = head_age + rng.randint(22, 32)
        if age > 98:
            break
        members.append(Member(Relation.PARENT, Sex.MALE if i == 0 else Sex.FEMALE, age, family if i == 0 else rng.choice(SURNAMES)))
        slots -= 1
    while slots > 0:  # fill the remaining places with siblings of the head
        members.append(Member(Relation.SIBLING, rng.choice((Sex.MALE, Sex.FEMALE)), max(0, head_age + rng.randint(-8, 8)), family))
        slots -= 1
    return members


def _name(rng: random.Random, surname: str, sex: str) -> str:
    chars = MALE_CHARS if sex == Sex.MALE else FEMALE_CHARS
    given = rng.choice(chars) if rng.random() < 0.3 else rng.choice(chars) + rng.choice(chars)
    return surname + given


class IdMaker:
    """Unique synthetic ID numbers for one area code, never repeating one already stored."""

    def __init__(self, area: str, existing: set[str], today: date):
        self.area = area
        self.used = existing
        self.today = today

    def make(self, rng: random.Random, born: date, sex: str) -> tuple[str, date]:
        born = min(born, self.today)
        for attempt in range(200):
            seq = rng.randrange(0, 500) * 2 + (1 if sex == Sex.MALE else 0)
            number = idcard.make(self.area, born, seq)
            if number not in self.used:
                self.used.add(number)
                return number, born
            if attempt % 20 == 19:  # that day is crowded: move a day
                born = born - timedelta(days=1)
        raise RuntimeError("could not find a free synthetic ID number")


# --- Fast writing ---------------------------------------------------------------------------
class FastWriter:
    """Insert many rows of one model without building model instances.

    Primary keys are reserved up front (PostgreSQL: from the table's sequence; SQLite: above
    the highest id ever used, inside the write transaction) so that child rows can point at
    parents without reading anything back. PostgreSQL rows go through COPY, SQLite rows through
    ``executemany``; any other database falls back to ``bulk_create``. Columns a row does not set
    take the field's default, so a field added later with a default needs no change here.
    """

    def __init__(self, model, now):
        from django.db import connection

        self.model, self.connection = model, connection
        self.vendor = connection.vendor
        self.fields = [f for f in model._meta.concrete_fields]
        self.table = model._meta.db_table
        self.defaults = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()  # "" for text fields without a default, None when nullable
            self.defaults[f.attname] = value if self.vendor == "postgresql" else f.get_db_prep_save(value, connection)
        self.attnames = [f.attname for f in self.fields]
        self._next_sqlite_id = None

    def reserve_ids(self, n: int) -> list[int]:
        if n <= 0:
            return []
        with self.connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [self.table, n])
                return [row[0] for row in cur.fetchall()]
            if self.vendor == "sqlite":
                if self._next_sqlite_id is None:
                    cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')
                    top = cur.fetchone()[0]
                    cur.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [self.table])
                    self._next_sqlite_id = max(top, cur.fetchone()[0]) + 1
                first = self._next_sqlite_id
                self._next_sqlite_id += n
                return list(range(first, first + n))
        return [None] * n  # other databases: bulk_create assigns them

    def insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        names, defaults = self.attnames, self.defaults
        if self.vendor not in ("postgresql", "sqlite"):
            self.model.objects.bulk_create([self.model(**{**defaults, **r}) for r in rows], batch_size=BATCH_SIZE)
            return
        columns = ", ".join(f'"{f.column}"' for f in self.fields)
        if self.vendor == "sqlite":
            tuples = [tuple(r[n] if n in r else defaults[n] for n in names) for r in rows]
            placeholders = ", ".join(["?"] * len(names))
            raw = self.connection.connection  # the write lock is already held by this transaction
            raw.executemany(f'INSERT INTO "{self.table}" ({columns}) VALUES ({placeholders})', tuples)
            return
        with self.connection.cursor() as cur:
            with cur.cursor.copy(f'COPY "{self.table}" ({columns}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row([r[n] if n in r else defaults[n] for n in names])


# --- The generator ----------------------------------------------------------------------------
@dataclass
class SeedResult:
    county: str
    year: int
    villages_created: int = 0
    households: int = 0
    persons: int = 0
    enrollments: int = 0
    identities: int = 0
    by_status: dict = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.households + self.persons + self.enrollments + self.identities


def county_has_persons(county: Region) -> bool:
    return Person.objects.filter(household__village__parent__parent=county).exists()


def get_county(code: str) -> Region:
    county = Region.objects.filter(code=code, level=RegionLevel.COUNTY).first()
    if county is None:
        raise LookupError(ERR_NOT_A_COUNTY.format(code=code))
    return county


def seed_county(*, county: Region, residents: int, year: int = 2025, seed: int | None = None, progress=None) -> SeedResult:
    """Fill ``county`` with ``residents`` synthetic residents for benefit ``year``. All or nothing."""

    started = time.perf_counter()
    rng = random.Random(seed if seed is not None else f"{county.code}/{year}")
    result = SeedResult(county=county.code, year=year)
    with transaction.atomic():
        # Written first: on SQLite this takes the write lock before ids are reserved.
        event = record(actor=None, action=ACTION_IMPORT, obj=county, detail={"source": "seed_demo", "year": year})
        result.villages_created = len(ensure_demo_villages(county))
        if residents > 0:
            _Generator(county=county, year=year, rng=rng, result=result, progress=progress).run(residents)
        event.detail = {
            "source": "seed_demo",
            "year": year,
            "households": result.households,
            "persons": result.persons,
            "identities": result.identities,
        }
        event.save(update_fields=["detail"])
    result.seconds = time.perf_counter() - started
    return result


class _Generator:
    def __init__(self, *, county, year, rng, result, progress):
        self.county, self.year, self.rng, self.result, self.progress = county, year, rng, result, progress
        self.policy = load_policy(county, year)
        self.start, self.end = self.policy.window_start, self.policy.window_end
        self.today = timezone.localdate()
        # The season as far as it has gone: a past season is complete, a running one stops today.
        self.as_of = max(self.start, min(self.end, self.today))
        self.window_days = max(1, (self.as_of - self.start).days)
        self.reference = self.start  # ages are counted at the start of the collection window
        existing = set(Person.objects.filter(id_number__startswith=county.code).values_list("id_number", flat=True))
        self.ids = IdMaker(county.code, existing, self.today)
        self.tiers = sorted(self.policy.tiers)
        self.voucher_seq = 0

        now = timezone.now()
        self.w_household = FastWriter(Household, now)
        self.w_person = FastWriter(Person, now)
        self.w_enrollment = FastWriter(Enrollment, now)
        self.w_identity = FastWriter(PersonIdentity, now)

    # One village's character: how far its collection has come, and how late it pays.
    def _village_profile(self, lagging: bool, town_factor: float):
        if lagging:
            return {"pay": self.rng.uniform(0.45, 0.68), "beta": (3.2, 1.4)}
        return {"pay": min(0.985, self.rng.uniform(0.82, 0.97) * town_factor), "beta": (1.8, 2.2)}

    def run(self, residents: int):
        rng = self.rng
        weighted = village_weights(self.county, self.year)
        if not weighted:
            return
        counts = allocate(residents, [w for _, w in weighted])
        town_factor = {}
        for v, _ in weighted:
            if v.parent_id not in town_factor:
                town_factor[v.parent_id] = rng.uniform(0.93, 1.03)
        n_lagging = max(1, round(len(weighted) * 0.15)) if len(weighted) >= 3 else 0
        lagging = set(rng.sample(range(len(weighted)), n_lagging))
        existing_numbers = defaultdict(set)
        for vid, number in Household.objects.filter(village__parent__parent=self.county).values_list("village_id", "number"):
            existing_numbers[vid].add(number)

        buffer = []  # (village, profile, household number, address, place, [members])
        buffered = 0
        for idx, ((village, _), count) in enumerate(zip(weighted, counts, strict=True)):
            if count <= 0:
                continue
            profile = self._village_profile(idx in lagging, town_factor[village.parent_id])
            place = f"{self.county.name}{village.parent.name}{village.name}"
            left, number = count, 0
            while left > 0:
                size = min(left, rng.choices(range(1, 8), HOUSEHOLD_SIZE_WEIGHTS)[0])
                members = _household_members(rng, size)[:left]
                number += 1
                while f"{number:05d}" in existing_numbers[village.pk]:
                    number += 1
                hh_number = f"{number:05d}"
                address = f"{village.name}{1 + number // 40}组{number % 40 + 1}号"
                buffer.append((village, profile, hh_number, address, place, members))
                left -= len(members)
                buffered += len(members)
                if buffered >= CHUNK_PERSONS:
                    self._flush(buffer)
                    buffer, buffered = [], 0
        if buffer:
            self._flush(buffer)

    def _birth(self, age: int) -> date:
        start = date(self.reference.year - age - 1, self.reference.month, 1) + timedelta(days=1)
        return start + timedelta(days=self.rng.randrange(0, 365))

    def _flush(self, buffer):
        rng = self.rng
        hh_ids = self.w_household.reserve_ids(len(buffer))
        households = [
            {"id": hid, "village_id": village.pk, "number": number, "address": address}
            for hid, (village, _, number, address, _, _) in zip(hh_ids, buffer, strict=True)
        ]
        self.w_household.insert(households)
        if hh_ids and hh_ids[0] is None:  # bulk_create fallback: read the ids back
            lookup = dict(Household.objects.filter(number__in=[h["number"] for h in households]).values_list("village_id", "number", "id"))
            hh_ids = [lookup.get((h["village_id"], h["number"])) for h in households]
        n_persons = sum(len(b[5]) for b in buffer)
        person_ids = iter(self.w_person.reserve_ids(n_persons))
        persons, plans = [], []
        for hid, (village, profile, _, _, place, members) in zip(hh_ids, buffer, strict=True):
            for m in members:
                number, born = self.ids.make(rng, self._birth(m.age), m.sex)
                age = m.age
                deceased = rng.random() < (0.035 if age >= 75 else 0.012 if age >= 60 else 0.0008)
                deceased_on = None
                if deceased:
                    deceased_on = max(born, self.start - timedelta(days=rng.randrange(1, 300)))
                student = 18 <= age <= 22 and rng.random() < 0.4
                persons.append(
                    {
                        "id": next(person_ids),
                        "id_number": number,
                        "name": _name(rng, m.surname, m.sex),
                        "sex": m.sex,
                        "birth_date": born,
                        "household_id": hid,
                        "relation": m.relation,
                        "hukou_place": place,
                        "is_student": student,
                        "is_deceased": deceased,
                        "deceased_on": deceased_on,
                        "deceased_source": DECEASED_SOURCE if deceased else "",
                    }
                )
                plans.append((village, profile, age))
        self.w_person.insert(persons)
        self.result.households += len(households)
        self.result.persons += len(persons)

        identities = self._identities(persons)
        enrollments = [
            self._enrollment(p, village, profile, age, identities.get(p["id"], ()))
            for p, (village, profile, age) in zip(persons, plans, strict=True)
        ]
        for eid, e in zip(self.w_enrollment.reserve_ids(len(enrollments)), enrollments, strict=True):
            e["id"] = eid
        self.w_enrollment.insert(enrollments)
        self.result.enrollments += len(enrollments)
        if self.progress:
            self.progress(self.result)

    def _identities(self, persons) -> dict:
        """A few % of living residents hold a certified subsidy identity (sometimes two)."""
        pv = self.policy
        if pv.policy is None or not pv.categories:
            return {}
        rng = self.rng
        rows, by_person = [], {}
        for p in persons:
            if p["is_deceased"] or rng.random() >= 0.045:
                continue
            cats = {c.pk: c for c in rng.choices(pv.categories, pv.category_weights, k=1 if rng.random() < 0.85 else 2)}
            held = []
            for cat in cats.values():
                r = rng.random()
                if r < 0.75:  # certified before the window opened
                    certified = self.start - timedelta(days=rng.randrange(1, 240))
                elif r < 0.95:  # during the window: subsidised all the same
                    certified = self.start + timedelta(days=rng.randrange(0, (self.end - self.start).days + 1))
                else:  # after the window: counts from next year
                    certified = self.end + timedelta(days=rng.randrange(1, 60))
                held.append((cat.pk, certified))
                source = cat.get_department_display() or cat.department_label or "认定名单"
                rows.append(
                    {"person_id": p["id"], "category_id": cat.pk, "year": self.year, "certified_on": certified, "source_list": f"演示数据·{source}"}
                )
            by_person[p["id"]] = tuple(sorted(held))
        for iid, row in zip(self.w_identity.reserve_ids(len(rows)), rows, strict=True):
            row["id"] = iid
        self.w_identity.insert(rows)
        self.result.identities += len(rows)
        return by_person

    def _enrollment(self, person, village, profile, age, identities) -> dict:
        rng = self.rng
        e = {"person_id": person["id"], "year": self.year, "village_id": village.pk, "tier": self.tiers[0] if self.tiers else 1, "status": EnrollmentStatus.PENDING}
        reason = None
        if person["is_deceased"]:
            reason = ExclusionReason.DECEASED
        elif person["is_student"] and rng.random() < SCHOOL_INSURED_SHARE:
            reason = ExclusionReason.STUDENT_AT_SCHOOL
        elif (18 <= age < 60 and rng.random() < 0.12) or (age >= 60 and rng.random() < 0.05):
            reason = rng.choices([r for r, _ in EXCLUSIONS_WORKING_AGE], [w for _, w in EXCLUSIONS_WORKING_AGE])[0]
        if reason is not None:
            e["status"] = EnrollmentStatus.EXCLUDED
            e["exclusion_reason"] = reason
            if reason == ExclusionReason.REFUSED:
                e["reason_note"] = rng.choice(REFUSAL_NOTES)
            elif reason == ExclusionReason.OTHER:
                e["reason_note"] = rng.choice(OTHER_NOTES)
            self.result.by_status[e["status"]] += 1
            return e
        if len(self.tiers) > 1 and rng.random() < 0.15:
            e["tier"] = self.tiers[-1]
        pay_probability = 0.985 if identities else profile["pay"]
        if not self.tiers or rng.random() >= pay_probability:  # no policy of the year: nobody can pay yet
            self.result.by_status[e["status"]] += 1
            return e  # pending
        a, b = profile["beta"]
        paid_on = self.start + timedelta(days=min(self.window_days, int(rng.betavariate(a, b) * (self.window_days + 1))))
        e["paid_on"] = paid_on
        e["standard"], e["subsidy"], e["amount_due"], e["subsidy_category_code"] = self.policy.owed(
            e["tier"], person["is_student"], identities, person["birth_date"], paid_on
        )
        e["benefit_start"] = date(self.year, 1, 1)
        declared = paid_on + timedelta(days=rng.randint(1, 12))
        confirmed = declared + timedelta(days=rng.randint(1, 6))
        if declared > self.as_of:
            e["status"] = EnrollmentStatus.PAID
        elif confirmed > self.as_of:
            e["status"], e["declared_on"] = EnrollmentStatus.DECLARED, declared
        else:
            e["status"], e["declared_on"], e["confirmed_on"] = EnrollmentStatus.CONFIRMED, declared, confirmed
            self.voucher_seq += 1
            e["tax_voucher"] = f"DEMO{self.county.code}{confirmed:%Y%m%d}{self.voucher_seq:07d}"
        self.result.by_status[e["status"]] += 1
        return e
