"""The sample tax filing (fixtures/sample_tax_filing.xlsx) made from the demo roster: never used
outside a demo.

The demo roster is deterministic: ``enrollment.demo_data.seed_county`` draws every household,
name and ID number from a generator seeded with the county code and the benefit year, so the
same county, year and resident count give the same people on every machine. The sample is made
from that roster, so its rows find real demo residents — a preview of it shows every outcome the
importer has, as the tax office would meet them:

- six payments of residents still to pay (确认入库), in the formats offices write (一档 / 1,
  400 / 400.00 / 400元, dates as text, Excel dates and serial numbers);
- a second payment of one of them with another voucher (重复缴费 → a refund candidate);
- a payment of a wrong amount (金额与应缴不符);
- a payment dated in last year's season (a date that does not fit the benefit year: warned);
- an ID the county's roster does not have, with the township and village named (its township's
  problem list), and one whose 乡镇/参保地 name nothing in the county (the county's list);
- an ID stored as a number (4.11325E+17: digits lost, 无效行).

``python manage.py demo_tax_filing`` rewrites the file; ``tests/integration/test_sample_tax_filing.py``
seeds the demo roster and checks the committed file still previews like this.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl

from core import idcard
from core.models import Region, User
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Person
from subsidies.book import OwedBook
from subsidies.models import PolicyYear

COUNTY = "411325"  # 内乡县, as in `make demo`
RESIDENTS = 3000  # `make demo`'s --residents for the county
YEAR = 2027  # the benefit year of the committed sample (the demo season collected in autumn 2026)
TOWNSHIP = "411325101"  # the demo clerk's township (clerk_neixiang01)
HEADER = ["序号", "姓名", "公民身份号码", "缴费档次", "实缴金额（元）", "缴费日期", "入库日期", "电子税票号", "缴费渠道", "乡镇（街道）", "参保地（村/社区）", "待遇年度"]
NOWHERE = ("外县", "不存在村")  # a 乡镇/参保地 that names nothing in the county
EXPECTED = {"confirmed": 7, "duplicate": 1, "amount_mismatch": 1, "unknown_person": 2, "invalid": 1}  # 7: the late-dated row too


def _candidates(county: Region, year: int) -> list[Enrollment]:
    """Residents of the demo township still to pay, not students, with no subsidy identity, outside
    the demo collector's village (whose cash the demo takes): the same ones on every machine."""
    collector = User.objects.filter(username="collector_neixiang01").select_related("region").first()
    skip = collector.region_id if collector and collector.region_id else None
    qs = (
        Enrollment.objects.filter(
            year=year, status=EnrollmentStatus.PENDING, tier=1, village__parent__code=TOWNSHIP,
            person__is_student=False, person__is_deceased=False, person__identities__isnull=True,
        )
        .exclude(village_id=skip)
        .select_related("person", "village__parent")
        .order_by("person__id_number")
    )
    return list(qs[:9])


def _unknown_id(county: Region, born: date) -> str:
    taken = set(Person.objects.filter(id_number__startswith=county.code).values_list("id_number", flat=True))
    for seq in range(999, 0, -2):
        number = idcard.make(county.code, born, seq)
        if number not in taken:
            return number
    raise RuntimeError("no free synthetic ID number")


