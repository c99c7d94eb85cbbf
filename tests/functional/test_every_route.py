"""The every-route walk: as users of one region, no route shows or changes anything of another
region (the harness — the planted world, route discovery, the checks — is tests/support/route_walk.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.route_walk import (  # noqa: F401 - fixtures
    CODE_PARAMS,
    EVERY_PARAM,
    FOREIGN_PK,
    OK_STATUSES,
    PUBLIC_ROUTES,
    ROLES,
    SESSION_ENDING,
    SIBLING_PK,
    SKIPS,
    all_codes_query,
    body_text,
    build_url,
    disclosure_problems,
    fast_password_hashing,
    forbidden_for,
    id_holders,
    is_admin,
    one_code_queries,
    pks_for,
    places_not_visible,
    query_reads,
    scoped_params,
    snapshot,
    unsafe_sweep,
    walked_routes,
    world,
)


@pytest.mark.parametrize("role", list(ROLES))
def test_get_every_route_shows_nothing_of_another_region(role, users, world, query_reads):
    township_level = ROLES[role]
    user = users[role]
    client = Client(raise_request_exception=False)
    client.force_login(user)
    places = places_not_visible(world, township_level=township_level)
    problems, code_readers = [], set()
    # A role without the full-ID right must be able to rebuild no resident's ID from anything.
    persons = None if user.can("id.full") else id_holders()
    walked = probed = 0

    def get(url, name, forbidden, *, probe=False) -> tuple[int, set[str]]:
        """GET one URL, record what it shows that it must not; (status, query parameters read)."""
        nonlocal walked, probed
        walked += 1
        probed += probe
        query_reads.clear()
        resp = client.get(url)
        read = set(query_reads)
        if name in SESSION_ENDING or "_auth_user_id" not in client.session:
            client.force_login(user)
        if resp.status_code >= 500:
            problems.append(f"GET {url} [{name}] → {resp.status_code}")
        elif resp.status_code not in OK_STATUSES and resp.status_code != 204:
            text = body_text(resp)
            leaked = [s for s in forbidden if s in text]
            if leaked:
                at = text.find(leaked[0])
                context = re.sub(r"\s+", " ", text[max(0, at - 120) : at + 60])
                problems.append(f"GET {url} [{name}] → {resp.status_code} shows {leaked[:3]} in …{context}…")
            if persons is not None:
                problems.extend(f"GET {url} [{name}] → {resp.status_code} shows {p}" for p in disclosure_problems(resp, persons))
        return resp.status_code, read

    for route, name, pattern in walked_routes():
        if is_admin(route) and not route == "admin/":
            continue  # the admin site is walked by test_admin_is_staff_only
        public = name in PUBLIC_ROUTES
        forbidden = forbidden_for(world, township_level=township_level, public=public)
        has_params = bool(pattern.pattern.regex.groupindex)
        for i, pk in enumerate(pks_for(township_level)):
            url = build_url(route, name, pattern, pk, world["foreign"].village.code)
            if url is None:
                continue
            sep = "&" if "?" in url else "?"
            urls = [url]
            if not has_params:
                # Lists: once plain, then once per region with filters and a search aimed at it.
                planter = world["foreign"] if pk == FOREIGN_PK else world["sibling"]
                urls = ([url] if i == 0 else []) + [url + sep + scoped_params(pk, (planter.names or ["x"])[0])]
            statuses, read = set(), set()
            for u in urls:
                status, r = get(u, name, forbidden)
                statuses.add(status)
                read |= r
            # Region CODES of the places the user must not see, on every page that shows data the
            # user may see: lists once, object pages with a row of the user's own (county users'
            # SIBLING_PK). All code parameters at once; then, one at a time, each one the page
            # looked at in any of its requests (one it never reads cannot change what it shows).
            if not ((not has_params and i == 0) or (has_params and not township_level and pk == SIBLING_PK)):
                continue
            if statuses == {405} or not read:
                # Refused by method, or a page that looked at no query parameter at all: until its
                # first read a view cannot tell one query from another, so it never will.
                continue
            for codes in places:
                read |= get(url + sep + all_codes_query(codes), name, forbidden, probe=True)[1]
            done: set[str] = set()
            while todo := [p for p in CODE_PARAMS if (p in read or EVERY_PARAM in read) and p not in done]:
                code_readers.add(name or route)
                for param in todo:
                    done.add(param)
                    for codes in places:
                        for q in one_code_queries(codes, param):
                            read |= get(url + sep + q, name, forbidden, probe=True)[1]
    print(
        f"\n{role}: {walked} GET requests ({probed} with region codes; pages reading code parameters:"
        f" {sorted(code_readers)}); skipped: {sorted(set(SKIPS)) or 'none'}"
    )
    assert walked > 20 and probed > 20
    assert code_readers, "no page read ?region= or ?county=: the query-read recorder is broken"
    assert not problems, "\n".join(problems + [f"skipped: {s}" for s in sorted(set(SKIPS))])


# Leadership and department staff are walked by tests/integration/test_security_readonly.py,
# which requires that they change nothing at all, anywhere.
@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("leader", "dept")])
def test_post_to_every_route_changes_nothing_of_another_region(role, users, world):
    township_level = ROLES[role]
    user = users[role]
    client = Client(raise_request_exception=False)
    client.force_login(user)
    sent, problems = unsafe_sweep(
        client, user, world, pks=pks_for(township_level),
        take_snapshot=lambda: snapshot(user, world, township_level=township_level),
    )
    print(f"\n{role}: {sent} unsafe requests")
    assert sent > 10
    assert not problems, "\n".join(problems)


def test_anonymous_users_are_sent_to_login_everywhere_but_public_routes(world):
    client = Client(raise_request_exception=False)
    login = reverse("login")
    problems = []
    for route, name, pattern in walked_routes():
        url = build_url(route, name, pattern, FOREIGN_PK, world["foreign"].village.code)
        if url is None:
            continue
        resp = client.get(url)
        if resp.status_code >= 500:
            problems.append(f"GET {url} [{name}] → {resp.status_code}")
            continue
        if name in PUBLIC_ROUTES:
            text = body_text(resp)
            leaked = [s for s in forbidden_for(world, township_level=True, public=True) if s in text]
            if leaked:
                problems.append(f"GET {url} [{name}] (public) shows {leaked[:3]}")
            continue
        if resp.status_code in (301, 302, 303):
            target = resp["Location"]
            if not (target.startswith(login) or "/login/" in target):
                problems.append(f"GET {url} [{name}] → redirect to {target}, not the login page")
        elif resp.status_code not in (401, 403, 404, 405):
            problems.append(f"GET {url} [{name}] → {resp.status_code} for an anonymous user")
    assert not problems, "\n".join(problems)


def test_admin_is_staff_only(users, world):
    """The Django admin shows everything; none of the roles may reach it."""
    client = Client(raise_request_exception=False)
    problems = []
    for role in ("bureau", "clerk", "collector"):
        client.force_login(users[role])
        for route, name, pattern in walked_routes():
            if not is_admin(route) or name in PUBLIC_ROUTES:
                continue
            url = build_url(route, name, pattern, FOREIGN_PK, world["foreign"].village.code)
            if url is None:
                continue
            resp = client.get(url)
            if resp.status_code == 200 or resp.status_code >= 500:
                problems.append(f"{role} GET {url} → {resp.status_code}")
            elif resp.status_code in (301, 302) and "login" not in resp["Location"]:
                problems.append(f"{role} GET {url} → redirect to {resp['Location']}")
    assert not problems, "\n".join(problems)


def test_every_model_was_planted(world):
    """The walk is only as good as its data: every model of the project apps got a row in the
    other county (a model this cannot fill needs a default or a factory-friendly shape)."""
    failed = {m._meta.label: why for m, why in world["foreign"].failed.items()}
    assert not failed, failed
    assert world["foreign"].names and world["foreign"].id_numbers


def test_the_snapshot_sees_a_change_outside_the_region(users, world):
    """The instrument itself: a change to another region's row is noticed, one's own is not."""
    from enrollment.models import Person

    clerk = users["clerk"]
    before = snapshot(clerk, world, township_level=True)
    Person.objects.filter(pk=FOREIGN_PK).update(name="改")
    after = snapshot(clerk, world, township_level=True)
    assert before["enrollment.Person"] != after["enrollment.Person"]
    Person.objects.filter(pk=SIBLING_PK).update(name="改")  # sibling township: also not the clerk's
    assert snapshot(clerk, world, township_level=True)["enrollment.Person"] != after["enrollment.Person"]
