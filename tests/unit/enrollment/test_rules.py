from datetime import date

import pytest

from enrollment import rules
from enrollment.choices import EnrollmentStatus as S

L = False  # living
D = True  # deceased


@pytest.mark.parametrize(
    "members, split",
    [
        ([], False),
        ([(L, S.CONFIRMED)], False),
        ([(L, S.CONFIRMED), (L, S.PAID)], False),
        ([(L, S.CONFIRMED), (L, None)], True),  # one paid, one not registered
        ([(L, S.PAID), (L, S.PENDING)], True),  # one paid, one still to pay
        ([(L, S.PAID), (L, S.EXCLUDED)], False),  # excluded with a reason is not eligible
        ([(L, S.PAID), (D, None)], False),  # the deceased are not eligible
        ([(L, S.PENDING), (L, None)], False),  # nobody enrolled yet: not split
        ([(L, S.DECLARED), (L, S.REFUNDED)], True),
        ([(L, S.EXCLUDED), (L, S.EXCLUDED)], False),
    ],
)
def test_whole_household_rule(members, split):
    assert rules.household_is_split(members) is split


@pytest.mark.parametrize(
    "last, deceased, has_next, outcome",
    [
        (S.CONFIRMED, False, False, rules.CARRY_CREATE),
        (S.PENDING, False, False, rules.CARRY_CREATE),
        (S.PAID, False, True, rules.CARRY_EXISTS),
        (S.CONFIRMED, True, False, rules.CARRY_DECEASED),
        (S.EXCLUDED, False, False, rules.CARRY_EXCLUDED),
        (S.REFUNDED, False, False, rules.CARRY_REFUNDED),
        (S.EXCLUDED, True, True, rules.CARRY_EXISTS),
    ],
)
def test_carry_over_outcome(last, deceased, has_next, outcome):
    assert rules.carry_over_outcome(last_status=last, is_deceased=deceased, has_next=has_next) == outcome


def test_carry_over_report_says_what_it_did():
    report = rules.CarryOverReport(village="甲一村", from_year=2025, to_year=2026)
    report.counts.update({rules.CARRY_CREATE: 3, rules.CARRY_DECEASED: 1})
    text = report.summary()
    assert "3人" in text and "已死亡" in text and "2026" in text
    assert report.as_dict()["created"] == 3


@pytest.mark.parametrize("status, deceased, gap", [
    (None, False, True), (S.PENDING, False, True), (S.PAID, False, False), (S.DECLARED, False, False),
    (S.CONFIRMED, False, False), (S.EXCLUDED, False, False), (S.REFUNDED, False, False), (None, True, False),
])
def test_a_gap_is_a_living_person_neither_paid_nor_excused(status, deceased, gap):
    assert rules.is_gap(is_deceased=deceased, status=status) is gap