def sample_rows(*, county_code: str = COUNTY, year: int = YEAR) -> tuple[list, list]:
    """(title rows, data rows) of the sample for the demo roster in the database."""
    county = Region.objects.get(code=county_code)
    policy = PolicyYear.objects.get(county=county, year=year)
    book = OwedBook(county)
    picked = _candidates(county, year)
    if len(picked) < 9:
        raise LookupError(f"演示花名册中{TOWNSHIP}待缴费的人不足 9 人：先运行 make demo（{RESIDENTS} 名参保人）。")
    start = policy.window_start

    def owed(e, day):
        return book.owed(year, 1, False, e.person.birth_date, day, []).self_pay

    def voucher(day, n):
        return f"3411325{day:%y%m%d}{n:05d}"

    rows = []

    def add(_person, name, number, tier, amount, paid, treasury, n, channel, township, place):
        rows.append([len(rows) + 1, name, number, tier, amount, paid, treasury, voucher(start, n), channel, township, place, year])

    p = picked
    d = [start + timedelta(days=k) for k in (20, 20, 21, 24, 25, 28, 30)]
    where = [(e.village.parent.name, e.village.name) for e in p]
    add(p[0], p[0].person.name, p[0].person.id_number, "一档", owed(p[0], d[0]), f"{d[0]:%Y-%m-%d}", datetime.combine(d[0] + timedelta(days=1), datetime.min.time()), 1, "微信", *where[0])
    add(p[1], p[1].person.name, p[1].person.id_number, 1, f"{owed(p[1], d[1]):.2f}", f"{d[1].year}/{d[1].month}/{d[1].day}", _serial(d[1] + timedelta(days=1)), 2, "现金（村协办员代收）", *where[1])
    n = p[2].person.id_number
    add(p[2], p[2].person.name, f"{n[:6]} {n[6:]}", "1", f"{owed(p[2], d[2]):.0f}元", f"{d[2].year}年{d[2].month}月{d[2].day}日", f"{d[2] + timedelta(days=1):%Y年%m月%d日}", 3, "支付宝", *where[2])
    add(p[3], p[3].person.name, p[3].person.id_number, 1, owed(p[3], d[3]), f"{d[3]:%Y-%m-%d}", f"{d[3] + timedelta(days=1):%Y-%m-%d}", 4, "电子税务局", *where[3])
    add(p[4], p[4].person.name, p[4].person.id_number, 1, owed(p[4], d[4]), f"{d[4]:%Y-%m-%d}", f"{d[4]:%Y-%m-%d}", 5, "手机APP", *where[4])
    add(p[5], p[5].person.name, p[5].person.id_number, 1, owed(p[5], d[5]), f"{d[5]:%Y%m%d}", f"{d[5]:%Y%m%d}", 6, "微信", *where[5])
    # The first resident again, another voucher: paid twice (a refund candidate).
    add(p[0], p[0].person.name, p[0].person.id_number, 1, owed(p[0], d[6]), f"{d[6]:%Y-%m-%d}", f"{d[6]:%Y-%m-%d}", 7, "支付宝", *where[0])
    # A wrong amount.
    add(p[6], p[6].person.name, p[6].person.id_number, 1, owed(p[6], d[6]) - Decimal("20"), f"{d[6]:%Y-%m-%d}", f"{d[6]:%Y-%m-%d}", 8, "微信", *where[6])
    # Dated in last year's season: decided as usual, and warned (the file may belong to another year).
    late = start.replace(year=start.year - 1) + timedelta(days=35)
    add(p[7], p[7].person.name, p[7].person.id_number, 1, owed(p[7], late), f"{late:%Y-%m-%d}", f"{late:%Y-%m-%d}", 9, "微信", *where[7])
    # Not on the roster: one with its township and village, one naming nothing in the county.
    add(None, "周建华", _unknown_id(county, date(1988, 3, 14)), 1, owed(p[8], d[6]), f"{d[6]:%Y-%m-%d}", f"{d[6]:%Y-%m-%d}", 10, "微信", *where[8])
    add(None, "吴春梅", _unknown_id(county, date(1992, 7, 9)), 1, owed(p[8], d[6]), f"{d[6]:%Y-%m-%d}", f"{d[6]:%Y-%m-%d}", 11, "微信", *NOWHERE)
    # An ID stored as a number: its last digits are lost.
    add(None, p[8].person.name, float(p[8].person.id_number), 1, owed(p[8], d[6]), f"{d[6]:%Y-%m-%d}", f"{d[6]:%Y-%m-%d}", 12, "微信", *where[8])
    titles = [
        [f"{county.name}城乡居民基本医疗保险费缴费明细（{year}年度）"],
        [f"征收机关：国家税务总局{county.name}税务局（演示数据：人员取自演示花名册，身份证号码为虚构）", None, None, None, None, None, None, None, f"导出日期：{d[6]:%Y年%m月%d日}"],
    ]
    return titles, rows


def _serial(day: date) -> int:
    """An Excel date serial number (as some exports leave dates)."""
    return (day - date(1899, 12, 30)).days


def write_sample(path, *, county_code: str = COUNTY, year: int = YEAR) -> int:
    """Write the sample to ``path``; the number of data rows."""
    titles, rows = sample_rows(county_code=county_code, year=year)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "缴费明细"
    for t in titles:
        ws.append(t)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append(["合计", None, None, None, sum(Decimal(str(r[4]).rstrip("元")) for r in rows)])
    for col, width in zip("ABCDEFGHIJKL", (6, 10, 22, 8, 14, 14, 14, 22, 20, 12, 14, 10), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=4, max_row=3 + len(rows), min_col=3, max_col=3):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    wb.properties.creator = "canbao demo"
    wb.properties.created = wb.properties.modified = datetime(2026, 12, 7)
    wb.save(path)
    return len(rows)
