"""The person page's critical-illness incentive (Shizhu 003 l.59: 对连续参加居民医保满4年的参保人员，之后每连续
参保缴费1年，提高居民大病保险最高支付限额), from the years on record and the policy's figures."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from enrollment import selectors
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db


def resident_paid(years, *, gap=None):
    load_seed_policies()
    first, _ = paid_in("500240", 2024)
    person = first.person
    for y in years:
        if y != 2024 and y != gap:
            Enrollment.objects.create(person=person, year=y, village=first.village, status=EnrollmentStatus.CONFIRMED, amount_due=D("400"))
    return person


def test_four_continuous_years_raise_the_cap_of_paying_2025():
    person = resident_paid(range(2021, 2025))
    got = selectors.incentive_of(person, 2025, list(person.enrollments.all()))
    assert (got.continuous_years, got.raise_amount) == (4, D("1000.00"))


def test_a_break_restarts_the_count():
    person = resident_paid(range(2020, 2025), gap=2022)
    got = selectors.incentive_of(person, 2025, list(person.enrollments.all()))
    assert (got.continuous_years, got.raise_amount) == (2, D("0.00"))


def test_the_person_page_shows_it(client):
    person = resident_paid(range(2021, 2025))
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    page = client.get(reverse("enrollment:person_detail", args=[person.pk]), {"year": 2025}).content.decode()
    assert "2025年度之前已连续参保4年" in page
    assert "最高支付限额提高<strong>1000.00</strong>元" in page


def test_the_roster_covers_a_person_by_their_group_as_the_quote_does():
    """Jiangnan 001 l.35: 退役军人……可自参保缴费之日起享受医保待遇 — from the person's record, not only the quote."""
    from datetime import date

    from enrollment.owed import cover_by

    load_seed_policies()
    enrollment, _ = paid_in("430682", 2025)
    person = enrollment.person
    assert cover_by(person=person, year=2025, paid_on=date(2025, 5, 10)).start == date(2025, 8, 10)  # waiting period
    person.cover_group = "veteran"
    person.save()
    assert cover_by(person=person, year=2025, paid_on=date(2025, 5, 10)).start == date(2025, 5, 10)
