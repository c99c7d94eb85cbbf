"""factory_boy factories that keep the region chain consistent (village → township → county)."""

import itertools
from datetime import date

import factory

from core import idcard
from core.choices import RegionLevel, Role
from core.models import Region, User
from enrollment.choices import EnrollmentStatus, Relation
from enrollment.models import Enrollment, Household, Person

_seq = itertools.count(1)


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    level = RegionLevel.COUNTY
    code = factory.Sequence(lambda n: f"{411300 + (n % 99) + 1:06d}")
    name = factory.Sequence(lambda n: f"测试县{n}")


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    level = RegionLevel.TOWNSHIP
    parent = factory.SubFactory(CountyFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    level = RegionLevel.VILLAGE
    parent = factory.SubFactory(TownshipFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试村{n}")


DEFAULT_BORN = date(1980, 5, 17)


def make_id(area: str = "411325", born: date | None = None, sequence: int | None = None,
            sex: str | None = None) -> str:
    """A valid synthetic ID number.

    A ``born`` given is kept exactly (with ``sex`` — "M"/"F" — the sequence also gets the right
    parity; unique for 500 calls per birth date and sex, 1,000 without). With ``sequence`` it is
    exactly that ID. With no birth date it is unique per call, born on 1980-05-17 moved on a day
    every 1,000 calls.
    """
    seq = next(_seq)
    if sequence is not None:
        return idcard.make(area, born or DEFAULT_BORN, sequence)
    if sex is not None:
        return idcard.make(area, born or DEFAULT_BORN, (seq % 500) * 2 + (1 if sex == "M" else 0))
    if born is not None:
        return idcard.make(area, born, seq % 1000)
    return idcard.make(area, date.fromordinal(DEFAULT_BORN.toordinal() + seq // 1000), seq % 1000)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    village = factory.SubFactory(VillageFactory)
    number = factory.Sequence(lambda n: f"{n:06d}")
    address = factory.LazyAttribute(lambda o: f"{o.village.name}{o.number}号")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"张{'伟芳娜敏静丽强磊军洋'[n % 10]}{n}")
    id_number = factory.LazyFunction(make_id)
    relation = Relation.HEAD
    sex = factory.LazyAttribute(lambda o: idcard.parse(o.id_number).sex)
    birth_date = factory.LazyAttribute(lambda o: idcard.parse(o.id_number).birth_date)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    person = factory.SubFactory(PersonFactory)
    year = 2025
    village = factory.LazyAttribute(lambda o: o.person.household.village)
    tier = 1
    status = EnrollmentStatus.PENDING


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.TOWNSHIP
    region = factory.SubFactory(TownshipFactory)
    password = factory.PostGenerationMethodCall("set_password", "test-pass-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
