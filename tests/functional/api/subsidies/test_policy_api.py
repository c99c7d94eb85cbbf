"""Policies, categories and identities over the API: scoped, department-limited, IDs masked."""

import pytest

from core import idcard
from tests.factories import CountyFactory, HouseholdFactory, PersonFactory, UserFactory
from tests.factories.subsidies import PersonIdentityFactory, PolicyYearFactory, SubsidyCategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(regions):
    policy = PolicyYearFactory(county=regions["county"])
    civil = SubsidyCategoryFactory(policy=policy, department="civil_affairs", amounts={1: "80"})
    rural = SubsidyCategoryFactory(policy=policy, department="rural", amounts={1: "200"})
    p = PersonFactory(household=HouseholdFactory(village=regions["v1"]))
    q = PersonFactory(household=HouseholdFactory(village=regions["v3"]))
    other = PolicyYearFactory(county=CountyFactory(code="130628", name="高阳县"), year=2024)
    return {"policy": policy, "civil": civil, "rural": rural, "a": PersonIdentityFactory(person=p, category=civil),
            "b": PersonIdentityFactory(person=q, category=rural), "other": other}


def ids(resp):
    return {row["id"] for row in resp.json()["results"]}


@pytest.mark.parametrize("who", ["bureau", "tax", "leader", "clerk", "collector"])
def test_policies_scoped_to_county(client, users, data, who):
    client.force_login(users[who])
    r = client.get("/api/policies/")
    assert r.status_code == 200 and ids(r) == {data["policy"].pk}
    assert client.get(f"/api/policies/{data['other'].pk}/").status_code == 404


def test_policy_detail_has_tiers_and_categories(client, users, data):
    client.force_login(users["bureau"])
    body = client.get(f"/api/policies/{data['policy'].pk}/").json()
    assert body["tiers"][0]["standard"] == "400.00"
    assert {c["amounts"][0]["amount"] for c in body["categories"]} == {"80.00", "200.00"}


def test_anonymous_refused(client, data):
    assert client.get("/api/policies/").status_code in (401, 403)
    assert client.get("/api/identities/").status_code in (401, 403)


def test_user_without_region_sees_nothing(client, users, data):
    client.force_login(users["nobody"])
    assert ids(client.get("/api/policies/")) == set()
    assert ids(client.get("/api/identities/")) == set()


def test_department_sees_own_categories_and_identities(client, users, data):
    client.force_login(users["dept"])
    assert ids(client.get("/api/subsidy-categories/")) == {data["civil"].pk}
    r = client.get("/api/identities/")
    assert ids(r) == {data["a"].pk}
    row = r.json()["results"][0]
    assert row["id_number"] == idcard.mask(data["a"].person.id_number)
    assert client.get(f"/api/identities/{data['b'].pk}/").status_code == 404


def test_township_clerk_sees_own_township_identities(client, users, data):
    client.force_login(users["clerk"])
    assert ids(client.get("/api/identities/")) == {data["a"].pk}
    client.force_login(users["clerk2"])
    assert ids(client.get("/api/identities/")) == {data["b"].pk}


def test_filters(client, users, data):
    client.force_login(users["bureau"])
    assert ids(client.get("/api/subsidy-categories/", {"department": "rural"})) == {data["rural"].pk}
    assert ids(client.get("/api/identities/", {"category": data["rural"].pk})) == {data["b"].pk}
    assert ids(client.get("/api/policies/", {"year": 2030})) == set()


def test_other_county_bureau(client, data):
    u = UserFactory(role="bureau", region=data["other"].county)
    client.force_login(u)
    assert ids(client.get("/api/policies/")) == {data["other"].pk}
    assert ids(client.get("/api/identities/")) == set()
