"""Publicity (公示) has two kinds, set by each county's plan and read from the seed policies:

* Neixiang (411325) posts the tax office's list of everyone who paid, by any channel, for at
  least 5 working days after the window (seed 000: "将税务部门反馈的已缴费人员清册，在村张榜公示，
  公示期不得低于5个工作日");
* Shizhu (500240) posts cash payers, in full within one month after the window, then every quarter
  (seed 003: "对于现金缴费人员的缴费信息应按季公示……集中征收期结束后一个月以内，应进行一次现金征缴情况全面公示").
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.models import PublicityPosting
from collections_app.publicity import selectors, services
from collections_app.tax_import import services as tax_services
from core.choices import Role
from core.models import Region
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from subsidies import services as policy_services
from subsidies.models import CalendarDay, PolicyYear
from subsidies.postings import MSG_FULL_LATE, MSG_FULL_MISSING, MSG_NEXT_DUE, MSG_NEXT_OVERDUE, MSG_PAYERS_UNSET
from subsidies.workdays import WARN_NO_SCHEDULE, library_knows
from tests.factories import (
    EnrollmentFactory,
    HouseholdFactory,
    PersonFactory,
    TownshipFactory,
    UserFactory,
    VillageFactory,
)
from tests.factories.collections import benefit_year, household_with, make_policy, pay
from tests.factories.subsidies import load_seed_policies
from tests.unit.collections.tax_import_files import workbook_bytes

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def photo():
    return SimpleUploadedFile("p.png", PNG, content_type="image/png")


@pytest.fixture
def seed(db):
    load_seed_policies()
    w = {}
    for key, code, town, village in (("nx", "411325", "赵店乡", "赵店村"), ("sz", "500240", "下路街道", "月亮坪社区")):
        county = Region.objects.get(code=code)
        t = TownshipFactory(parent=county, name=town)
        w[key] = county
        w[f"{key}_town"] = t
        w[f"{key}_village"] = VillageFactory(parent=t, name=village)
        w[f"{key}_village2"] = VillageFactory(parent=t, name=f"{village}二组")
        w[f"{key}_collector"] = UserFactory(username=f"{key}_collector", role=Role.COLLECTOR, region=w[f"{key}_village"])
        w[f"{key}_clerk"] = UserFactory(username=f"{key}_clerk", role=Role.TOWNSHIP, region=t)
        w[f"{key}_tax"] = UserFactory(username=f"{key}_tax", role=Role.TAX, region=county)
        w[f"{key}_bureau"] = UserFactory(username=f"{key}_bureau", role=Role.BUREAU, region=county)
    return w


def residents(village, n, per_household=4):
    people = []
    for i in range(n):
        if i % per_household == 0:
            hh = HouseholdFactory(village=village)
        people.append(PersonFactory(household=hh))
    return people


def file_with_the_tax_office(tax_user, county, village, people, *, year):
    """The tax office's filing: each resident paid 400 yuan online; applied as the tax user."""
    rows = [[i, p.name, p.id_number, 1, 400, f"{year - 1}-10-05", f"V{i:04d}", "微信", village.name] for i, p in enumerate(people, 1)]
    ti = tax_services.tax_import_create(actor=tax_user, county=county, upload=io.BytesIO(workbook_bytes(rows)), name="缴费明细.xlsx", year=year)
    tax_services.tax_import_preview(tax_import=ti)
    summary = tax_services.tax_import_apply(actor=tax_user, tax_import=ti)
    assert summary["confirmed"] == len(people)


# --- Neixiang: everyone the tax office confirmed --------------------------------------------------


def test_neixiang_posts_everyone_the_tax_office_confirmed(client, seed):
    village = seed["nx_village"]
    people = residents(village, 20)
    file_with_the_tax_office(seed["nx_tax"], seed["nx"], village, people, year=2025)
    assert Enrollment.objects.filter(village=village, year=2025, status=EnrollmentStatus.CONFIRMED).count() == 20

    rows = selectors.publicity_rows(village=village, year=2025)
    assert [(r["name"], r["last4"], r["tier"], r["amount"]) for r in rows] == [(p.name, p.id_number[-4:], 1, Decimal("400.00")) for p in people]

    client.force_login(seed["nx_collector"])
    printed = client.get(reverse("collections:publicity_print", args=[village.pk]), {"year": 2025}).content.decode()
    assert "赵店乡赵店村2025年度城乡居民医疗保险已缴费人员公示" in printed and "税务部门反馈的已缴费人员清册" in printed
    assert "合计 20 人" in printed and "8000.00" in printed and "合计 0 人" not in printed
    assert "公示期不少于5个工作日" in printed
    assert all(p.name in printed and p.id_number[-4:] in printed for p in people)
    assert not any(p.id_number in printed or p.id_number[:14] in printed for p in people), "only the last 4 digits are posted"

    listing = client.get(reverse("collections:publicity_list"), {"year": 2025}).content.decode()
    assert "全部已缴费人员" in listing and "公示全部已缴费人员（税务反馈清册），不少于5个工作日" in listing
    (standing,) = [r for r in selectors.publicity_overview(user=seed["nx_collector"], year=2025, today=date(2025, 1, 6))["rows"]]
    assert (standing.payers, standing.count, standing.state.flagged) == ("all", 20, False)


