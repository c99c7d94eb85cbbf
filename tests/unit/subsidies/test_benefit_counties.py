"""Newborns across the year boundary and groups covered from a particular day, per county, with
the rules read from the seed fixtures (fixtures/policies/*.json) — so the fixtures must carry
them — and the seeds' own sentences. No database."""

import json
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest

from subsidies.benefit import (
    BIRTH_YEAR_MAY_BACKPAY,
    BIRTH_YEAR_MUST_PAY,
    WHY_FROM_PAYMENT,
    WHY_NEWBORN,
    WHY_NEWBORN_LATE_WAIT,
    WHY_PRIOR_BACKPAY,
    WHY_PRIOR_BOTH,
    WHY_PRIOR_YEAR_END,
    WHY_WAITING,
    WHY_WELFARE_CHILD,
    WHY_WINDOW,
    Applicant,
    CoverRules,
    PaymentNotAccepted,
    benefit_start,
    pays_as_newborn,
)
from subsidies.choices import CoverGroup

POLICIES = Path(__file__).resolve().parents[3] / "fixtures" / "policies"


def seed_rules(name: str) -> CoverRules:
    data = json.loads((POLICIES / f"{name}.json").read_text(encoding="utf-8"))
    values = {}
    for f in fields(CoverRules):
        if f.name not in data or data[f.name] is None:
            continue
        v = data[f.name]
        if f.name in ("window_start", "window_end", "extension_end"):
            v = date.fromisoformat(v)
        values[f.name] = tuple(v) if isinstance(v, list) else v
    return CoverRules(**values)


NEIXIANG, JIANGNAN, QINSHUI = seed_rules("411325-2025"), seed_rules("430682-2025"), seed_rules("140521-2025")
SHIZHU, GAOYANG = seed_rules("500240-2025"), seed_rules("130628-2024")


# --- Neixiang 000 l.67: 2024年度出生的小孩，必须在2024年12月31日前缴费才能享受次年医保待遇。

def test_neixiang_a_2024_baby_paying_by_year_end_is_covered_from_january():
    cover = benefit_start(NEIXIANG, Applicant(birth_date=date(2024, 11, 20), paid_on=date(2024, 12, 30)))
    assert cover.start == date(2025, 1, 1) and cover.reason == WHY_WINDOW


def test_neixiang_a_2024_baby_paying_in_2025_is_not_a_newborn_for_2025():
    who = Applicant(birth_date=date(2024, 12, 10), paid_on=date(2025, 1, 15))  # 36 days: inside the 90-day window
    cover = benefit_start(NEIXIANG, who)
    # not carried into 2025 by the window: paid after the collection window, it waits 3 months
    assert cover.start == date(2025, 4, 15) and cover.reason == WHY_WAITING.format(months=3)
    assert cover.notes[0] == WHY_PRIOR_YEAR_END
    assert not pays_as_newborn(who.birth_date, who.paid_on, NEIXIANG)


def test_a_county_without_the_rule_carries_a_late_2024_baby_into_2025():
    """Jiangnan 001 l.35: 新生儿在出生后 90 天内参保缴费,自出生之日所发生的合规医疗费用均可纳入医保报销."""
    cover = benefit_start(JIANGNAN, Applicant(birth_date=date(2024, 12, 10), paid_on=date(2025, 1, 15)))
    assert cover.start == date(2025, 1, 1) and cover.reason == WHY_NEWBORN and cover.birth_year == ""


# --- Shizhu 003 l.57: 新生儿在出生后次年（出生后90日内）参保缴费的，如补缴出生当年的参保费用，可从出生之日起
# 开始享受出生当年度的基本医疗保险待遇；如不补缴，只能享受参保年度的基本医疗保险待遇。新生儿在出生后次年
# （超过3个月）参保缴费的，从足额缴费后90日起享受新发生的基本医疗保险待遇。

def test_shizhu_a_2024_baby_paying_in_2025_within_90_days_may_back_pay_2024():
    cover = benefit_start(SHIZHU, Applicant(birth_date=date(2024, 12, 1), paid_on=date(2025, 1, 20)))
    assert cover.start == date(2025, 1, 1) and cover.reason == WHY_NEWBORN
    assert cover.birth_year == BIRTH_YEAR_MAY_BACKPAY
    assert WHY_PRIOR_BACKPAY.format(year=2024, next=2025) in cover.notes


