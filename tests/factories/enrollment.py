"""Factories and helpers for the roster's own models (households with members, notices, transfers)."""

from datetime import date

import factory

from enrollment.choices import EnrollmentStatus, Relation
from enrollment.models import HouseholdNotice, TransferRequest
from enrollment.services import MemberInput
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory, make_id


class HouseholdNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdNotice

    household = factory.SubFactory(HouseholdFactory)
    year = 2025


class TransferRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransferRequest

    person = factory.SubFactory(PersonFactory)
    from_household = factory.LazyAttribute(lambda o: o.person.household)
    to_household = factory.SubFactory(HouseholdFactory)
    relation = Relation.OTHER


RELATIONS_OF_FIVE = [Relation.HEAD, Relation.SPOUSE, Relation.CHILD, Relation.CHILD, Relation.PARENT]
BIRTHS_OF_FIVE = [date(1978, 3, 2), date(1980, 7, 9), date(2005, 1, 20), date(2012, 11, 3), date(1950, 6, 1)]
NAMES_OF_FIVE = ["王建国", "李秀英", "王小明", "王小红", "王德福"]
SEXES_OF_FIVE = ["M", "F", "M", "F", "M"]


def five_members(participation="enrol"):
    """Inputs for a household of five with valid, unique ID numbers."""
    return [
        MemberInput(name=name, id_number=make_id(born=born, sex=sex), relation=rel, participation=participation)
        for name, born, sex, rel in zip(NAMES_OF_FIVE, BIRTHS_OF_FIVE, SEXES_OF_FIVE, RELATIONS_OF_FIVE,
                                        strict=True)
    ]


def household_with(village, statuses, *, year=2025, deceased=()):
    """A household whose members have the given ``year`` statuses (None: no enrollment)."""
    household = HouseholdFactory(village=village)
    people = []
    for i, status in enumerate(statuses):
        person = PersonFactory(household=household, relation=Relation.HEAD if i == 0 else Relation.CHILD,
                               is_deceased=i in deceased, deceased_on=date(2024, 1, 1) if i in deceased else None)
        if status is not None:
            kwargs = {"exclusion_reason": "employee"} if status == EnrollmentStatus.EXCLUDED else {}
            EnrollmentFactory(person=person, year=year, status=status, **kwargs)
        people.append(person)
    return household, people
