import pytest

from core.models import Region
from enrollment.models import Enrollment, Household, Person
from tests.factories import EnrollmentFactory, PersonFactory


@pytest.fixture
def people(regions):
    return {
        "v1": EnrollmentFactory(person=PersonFactory(household__village=regions["v1"])),
        "v2": EnrollmentFactory(person=PersonFactory(household__village=regions["v2"])),
        "v3": EnrollmentFactory(person=PersonFactory(household__village=regions["v3"])),
    }


@pytest.mark.parametrize(
    "user_key, expected",
    [
        ("bureau", {"v1", "v2", "v3"}),
        ("leader", {"v1", "v2", "v3"}),
        ("clerk", {"v1", "v2"}),
        ("clerk2", {"v3"}),
        ("collector", {"v1"}),
        ("collector3", {"v3"}),
        ("nobody", set()),
    ],
)
def test_visible_to_follows_the_region_tree(users, people, user_key, expected):
    user = users[user_key]
    for model, path in ((Enrollment, "pk"), (Person, "enrollments__pk"), (Household, "members__enrollments__pk")):
        visible = set(model.objects.visible_to(user).values_list(path, flat=True))
        assert visible == {people[k].pk for k in expected}, model


def test_anonymous_sees_nothing(people):
    from django.contrib.auth.models import AnonymousUser

    assert not Enrollment.objects.visible_to(AnonymousUser()).exists()
    assert not Region.objects.visible_to(AnonymousUser()).exists()


def test_regions_visible_to_township_clerk(users, regions):
    visible = set(Region.objects.visible_to(users["clerk"]))
    assert visible == {regions["t1"], regions["v1"], regions["v2"]}