def test_shizhu_a_2024_baby_paying_in_2025_after_3_months_is_covered_90_days_after_payment():
    cover = benefit_start(SHIZHU, Applicant(birth_date=date(2024, 9, 1), paid_on=date(2025, 2, 15)))  # 167 days, in the extension
    assert cover.start == date(2025, 5, 16) and cover.reason == WHY_NEWBORN_LATE_WAIT.format(days=90)


def test_shizhu_a_baby_of_the_year_after_90_days_is_covered_90_days_after_payment():
    """003 l.55: 在出生当年超过90日参保缴费的，从足额缴费后90日起开始享受."""
    cover = benefit_start(SHIZHU, Applicant(birth_date=date(2025, 2, 1), paid_on=date(2025, 6, 1)))
    assert cover.start == date(2025, 8, 30)


# --- Qinshui 002 l.39: 错过集中缴费期的新生儿自出生之日起六个月之内……办理……参保后方可享受当年度……逾期不予办理。

def test_qinshui_a_newborn_within_six_months_is_covered_from_birth():
    cover = benefit_start(QINSHUI, Applicant(birth_date=date(2025, 3, 10), paid_on=date(2025, 9, 9)))
    assert cover.start == date(2025, 3, 10) and cover.reason == WHY_NEWBORN


def test_qinshui_a_newborn_after_six_months_is_refused():
    with pytest.raises(PaymentNotAccepted, match="6个月内未办理参保缴费，逾期不予办理"):
        benefit_start(QINSHUI, Applicant(birth_date=date(2025, 3, 10), paid_on=date(2025, 9, 10)))


def test_a_county_without_the_refusal_covers_a_late_newborn_from_its_registration():
    cover = benefit_start(NEIXIANG, Applicant(birth_date=date(2025, 3, 10), paid_on=date(2025, 9, 10)))
    assert cover.start == date(2025, 9, 10)


# --- Gaoyang 004 l.21: 新生儿从出生之日起到办理参保登记及缴费日，跨两个年度的，按规定标准缴纳两个年度的个人缴费部分后，
# 分别按两个年度享受相应的城乡居民医保待遇。

def test_gaoyang_a_newborn_spanning_two_years_must_pay_both_years():
    cover = benefit_start(GAOYANG, Applicant(birth_date=date(2023, 11, 15), paid_on=date(2024, 1, 20)))
    assert cover.start == date(2024, 1, 1) and cover.birth_year == BIRTH_YEAR_MUST_PAY
    assert WHY_PRIOR_BOTH.format(year=2023, next=2024) in cover.notes


# --- Jiangnan 001 l.35: 儿童福利机构接收的儿童……自进入儿童福利机构之日起享受医保待遇。退役军人、征兵工作退回人员、
# 刑满释放人员、社区矫正对象接续当年医保关系，可自参保缴费之日起享受医保待遇。

@pytest.mark.parametrize("group", ["veteran", "returned_conscript", "released_prisoner", "community_corrections"])
def test_jiangnan_groups_paying_after_the_window_are_covered_from_the_payment_day(group):
    cover = benefit_start(JIANGNAN, Applicant(paid_on=date(2025, 5, 10), cover_group=group))
    assert cover.start == date(2025, 5, 10) and cover.reason == WHY_FROM_PAYMENT.format(group=CoverGroup(group).label)
    assert cover.waiting_months == 0


def test_jiangnan_a_veteran_paying_in_the_window_is_covered_from_january():
    assert benefit_start(JIANGNAN, Applicant(paid_on=date(2024, 11, 1), cover_group="veteran")).start == date(2025, 1, 1)


def test_jiangnan_a_welfare_child_is_covered_from_the_day_it_entered():
    who = Applicant(paid_on=date(2025, 6, 20), cover_group="welfare_child", cover_group_since=date(2025, 6, 3))
    cover = benefit_start(JIANGNAN, who)
    assert cover.start == date(2025, 6, 3) and cover.reason == WHY_WELFARE_CHILD


def test_counties_without_those_rules_apply_the_waiting_period():
    assert benefit_start(NEIXIANG, Applicant(paid_on=date(2025, 5, 10), cover_group="veteran")).start == date(2025, 8, 10)
    who = Applicant(paid_on=date(2025, 6, 20), cover_group="welfare_child", cover_group_since=date(2025, 6, 3))
    assert benefit_start(NEIXIANG, who).start == date(2025, 9, 20)
