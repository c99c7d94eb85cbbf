"""A newborn follows one guardian in its birth year. Shizhu 003 l.53: 对不独立参保且其法定监护人当年已参加我市
居民医保并缴费的新生儿，自出生之日起自动随其法定监护人按规定享受居民医保待遇……其法定监护人有多人参加我市居民医保并
缴费的，只能选择其中一人随同参保，一经选择不得变更. Neixiang 000 l.67: 新生儿父或母参加我市基本医保的，新生儿出生不用
缴费即可享受当年城乡居民医保待遇 (no word on changing the choice)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from enrollment import services
from enrollment.choices import EnrollmentStatus, Relation
from enrollment.models import Enrollment
from enrollment.owed import cover_by
from subsidies.benefit import WHY_NEWBORN_FREE
from tests.factories import PersonFactory, UserFactory, make_id
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db
TODAY = date(2025, 6, 1)
BORN = date(2025, 3, 3)


def family(county_code):
    """A father who paid for 2025, a mother who paid too, a grandmother who did not, and a baby
    born in 2025 — one household; and the village's collector."""
    load_seed_policies()
    father_paid, collector = paid_in(county_code, 2025)
    household = father_paid.person.household
    father_paid.person.birth_date = date(1990, 1, 1)
    father_paid.person.save()
    mother = PersonFactory(household=household, relation=Relation.SPOUSE, id_number=make_id(born=date(1992, 2, 2), sex="F"))
    Enrollment.objects.create(person=mother, year=2025, village=household.village, status=EnrollmentStatus.PAID)
    granny = PersonFactory(household=household, relation=Relation.PARENT, id_number=make_id(born=date(1960, 2, 2), sex="F"))
    baby = PersonFactory(household=household, relation=Relation.CHILD, id_number=make_id(born=BORN))
    baby.fill_from_id()
    baby.save()
    return father_paid.person, mother, granny, baby, collector


def choose(collector, baby, guardian):
    return services.guardian_choose(actor=collector, newborn=baby, guardian=guardian, today=TODAY)


def test_shizhu_a_newborn_follows_one_guardian_who_paid_and_the_choice_is_fixed():
    father, mother, granny, baby, collector = family("500240")
    assert cover_by(person=baby, year=2025, paid_on=date(2025, 9, 1)).reason != WHY_NEWBORN_FREE
    with pytest.raises(ValidationError) as exc:
        choose(collector, baby, granny)
    assert exc.value.message_dict["guardian"] == [services.ERR_GUARDIAN_UNPAID.format(name=granny.name, year=2025)]
    choose(collector, baby, father)
    baby.refresh_from_db()
    assert baby.guardian_id == father.pk
    cover = cover_by(person=baby, year=2025, paid_on=date(2025, 9, 1))
    assert (cover.start, cover.reason) == (BORN, WHY_NEWBORN_FREE)  # from birth, as the guardian's ward
    with pytest.raises(ValidationError) as exc:
        choose(collector, baby, mother)
    assert "一经选择不得变更" in exc.value.message_dict["guardian"][0]
    assert baby.history.first().guardian_id == father.pk  # the change is on the record


def test_neixiang_the_guardian_may_be_changed():
    father, mother, _, baby, collector = family("411325")
    choose(collector, baby, father)
    choose(collector, baby, mother)
    baby.refresh_from_db()
    assert baby.guardian_id == mother.pk


def test_only_a_grown_up_of_the_household_and_only_for_a_newborn():
    father, _, _, baby, collector = family("500240")
    stranger = PersonFactory(id_number=make_id(born=date(1985, 1, 1)))
    with pytest.raises(ValidationError) as exc:
        choose(collector, baby, stranger)
    assert exc.value.message_dict["guardian"] == [services.ERR_GUARDIAN_NOT_MEMBER]
    with pytest.raises(ValidationError) as exc:
        services.guardian_choose(actor=collector, newborn=father, guardian=baby, today=TODAY)
    assert exc.value.message_dict["guardian"] == [services.ERR_GUARDIAN_NOT_NEWBORN]
    other_collector = UserFactory(role="collector", region=PersonFactory().household.village)
    with pytest.raises(PermissionDenied):
        choose(other_collector, baby, father)
