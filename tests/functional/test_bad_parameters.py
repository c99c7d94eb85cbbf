"""Walk every route with hostile query parameters and form fields: nothing answers 500, and a
refusal (400) says in Chinese what went wrong.

Routes, users and the planted world come from the every-route walk (tests/support/route_walk.py). For
each route the parameters it reads are recorded (``query_reads``); all of them are then sent at
once with each hostile value — a NUL inside a value, another control character, a very long
string, a non-numeric id, negative and huge numbers, bad dates and choices — and each one it looks
up by name also alone with the worst of them, until no new parameter is read. A NUL or control character anywhere (a query parameter's name or
value, a form field's name or value, the path) must be refused with 400 and a Chinese message.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client

from config.requests import ERR_CONTROL_CHARACTERS
from tests.support.route_walk import (  # noqa: F401 - fixtures
    CODE_PARAMS,
    EVERY_PARAM,
    FILTER_PARAMS,
    FOREIGN_PK,
    PUBLIC_ROUTES,
    SESSION_ENDING,
    SIBLING_PK,
    build_url,
    fast_password_hashing,
    is_admin,
    is_api,
    query_reads,
    walked_routes,
    world,
)

# Values no route may answer 500 to. Each is sent in every parameter a route reads at once; the
# ALONE ones also in each parameter alone (so a parameter refused first cannot hide another).
CONTROL_VALUES = ["1\x00", "a\x1fb"]
HOSTILE_VALUES = ["x" * 5000, "abc", "-1", "99999999999999999999", "-99999999999999999999", "NaN", "2025-13-45", "1,2"]
ALONE_VALUES = ["abc", "99999999999999999999", "2025-13-45"]
# Parameters sent to a view that reads the whole query dict (it may look at any name).
COMMON_PARAMS = (*FILTER_PARAMS, *CODE_PARAMS, "year", "date", "day", "since", "page", "q", "status", "kind", "outcome", "import")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# County users see the sibling township's rows (object pages do their work); township users and
# below are walked on lists.
ROLES = {"bureau": SIBLING_PK, "clerk": FOREIGN_PK}


def refusal_text(resp) -> str:
    """The message of a 400: the API's ``detail`` (or field errors), or the page's text."""
    if "json" in resp.get("Content-Type", ""):
        return repr(resp.json())
    return resp.content.decode("utf-8", "replace")


def check(resp, what: str, *, must_refuse: bool) -> list[str]:
    if resp.status_code >= 500:
        return [f"{what} → {resp.status_code}"]
    if must_refuse and resp.status_code != 400:
        return [f"{what} → {resp.status_code}, not 400"]
    if resp.status_code == 400 and not CHINESE.search(refusal_text(resp)):
        return [f"{what} → 400 without a Chinese message: {refusal_text(resp)[:200]!r}"]
    return []


def walk_routes(client, user, world, pk, query_reads):
    """(problems, hostile requests sent, routes whose parameters were probed)."""
    problems, sent, probed = [], 0, set()

    def get(url, name, query, *, must_refuse=False):
        nonlocal sent
        sent += 1
        query_reads.clear()
        resp = client.get(url + ("&" if "?" in url else "?") + query if query else url)
        read = set(query_reads)
        if user is not None and (name in SESSION_ENDING or "_auth_user_id" not in client.session):
            client.force_login(user)
        problems.extend(check(resp, f"GET {url}?{query[:80]} [{name}]", must_refuse=must_refuse))
        return read

    for route, name, pattern in walked_routes():
        if is_admin(route) or (user is None and name not in PUBLIC_ROUTES):
            continue
        url = build_url(route, name, pattern, pk, world["foreign"].village.code)
        if url is None:
            continue
        # Until its first read a view cannot tell one query from another (see the every-route walk).
        read = get(url, name, "")
        # A NUL in a parameter's name, and in the value of one the route never reads, is refused too.
        get(url, name, "%00=1", must_refuse=True)
        get(url, name, "unused=%00", must_refuse=True)
        done: set[str] = set()
        while todo := sorted({*(COMMON_PARAMS if EVERY_PARAM in read else ()), *read} - done - {EVERY_PARAM}):
            probed.add(name or route)
            done |= set(todo)
            for value in CONTROL_VALUES + HOSTILE_VALUES:
                query = "&".join(f"{quote(p)}={quote(value)}" for p in todo)
                read |= get(url, name, query, must_refuse=value in CONTROL_VALUES)
            # Alone: each parameter the route looked up by name (not every name a route that
            # copies the whole query string passes on).
            alone = [p for p in todo if p in read and len(todo) > 1]
            for param in alone:
                for value in ALONE_VALUES:
                    read |= get(url, name, f"{quote(param)}={quote(value)}")
    return problems, sent, probed


@pytest.mark.parametrize("role", list(ROLES))
def test_hostile_query_parameters_never_answer_500(role, users, world, query_reads):
    user = users[role]
    client = Client(raise_request_exception=False)
    client.force_login(user)
    problems, sent, probed = walk_routes(client, user, world, ROLES[role], query_reads)
    print(f"\n{role}: {sent} hostile GET requests, {len(probed)} routes probed")
    assert sent > 200 and len(probed) > 10
    assert not problems, "\n".join(problems[:400]) + f"\n({len(problems)} problems)"


def test_hostile_query_parameters_on_public_routes(world, query_reads):
    client = Client(raise_request_exception=False)
    problems, sent, probed = walk_routes(client, None, world, FOREIGN_PK, query_reads)
    assert sent > 20 and probed
    assert not problems, "\n".join(problems[:80])


@pytest.mark.parametrize("role", ["bureau", "clerk"])
def test_control_characters_in_form_fields_are_refused_on_every_route(role, users, world):
    """POST (and for API routes PUT/PATCH with a form body) a NUL in a field's value, and in a
    field's name: 400 with a Chinese message everywhere, before any view runs."""
    user = users[role]
    client = Client(raise_request_exception=False)
    client.force_login(user)
    problems = []
    for route, name, pattern in walked_routes():
        url = build_url(route, name, pattern, ROLES[role], world["foreign"].village.code)
        if url is None:
            continue
        for data in ({"name": "张\x00三", "village": "1"}, {"na\x00me": "张三"}, {"note": "\x1b[31m"}):
            if "_auth_user_id" not in client.session:
                client.force_login(user)
            resp = client.post(url, data)
            problems += check(resp, f"POST {url} {data!r} [{name}]", must_refuse=True)
        if is_api(route) and pattern.pattern.regex.groupindex:
            resp = client.patch(url, "name=%E5%BC%A0%00", content_type="application/x-www-form-urlencoded")
            problems += check(resp, f"PATCH {url} [{name}]", must_refuse=True)
    assert not problems, "\n".join(problems[:400]) + f"\n({len(problems)} problems)"


def test_control_characters_in_the_path_are_refused(users, world):
    client = Client(raise_request_exception=False)
    client.force_login(users["bureau"])
    for url in ("/progress/%00/", "/api/households/%00/", "/roster/%01"):
        resp = client.get(url)
        assert check(resp, url, must_refuse=True) == []


def test_the_refusal_says_what_to_do_on_pages_and_in_the_api(users, world):
    client = Client(raise_request_exception=False)
    client.force_login(users["bureau"])
    page = client.get("/progress/?region=%00")
    assert page.status_code == 400
    assert ERR_CONTROL_CHARACTERS in page.content.decode()
    assert 'class="topbar' in page.content.decode() and 'id="mainnav"' in page.content.decode()  # the site's layout
    api = client.get("/api/reports/progress/?region=%00")
    assert api.status_code == 400
    assert api.json() == {"detail": ERR_CONTROL_CHARACTERS}
    for query in ("county=1%00", "township=%00", "county=%00&township=%00"):
        assert client.get(f"/api/reports/rankings/?{query}").json() == {"detail": ERR_CONTROL_CHARACTERS}