def test_neixiang_posting_across_the_spring_festival_counts_4_working_days_not_10(seed):
    """Monday 27 January to Friday 7 February 2025: ten weekdays, but 28 January – 4 February is
    the Spring Festival holiday: 27 January, 5, 6, 7 February are the 4 working days."""
    village = seed["nx_village"]
    file_with_the_tax_office(seed["nx_tax"], seed["nx"], village, residents(village, 3), year=2025)
    with pytest.raises(ValidationError, match="至少5个工作日，现为4个工作日"):
        services.publicity_record(actor=seed["nx_collector"], village=village, year=2025,
                                  posted_from=date(2025, 1, 27), posted_until=date(2025, 2, 7), photo=photo())
    # Saturday 8 February 2025 is a make-up workday: the fifth.
    p = services.publicity_record(actor=seed["nx_collector"], village=village, year=2025,
                                  posted_from=date(2025, 1, 27), posted_until=date(2025, 2, 8), photo=photo())
    assert (p.payers, p.person_count) == ("all", 3)


def test_neixiang_posts_only_after_the_window_has_ended(seed):
    """Neixiang 000 l.58: 集中征缴结束后……将税务部门反馈的已缴费人员清册，在村张榜公示 — the 2025 window
    ends 31 December 2024: a posting from that day is refused, from 2 January accepted."""
    village = seed["nx_village"]
    file_with_the_tax_office(seed["nx_tax"], seed["nx"], village, residents(village, 2), year=2025)
    with pytest.raises(ValidationError) as exc:
        services.publicity_record(actor=seed["nx_collector"], village=village, year=2025,
                                  posted_from=date(2024, 12, 31), posted_until=date(2025, 1, 10), photo=photo())
    assert exc.value.message_dict["posted_from"] == [services.ERR_POSTING_BEFORE_END.format(county=seed["nx"].name, end=date(2024, 12, 31))]
    assert services.publicity_record(actor=seed["nx_collector"], village=village, year=2025, posted_from=date(2025, 1, 2),
                                     posted_until=date(2025, 1, 10), photo=photo()).person_count == 2


# --- Shizhu: cash payers, in full within a month, then quarterly ----------------------------------


@pytest.fixture
def shizhu_now(seed):
    """Shizhu's seed policy copied to the benefit year being collected now (as the bureau does)."""
    year = benefit_year()
    seed_policy = PolicyYear.objects.get(county=seed["sz"], year=2025)
    return policy_services.policy_copy(actor=seed["sz_bureau"], policy=seed_policy, year=year)


def test_shizhu_posts_only_cash_payers(client, seed, shizhu_now):
    year = shizhu_now.year
    assert (shizhu_now.publicity_payers, shizhu_now.posting_due_months, shizhu_now.posting_every_months) == ("cash", 1, 3)
    village = seed["sz_village"]
    cash = residents(village, 3, per_household=3)
    pay(seed["sz_collector"], cash[0].household, cash, year=year)
    online = residents(village, 2)
    for p in online:
        EnrollmentFactory(person=p, year=year, status=EnrollmentStatus.CONFIRMED, amount_due=Decimal("400.00"), tax_voucher=f"T{p.pk}")

    rows = selectors.publicity_rows(village=village, year=year)
    assert [r["name"] for r in rows] == [p.name for p in cash]
    client.force_login(seed["sz_collector"])
    printed = client.get(reverse("collections:publicity_print", args=[village.pk]), {"year": year}).content.decode()
    assert f"{year}年度城乡居民医疗保险现金缴费情况公示" in printed and "合计 3 人" in printed and "1200.00" in printed
    assert not any(p.name in printed for p in online)
    ok = client.post(f"{reverse('collections:publicity_posting', args=[village.pk])}?year={year}",
                     {"posted_from": shizhu_now.window_end.replace(day=31), "posted_until": shizhu_now.window_end.replace(day=31),
                      "photo": photo()}, follow=True)
    assert "已登记月亮坪社区公示张贴记录（现金缴费人员，3人）" in ok.content.decode()
    assert PublicityPosting.objects.get().payers == "cash"


