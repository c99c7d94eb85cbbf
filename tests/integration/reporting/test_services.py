"""Snapshots, rankings and the final assessment against a small county (tests/conftest.py `regions`)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from core.models import RegionQuota
from enrollment.choices import EnrollmentStatus as S
from enrollment.choices import ExclusionReason
from enrollment.models import PersonIdentity
from reporting import services
from reporting.models import ProgressSnapshot, RankingEntry, Report, ReportKind, WeeklyNote
from subsidies.models import SubsidyCategory
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory
from tests.factories.reporting import PrizeGradeFactory, ReportingPolicyFactory, SnapshotFactory

D = date


@pytest.fixture
def season(regions):
    r = regions
    policy = ReportingPolicyFactory(county=r["county"], work_fund_per_person=Decimal("1.50"))
    RegionQuota.objects.create(region=r["v1"], year=2025, base_task=10, target_task=12)
    RegionQuota.objects.create(region=r["v2"], year=2025, base_task=10)
    RegionQuota.objects.create(region=r["t2"], year=2025, should_enrol=5)
    v1 = r["v1"]
    money = {"amount_due": Decimal("400.00")}
    confirmed = {"status": S.CONFIRMED, "paid_on": D(2024, 10, 1), "declared_on": D(2024, 10, 3), "confirmed_on": D(2024, 10, 5), **money}
    hh = HouseholdFactory(village=v1)
    first = EnrollmentFactory(person__household=hh, **confirmed)
    EnrollmentFactory(person__household=hh, status=S.PENDING)  # a split household
    EnrollmentFactory.create_batch(2, person__household__village=v1, **confirmed)
    EnrollmentFactory.create_batch(2, person__household__village=v1, status=S.PAID, paid_on=D(2024, 10, 10), **money)
    EnrollmentFactory(person__household__village=v1, status=S.DECLARED, paid_on=D(2024, 10, 2), declared_on=D(2024, 10, 4), **money)
    EnrollmentFactory(person__household__village=v1, status=S.EXCLUDED, exclusion_reason=ExclusionReason.EMPLOYEE_INSURANCE)
    EnrollmentFactory(person__household__village=v1, **{**confirmed, "status": S.REFUNDED, "refunded_on": D(2024, 10, 20)})
    PersonFactory(household__village=v1)  # neither enrollment nor reason
    EnrollmentFactory(person__household__village=r["v2"], **confirmed)
    EnrollmentFactory.create_batch(2, person__household__village=r["v3"], **confirmed)
    poor = SubsidyCategory.objects.create(policy=policy, code="dibao", name="低保对象", is_special_group=True)
    everyone = SubsidyCategory.objects.create(policy=policy, code="all", name="普通居民", is_special_group=False)
    pending_person = hh.members.exclude(pk=first.person_id).get()
    for person, cat in [(first.person, poor), (pending_person, poor), (pending_person, everyone)]:
        PersonIdentity.objects.create(person=person, category=cat, year=2025, certified_on=D(2024, 9, 1))
    return policy


def snap(region, day):
    return ProgressSnapshot.objects.get(region=region, date=day)


def test_snapshot_counts_as_of_the_day(regions, season):
    r = regions
    assert services.snapshot_take(county=r["county"], day=D(2024, 10, 6)) == 6  # county, 2 townships, 3 villages
    v1 = snap(r["v1"], D(2024, 10, 6))
    # paid on 10-10 not yet; the refund of 10-20 not yet
    assert (v1.collected, v1.declared, v1.confirmed, v1.refunded) == (5, 5, 4, 0)
    assert v1.roster == 9 and v1.excluded == 1
    assert v1.money_collected == Decimal("2000.00")
    assert (v1.quota_base, v1.quota_target) == (10, 12)
    assert v1.rate == Decimal("40.00") and v1.rate_target == Decimal("33.33")


def test_snapshot_later_day_and_rollup(regions, season):
    r = regions
    services.snapshot_take(county=r["county"], day=D(2024, 10, 25))
    v1 = snap(r["v1"], D(2024, 10, 25))
    assert (v1.collected, v1.declared, v1.confirmed, v1.refunded) == (6, 4, 3, 1)
    assert v1.money_collected == Decimal("2400.00")
    assert (v1.special_total, v1.special_confirmed, v1.special_missing) == (2, 1, 1)
    assert v1.no_record == 1 and v1.partial_households == 1
    t1, t2, county = snap(r["t1"], D(2024, 10, 25)), snap(r["t2"], D(2024, 10, 25)), snap(r["county"], D(2024, 10, 25))
    assert t1.confirmed == 4 and t1.quota_base == 20 and t1.quota_target == 22  # villages' quotas add up
    assert t2.confirmed == 2 and t2.quota_base == 5  # its own should-enrol figure
    assert county.confirmed == 6 and county.quota_base == 25 and county.money_collected == Decimal("3600.00")


def test_retaking_a_day_replaces_it(regions, season):
    r = regions
    day = D(2024, 10, 25)
    services.snapshot_take(county=r["county"], day=day)
    EnrollmentFactory(person__household__village=r["v3"], status=S.CONFIRMED, paid_on=day, confirmed_on=day)
    services.snapshot_take(county=r["county"], day=day)
    assert ProgressSnapshot.objects.filter(date=day).count() == 6
    assert snap(r["v3"], day).confirmed == 3 and snap(r["county"], day).confirmed == 7


def test_village_without_quota_is_measured_against_its_roster(regions, season):
    r = regions
    services.snapshot_take(county=r["county"], day=D(2024, 10, 25))
    v3 = snap(r["v3"], D(2024, 10, 25))
    assert v3.quota_base == 2 and v3.quota_from_roster


def test_snapshot_queries_do_not_grow_with_residents(regions, season, django_assert_max_num_queries):
    r = regions
    EnrollmentFactory.create_batch(30, person__household__village=r["v2"], status=S.PAID, paid_on=D(2024, 10, 1))
    with django_assert_max_num_queries(20):
        services.snapshot_take(county=r["county"], day=D(2024, 10, 25))


def _snapshots(day, figures):
    """figures: region → (confirmed, quota)."""
    for region, (confirmed, quota) in figures.items():
        SnapshotFactory(region=region, date=day, confirmed=confirmed, quota_base=quota, quota_target=quota)


@pytest.fixture
def county3(regions):
    """A county of three townships (one village each), with the weekly policy (bottom group 1)."""
    from tests.factories import TownshipFactory, VillageFactory

    r = dict(regions)
    r["t3"] = TownshipFactory(name="丙镇", parent=r["county"])
    r["v4"] = VillageFactory(name="丙一村", parent=r["t3"])
    ReportingPolicyFactory(county=r["county"], bottom_group_size=1, interview_after_weeks=2)
    return r


def _week(r, day, t1, t2, t3):
    SnapshotFactory(region=r["county"], date=day, confirmed=t1 + t2 + t3, quota_base=300)
    _snapshots(day, {r["t1"]: (t1, 100), r["t2"]: (t2, 100), r["t3"]: (t3, 100)})


def entries(ranking, level="township"):
    return {e.region.name: e for e in RankingEntry.objects.filter(ranking=ranking, level=level).select_related("region")}


def test_weekly_ranking_movement_and_two_week_interview(county3):
    r = county3
    _week(r, D(2024, 10, 7), 50, 40, 30)
    first = entries(services.ranking_take(county=r["county"], day=D(2024, 10, 7)))
    assert [first[n].rank for n in ("甲镇", "乙镇", "丙镇")] == [1, 2, 3]
    assert first["丙镇"].in_bottom and not first["丙镇"].interview  # first week: no interview yet
    assert first["甲镇"].change is None

    _week(r, D(2024, 10, 14), 60, 70, 65)
    second = entries(services.ranking_take(county=r["county"], day=D(2024, 10, 14)))
    assert [second[n].rank for n in ("乙镇", "丙镇", "甲镇")] == [1, 2, 3]
    assert second["乙镇"].change == 1 and second["丙镇"].change == 1 and second["甲镇"].change == -2
    assert second["甲镇"].in_bottom and not second["甲镇"].interview

    _week(r, D(2024, 10, 21), 61, 90, 80)
    third = entries(services.ranking_take(county=r["county"], day=D(2024, 10, 21)))
    assert third["甲镇"].rank == 3 and third["甲镇"].interview and third["甲镇"].bottom_streak == 2


def test_ranking_tie_break_more_confirmed_then_code(county3):
    r = county3
    day = D(2024, 10, 7)
    SnapshotFactory(region=r["county"], date=day, confirmed=1, quota_base=1)
    _snapshots(day, {r["t1"]: (50, 100), r["t2"]: (100, 200), r["t3"]: (50, 100)})
    got = entries(services.ranking_take(county=r["county"], day=day))
    assert got["乙镇"].rank == 1  # same rate, more confirmed
    first, second = sorted([r["t1"], r["t3"]], key=lambda t: t.code)
    assert got[first.name].rank == 2 and got[second.name].rank == 3


def test_missing_report_ranks_on_previous_figures(county3):
    r = county3
    _week(r, D(2024, 10, 7), 50, 40, 30)
    day = D(2024, 10, 14)
    SnapshotFactory(region=r["county"], date=day, confirmed=1, quota_base=1)
    _snapshots(day, {r["t1"]: (55, 100), r["t2"]: (45, 100)})  # 丙镇 sent nothing
    got = entries(services.ranking_take(county=r["county"], day=day))
    assert got["丙镇"].carried and got["丙镇"].confirmed == 30 and got["丙镇"].rank == 3
    assert not got["甲镇"].carried


def test_ranking_rerun_is_idempotent(county3):
    r = county3
    _week(r, D(2024, 10, 7), 50, 40, 30)
    services.ranking_take(county=r["county"], day=D(2024, 10, 7))
    ranking = services.ranking_take(county=r["county"], day=D(2024, 10, 7))
    assert ranking.entries.filter(level="township").count() == 3


def test_weekly_report_record_and_villages_ranked_within_township(county3):
    r = county3
    day = D(2024, 10, 7)
    _week(r, day, 50, 40, 30)
    _snapshots(day, {r["v1"]: (10, 20), r["v2"]: (15, 20), r["v3"]: (40, 100), r["v4"]: (30, 100)})
    report = services.weekly_report_publish(county=r["county"], day=day)
    assert report.kind == ReportKind.WEEKLY and "周排名" in report.title
    villages = report.payload["villages"][r["t1"].code]
    assert [v["name"] for v in villages] == ["甲二村", "甲一村"]
    assert report.payload["townships"][0]["rate"] == "50.00"


def test_final_assessment_jiangnan_prizes_and_work_funds(county3):
    r = county3
    policy = ReportingPolicyFactory(county=r["county"])
    policy.work_fund_per_person = Decimal("1.50")
    policy.save()
    PrizeGradeFactory(policy=policy, rank=1, name="一等奖", count=1, amount=Decimal("30000"))
    PrizeGradeFactory(policy=policy, rank=2, name="二等奖", count=1, amount=Decimal("20000"))
    day = D(2024, 12, 31)
    _week(r, day, 97, 99, 98)
    report = services.final_assessment_publish(county=r["county"], year=2025)
    rows = {t["name"]: t for t in report.payload["townships"]}
    assert (rows["乙镇"]["prize"], rows["乙镇"]["prize_amount"]) == ("一等奖", "30000.00")
    assert (rows["丙镇"]["prize"], rows["丙镇"]["prize_amount"]) == ("二等奖", "20000.00")
    assert rows["甲镇"]["prize"] == "" and rows["甲镇"]["work_funds"] == "145.50"  # 97 × 1.5
    assert report.payload["prize_total"] == "50000.00"
    assert report.payload["work_funds_total"] == "441.00"  # (97 + 99 + 98) × 1.5


def test_daily_report_publish(regions, season):
    r = regions
    report = services.daily_report_publish(county=r["county"], day=D(2024, 10, 25))
    assert report.payload["county"]["confirmed"] == 6
    assert [t["name"] for t in report.payload["townships"]] == ["乙镇", "甲镇"]  # 2/5 = 40 % > 4/20 = 20 %
    again = services.daily_report_publish(county=r["county"], day=D(2024, 10, 25))
    assert again.pk == report.pk and Report.objects.count() == 1


def test_notes_only_by_own_township_clerk(regions, users, season):
    r = regions
    note = services.note_save(actor=users["clerk"], township=r["t1"], day=D(2024, 10, 7), good_practices="逐户上门", problems="", suggestions="")
    assert WeeklyNote.objects.get(pk=note.pk).author == users["clerk"]
    for who in ("clerk2", "leader", "bureau", "collector"):
        with pytest.raises(PermissionDenied):
            services.note_save(actor=users[who], township=r["t1"], day=D(2024, 10, 7), good_practices="x", problems="", suggestions="")


def test_jobs_by_hand_bureau_only(regions, users, season):
    with pytest.raises(PermissionDenied):
        services.jobs_run(actor=users["leader"], county=regions["county"], day=D(2024, 10, 25), what="daily")
    report = services.jobs_run(actor=users["bureau"], county=regions["county"], day=D(2024, 10, 25), what="daily")
    assert report.kind == ReportKind.DAILY


def test_final_by_hand_assesses_the_season_ended_by_that_day(regions, users, season, monkeypatch):
    county, bureau = regions["county"], users["bureau"]
    monkeypatch.setattr(services, "local_today", lambda: D(2024, 12, 30))
    ReportingPolicyFactory(county=county, year=2026, window_start=D(2025, 9, 1), window_end=D(2025, 12, 31))
    with pytest.raises(ValueError, match="尚未结束"):  # 2025's season still runs on that day
        services.jobs_run(actor=bureau, county=county, day=D(2024, 12, 30), what="final")
    # After it, though 2026 is already set up (and is the benefit year of the day).
    monkeypatch.setattr(services, "local_today", lambda: D(2025, 1, 5))
    report = services.jobs_run(actor=bureau, county=county, day=D(2025, 1, 5), what="final")
    assert (report.kind, report.year) == (ReportKind.FINAL, 2025)


def test_final_by_hand_without_a_policy_is_refused(regions, users):
    with pytest.raises(ValueError, match="尚未设置2025年度征缴政策"):
        services.jobs_run(actor=users["bureau"], county=regions["county"], day=D(2024, 12, 30), what="final")
