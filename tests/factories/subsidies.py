"""Factories for the subsidies app: a policy year with one 400-yuan tier by default."""

from datetime import date
from decimal import Decimal

import factory

from core.choices import Department
from enrollment.models import PersonIdentity
from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory, Tier
from tests.factories import CountyFactory, PersonFactory


class PolicyYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyYear
        django_get_or_create = ("county", "year")
        skip_postgeneration_save = True

    county = factory.SubFactory(CountyFactory)
    year = 2025
    title = factory.LazyAttribute(lambda o: f"{o.year}年度征缴方案")
    window_start = factory.LazyAttribute(lambda o: date(o.year - 1, 9, 1))
    window_end = factory.LazyAttribute(lambda o: date(o.year - 1, 12, 31))
    fiscal_subsidy = Decimal("670.00")

    @factory.post_generation
    def tiers(obj, create, extracted, **kwargs):
        if not create:
            return
        for number, standard in (extracted or {1: "400.00"}).items():
            Tier.objects.get_or_create(policy=obj, number=number, defaults={"name": f"{number}档", "standard": Decimal(standard)})


class SubsidyCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubsidyCategory
        skip_postgeneration_save = True

    policy = factory.SubFactory(PolicyYearFactory)
    code = factory.Sequence(lambda n: f"c{n:03d}")
    name = factory.Sequence(lambda n: f"资助类别{n}")
    department = Department.CIVIL_AFFAIRS

    @factory.post_generation
    def amounts(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for tier, amount in extracted.items():
            CategorySubsidy.objects.create(category=obj, tier=tier, amount=Decimal(amount))


class PersonIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonIdentity

    person = factory.SubFactory(PersonFactory)
    category = factory.SubFactory(SubsidyCategoryFactory)
    year = factory.LazyAttribute(lambda o: o.category.policy.year)
    certified_on = date(2024, 10, 1)
    source_list = "测试名单"


def load_seed_policies(*, full: bool = False):
    """The five seed counties and their policy years from fixtures/policies/*.json.

    ``full=True`` runs `manage.py load_localities` exactly as `make run` does (every township and
    village too); the default loads only the five county regions, which is all the policies need,
    and keeps the tests quick."""
    import io
    import json

    from django.core.management import call_command

    from core.choices import RegionLevel
    from core.localities import LOCALITIES_FILE
    from core.models import Region
    from subsidies.policies import load_policies

    if full:
        call_command("load_localities", stdout=io.StringIO())
        return
    data = json.loads(LOCALITIES_FILE.read_text(encoding="utf-8"))
    for i, c in enumerate(data["counties"], 1):
        Region.objects.get_or_create(code=c["code"], defaults={"level": RegionLevel.COUNTY, "name": c["name"], "sort_order": i})
    load_policies()