def test_shizhu_late_and_missing_postings_are_flagged(client, seed):
    """2025 season: the window ended 31 December 2024, so the full posting was due by 31 January 2025."""
    village, other = seed["sz_village"], seed["sz_village2"]
    services.publicity_record(actor=seed["sz_clerk"], village=village, year=2025,
                              posted_from=date(2025, 2, 10), posted_until=date(2025, 2, 14), photo=photo())
    by_village = lambda today: {r.village.pk: r.state for r in selectors.publicity_overview(user=seed["sz_clerk"], year=2025, today=today)["rows"]}  # noqa: E731

    early = by_village(date(2025, 1, 20))[other.pk]
    assert not early.flagged and early.messages == ("应于2025年1月31日前完成全面公示。",)
    states = by_village(date(2025, 3, 1))
    late, missing = states[village.pk], states[other.pk]
    assert late.late and late.deadline == date(2025, 1, 31) and late.full_posted_on == date(2025, 2, 10)
    assert late.messages == (MSG_FULL_LATE.format(deadline="2025年1月31日", posted="2025年2月10日"), MSG_NEXT_DUE.format(due="2025年5月10日"))
    assert missing.late and missing.messages == (MSG_FULL_MISSING.format(deadline="2025年1月31日"),)
    # A quarter on, the next posting is overdue too.
    assert by_village(date(2025, 5, 11))[village.pk].messages[-1] == MSG_NEXT_OVERDUE.format(due="2025年5月10日")

    client.force_login(seed["sz_clerk"])
    listing = client.get(reverse("collections:publicity_list"), {"year": 2025}).content.decode()
    assert "公示逾期" in listing and "2025年2月10日才张贴" in listing and "尚未登记张贴" in listing
    assert "集中征缴期结束后1个月内（2025年1月31日前）全面公示，此后每3个月公示一次" in listing


def test_an_on_time_posting_then_quarterly(seed):
    village = seed["sz_village"]
    services.publicity_record(actor=seed["sz_clerk"], village=village, year=2025,
                              posted_from=date(2025, 1, 13), posted_until=date(2025, 1, 17), photo=photo())
    (state,) = [r.state for r in selectors.publicity_overview(user=seed["sz_collector"], year=2025, today=date(2025, 2, 1))["rows"]]
    assert not state.flagged and state.next_due == date(2025, 4, 13)


# --- Counties whose plan sets no paid-list publicity ----------------------------------------------


def test_a_county_without_a_setting_lists_every_payer_and_says_so(client, seed):
    gaoyang = Region.objects.get(code="130628")
    assert PolicyYear.objects.get(county=gaoyang, year=2024).publicity_payers == ""
    village = VillageFactory(parent=TownshipFactory(parent=gaoyang, name="西演镇"), name="西演村")
    people = residents(village, 2)
    for p in people:
        EnrollmentFactory(person=p, year=2024, status=EnrollmentStatus.CONFIRMED, amount_due=Decimal("380.00"))
    client.force_login(UserFactory(role=Role.COLLECTOR, region=village))
    printed = client.get(reverse("collections:publicity_print", args=[village.pk]), {"year": 2024}).content.decode()
    assert MSG_PAYERS_UNSET in printed and "合计 2 人" in printed and "760.00" in printed
    listing = client.get(reverse("collections:publicity_list"), {"year": 2024}).content.decode()
    assert MSG_PAYERS_UNSET in listing and "公示逾期" not in listing


def test_the_page_says_when_a_year_has_no_holiday_schedule(client, seed, shizhu_now):
    """A posting year neither chinese-calendar nor the bureau's CalendarDay rows know is counted
    Monday–Friday, and the page says so."""
    posting_year = shizhu_now.window_end.year + 1
    client.force_login(seed["sz_clerk"])
    listing = client.get(reverse("collections:publicity_list"), {"year": shizhu_now.year}).content.decode()
    warning = WARN_NO_SCHEDULE.format(year=posting_year)
    assert (warning in listing) == (not library_knows(posting_year))
    # The bureau enters the State Council's schedule for that year: the warning goes.
    CalendarDay.objects.create(date=date(posting_year, 1, 1), is_workday=False, name="元旦")
    listing = client.get(reverse("collections:publicity_list"), {"year": shizhu_now.year}).content.decode()
    assert warning not in listing


def test_without_a_setting_cash_payers_not_yet_confirmed_are_listed_once(users, regions):
    """A county whose plan names no kind lists everyone known to have paid: the confirmed, and
    the cash payers the tax office has not confirmed yet — a person paid in cash and confirmed
    since is listed once."""
    policy = make_policy(regions["county"], publicity_payers="")
    hh, members = household_with(regions["v1"], 3)
    pay(users["collector"], hh, members[:2], year=policy.year)  # two pay cash …
    Enrollment.objects.filter(person=members[0], year=policy.year).update(status=EnrollmentStatus.CONFIRMED)  # … one is confirmed since
    EnrollmentFactory(person=members[2], year=policy.year, status=EnrollmentStatus.CONFIRMED, amount_due=Decimal("400.00"))  # paid online
    rows = selectors.publicity_rows(village=regions["v1"], year=policy.year)
    assert sorted(r["name"] for r in rows) == sorted(m.name for m in members)
    (standing,) = [r for r in selectors.publicity_overview(user=users["collector"], year=policy.year, today=date.today())["rows"]
                   if r.village == regions["v1"]]
    assert (standing.payers, standing.count) == ("paid", 3)
