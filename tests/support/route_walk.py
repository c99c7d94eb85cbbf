"""Walk EVERY URL pattern and API route as users of one region and prove nothing of another
region is shown or changed — so a new page cannot forget scoping unnoticed.

How it works (nothing here names a page: routes are discovered from config.urls):

* ``Planter`` creates one row of EVERY model of the project apps, with the same primary key
  (``FOREIGN_PK``) in another county, and again (``SIBLING_PK``) in the other township of the
  users' own county. Text fields are filled with marked tokens (``禁甲…`` for the other county's
  residents, receipts…, ``禁丙…`` for that county's policy and regions, ``禁乙…`` for the sibling
  township), person names and ID numbers are recorded. Models added later by anyone are planted
  the same way, without changing this file.
* Every route is requested with its ``<int:…>`` parameters filled with those primary keys, as a
  user of each role. A response may be 403/404/405/400, a redirect, or a 200 that contains none of
  the other region's markers, names or ID numbers (xlsx and JSON bodies are decoded first).
* Pages that take a region CODE (``?region=``, ``?county=``, ``?township=``, ``?village=``) are
  asked for the places the user must not see by their codes: lists, and object pages showing a row
  of the user's own. All code parameters at once, then each one the page read (``query_reads``
  records which query parameters a view looks at) alone, ``region`` at every level.
* Every route is also POSTed to (and API detail routes PUT/PATCHed/DELETEd) with form fields that
  point at the other region's rows; afterwards every row outside the user's region must be
  byte-for-byte what it was.
* Anonymous users get a redirect to the login page, 401/403, or 404/405 everywhere except the
  public allow-list below.

Skipped routes are listed with their reason in the test output (``-s`` or the failure message).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from datetime import date, time, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.apps import apps
from django.db import models, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import load_workbook

from core import idcard
from core.choices import RegionLevel, Role
from core.models import Region, User
from enrollment.models import Person

PROJECT_APPS = ("enrollment", "subsidies", "collections_app", "reporting")


FOREIGN_PK = 970001  # every model's row in ANOTHER county has this pk


SIBLING_PK = 970002  # every model's row in the OTHER township of the same county has this pk


MARK_FOREIGN = "禁甲"  # residents, money, anything below county level, other county


MARK_FOREIGN_COUNTY = "禁丙"  # the other county's own rows: its policy, regions


MARK_SIBLING = "禁乙"  # anything below county level in the sibling township


# Routes anyone may open without logging in, and why. Their content is still checked for
# residents' data; only the other county's public policy figures may appear on them.
PUBLIC_ROUTES = {
    "login": "the login form",
    "logout": "logging out needs no session",
    "healthz": "load balancer health check: database/broker status only",
    "subsidies:quote_page": "the contribution calculator applies published policy, no personal data",
    "quote": "API of the public contribution calculator",
    "quote-options": "published policy options for the calculator",
    "schema": "the OpenAPI description lists endpoints, never data",
    "api-docs": "Swagger UI over the schema, static assets only",
    "admin:login": "the admin site's own login form (staff only past it)",
    "admin:logout": "logging out of the admin site",
}


# URL prefixes not walked, and why.
SKIPPED_PREFIXES = {
    "static/": "static files (whitenoise), no data",
    "media/": "uploaded files are served only through scoped views",
}


# Routes that log the client out or otherwise end the walk's session; requested, then re-logged in.
SESSION_ENDING = {"logout"}


# The audit log grows on every export or refusal, wherever the actor sits: not a data change.
UNTRACKED = {"enrollment.AuditEvent"}


OK_STATUSES = {301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 409, 410, 422}


SKIPS: list[str] = []


# --- Route discovery ------------------------------------------------------------------------------
def iter_routes(patterns=None, prefix="", namespaces=()):
    """(route text, full name or None, URLPattern) for every pattern, recursively."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespaces + ((p.namespace,) if p.namespace else ())
            yield from iter_routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = ":".join(namespaces + (p.name,)) if p.name else None
            yield prefix + str(p.pattern), name, p


def param_value(param: str, pk: int, village_code: str):
    if param == "year" or param.endswith("_year"):
        return 2025
    if param in ("format",):
        return "json"
    if param in ("tier", "page", "month", "day", "week", "number"):
        return 1
    if "code" in param:
        return village_code
    if param in ("uidb64", "token", "slug"):
        return "x"
    return pk


def build_url(route: str, name: str | None, pattern: URLPattern, pk: int, village_code: str):
    """A concrete URL for the route with its parameters filled, or None (recorded in SKIPS)."""
    params = list(pattern.pattern.regex.groupindex)
    if pattern.pattern.regex.groups > len(params):
        SKIPS.append(f"{route}: positional parameters")
        return None
    kwargs = {p: param_value(p, pk, village_code) for p in params}
    if name:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            pass
    # Unnamed (or irreversible) route pattern: substitute converters by hand.
    text = route
    for p, v in kwargs.items():
        text = re.sub(r"<(?:\w+:)?%s>" % p, str(v), text)
    if re.search(r"[\^$()\[\]?*+\\<>]", text):
        SKIPS.append(f"{route}: cannot build a URL for this pattern")
        return None
    return "/" + text


def walked_routes():
    routes = []
    for route, name, pattern in iter_routes():
        skip = next((why for pre, why in SKIPPED_PREFIXES.items() if route.startswith(pre)), None)
        if skip:
            SKIPS.append(f"{route}: {skip}")
            continue
        routes.append((route, name, pattern))
    return routes


def is_api(route: str) -> bool:
    return route.startswith("api/")


def is_admin(route: str) -> bool:
    return route.startswith("admin/")


# --- Planting one row of every model in a region ---------------------------------------------------
def project_models():
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            if model.__name__.startswith("Historical"):  # simple_history's tables
                continue
            yield model


class Planter:
    """Creates one row of every project model, all with primary key ``pk``, inside ``village``
    (and its township/county), filling text fields with marked tokens."""

    def __init__(self, *, pk, county, township, village, below_mark, county_mark, own_county_rows):
        self.pk = pk
        self.county, self.township, self.village = county, township, village
        self.below_mark, self.county_mark = below_mark, county_mark
        # In the sibling township the county's own rows (policy…) are the users' own county's:
        # legitimately visible, so they are not marked.
        self.own_county_rows = own_county_rows
        self.rows: dict = {Region: village}
        self.below: dict = {Region: True}
        self.failed: dict = {}
        self.id_numbers: list[str] = []
        self.names: list[str] = []
        self._busy = set()

    def marker_for(self, model) -> str:
        if self.below.get(model):
            return self.below_mark
        return "" if self.own_county_rows else self.county_mark

    def classify(self, model, fk_values) -> bool:
        level = getattr(model, "scope_level", None)
        if level is not None:
            return level != RegionLevel.COUNTY
        if model is User:
            return True
        return any(self.below.get(type(v)) for v in fk_values if v is not None and not isinstance(v, Region))

    def region_for(self, model, field) -> Region:
        name = field.name
        scope_path = getattr(model, "scope_path", "")
        if scope_path == name:
            level = model.scope_level
            return {RegionLevel.COUNTY: self.county, RegionLevel.TOWNSHIP: self.township}.get(level, self.village)
        if "county" in name:
            return self.county
        if "township" in name or "town" in name:
            return self.township
        return self.village

    def plant_all(self):
        for model in project_models():
            self.plant(model)
        return self

    def plant(self, model):
        if model in self.rows:
            return self.rows[model]
        if model in self._busy or model in self.failed:
            return None
        self._busy.add(model)
        try:
            obj = self._create(model)
        except Exception as exc:  # recorded and reported: a model this walk could not plant
            self.failed[model] = f"{type(exc).__name__}: {exc}"[:200]
            obj = None
        finally:
            self._busy.discard(model)
        if obj is not None:
            self.rows[model] = obj
        return obj

    def _create(self, model):
        if model is User:
            user = User(
                pk=self.pk,
                username=f"{self.below_mark}user{self.pk}",
                first_name=f"{self.below_mark}协办员",
                role=Role.COLLECTOR,
                region=self.village,
            )
            user.set_unusable_password()
            with transaction.atomic():
                user.save()
            self.below[User] = True
            return user
        values, fk_values = {}, []
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            if f.is_relation and f.many_to_one or f.one_to_one:
                target = f.related_model
                if target is Region:
                    value = self.region_for(model, f)
                elif target is User or target._meta.app_label in PROJECT_APPS:
                    value = self.plant(target) if target is not model else None
                elif f.null:
                    value = None
                else:
                    raise LookupError(f"cannot fill {model.__name__}.{f.name}")
                if value is None and not f.null:
                    raise LookupError(f"no row for {model.__name__}.{f.name}")
                values[f.attname] = value.pk if value is not None else None
                fk_values.append(value)
        self.below[model] = self.classify(model, fk_values)
        mark = self.marker_for(model)
        for f in model._meta.concrete_fields:
            if f.primary_key or f.is_relation or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                continue
            value = self.value_for(model, f, mark)
            if value is not _DEFAULT:
                values[f.attname] = value
        obj = model(pk=self.pk, **values)
        with transaction.atomic():
            obj.save()
        if hasattr(obj, "id_number") and obj.id_number:
            self.id_numbers.append(obj.id_number)
        if model._meta.label == "enrollment.Person":
            self.names.append(obj.name)
        return obj

    def rank_by_level(self):
        """A ranking shows the townships compared within the county and the villages within each
        township: the planted entry (its village compared with itself) is regrouped under the
        township and the township gets an entry within the county, so a ranking read past the
        scope (``?county=``, ``?township=``) shows the planted regions' names."""
        entry_model = apps.get_model("reporting", "RankingEntry")
        entry = self.rows.get(entry_model)
        if entry is None:
            return self
        entry_model.objects.filter(pk=entry.pk).update(group=self.township, level=RegionLevel.VILLAGE)
        township_entry = entry_model.objects.get(pk=entry.pk)
        township_entry.pk, township_entry.region, township_entry.group = self.pk + 1000, self.township, self.county
        township_entry.level = RegionLevel.TOWNSHIP
        township_entry.save(force_insert=True)
        return self

    def correct_person(self):
        """The planted resident's ID number corrected against the ID card (birth date and all), so
        history pages have a before/after of both, and a second birth date to give away."""
        person = self.rows.get(Person)
        if person is None:
            return self
        born = date(1975, 3, 9)
        person.id_number = idcard.make(person.id_number[:6], born, (self.pk % 500) * 2 + 1)
        person.birth_date = born
        with transaction.atomic():
            person.save()
        self.id_numbers.append(person.id_number)
        return self

    def media_file(self) -> str:
        """A real (1×1 PNG) file under MEDIA_ROOT, so views serving uploads find it."""
        from django.core.files.storage import default_storage

        name = f"trust/{self.pk}.png"
        if not default_storage.exists(name):
            from django.core.files.base import ContentFile

            default_storage.save(name, ContentFile(PNG_1PX))
        return name

    def value_for(self, model, f, mark):
        name = f.name
        token = f"{mark}{model._meta.model_name[:8]}{name[:8]}{self.pk}"
        if name == "id_number":
            seq = (self.pk % 500) * 2 + 1
            return idcard.make(self.county.code if len(self.county.code) == 6 else "411325", date(1980, 5, 17), seq)
        if model._meta.label == "enrollment.Person":
            if name == "name":
                return f"{mark}人{self.pk}"
            if name == "sex":
                return "M"
            if name == "birth_date":
                return date(1980, 5, 17)
        required = not (f.has_default() or f.null or (f.blank and f.empty_strings_allowed))
        if f.choices:
            return f.flatchoices[0][0] if required else _DEFAULT
        if isinstance(f, (models.CharField, models.TextField)) and not isinstance(
            f, (models.EmailField, models.SlugField, models.URLField, models.GenericIPAddressField)
        ):
            if not f.max_length or f.max_length >= len(token):
                return token
            if required or f.unique:
                return (mark + str(self.pk))[-f.max_length:] if f.max_length >= len(mark) + 2 else str(self.pk)[-f.max_length:]
            return _DEFAULT
        if isinstance(f, models.FileField):
            return self.media_file()
        if not required:
            return _DEFAULT
        if isinstance(f, models.EmailField):
            return f"x{self.pk}@example.invalid"
        if isinstance(f, models.SlugField):
            return f"s{self.pk}"
        if isinstance(f, models.URLField):
            return "https://example.invalid/"
        if isinstance(f, models.GenericIPAddressField):
            return "127.0.0.1"
        if isinstance(f, models.BooleanField):
            return False
        if isinstance(f, models.DecimalField):
            return Decimal("1.00")
        if isinstance(f, models.FloatField):
            return 1.0
        if isinstance(f, (models.IntegerField,)):
            return 2025 if "year" in name else 1
        if isinstance(f, models.DateTimeField):
            return timezone.now()
        if isinstance(f, models.DateField):
            return date(2024, 10, 15)
        if isinstance(f, models.TimeField):
            return time(12, 0)
        if isinstance(f, models.DurationField):
            return timedelta(days=1)
        if isinstance(f, models.UUIDField):
            return uuid.uuid4()
        if isinstance(f, models.JSONField):
            return {}
        if isinstance(f, models.FileField):
            return self.media_file()
        if isinstance(f, models.BinaryField):
            return b""
        raise LookupError(f"no value for {model.__name__}.{name} ({type(f).__name__})")


_DEFAULT = object()


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201ad2a7e1c0000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The users fixture hashes nine passwords; PBKDF2 would spend seconds on it per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(users, regions, settings, tmp_path):
    """The users' county (fixture ``regions``), another county, and rows of every model in both
    the other county and the sibling township."""
    settings.MEDIA_ROOT = tmp_path / "media"
    other_county = Region.objects.create(level=RegionLevel.COUNTY, code="429001", name=f"{MARK_FOREIGN_COUNTY}县")
    other_town = Region.objects.create(level=RegionLevel.TOWNSHIP, code="429001101", name=f"{MARK_FOREIGN_COUNTY}镇", parent=other_county)
    other_village = Region.objects.create(
        pk=FOREIGN_PK, level=RegionLevel.VILLAGE, code="429001101001", name=f"{MARK_FOREIGN_COUNTY}村", parent=other_town
    )
    foreign = Planter(
        pk=FOREIGN_PK, county=other_county, township=other_town, village=other_village,
        below_mark=MARK_FOREIGN, county_mark=MARK_FOREIGN_COUNTY, own_county_rows=False,
    ).plant_all().rank_by_level().correct_person()
    sibling_village = Region.objects.create(
        pk=SIBLING_PK, level=RegionLevel.VILLAGE, code=regions["t2"].code + "901", name=f"{MARK_SIBLING}二村", parent=regions["t2"]
    )
    sibling = Planter(
        pk=SIBLING_PK, county=regions["county"], township=regions["t2"], village=sibling_village,
        below_mark=MARK_SIBLING, county_mark="", own_county_rows=True,
    ).plant_all().rank_by_level().correct_person()
    from rest_framework.authtoken.models import Token

    tokens = [Token.objects.create(user=foreign.rows[User]).key, Token.objects.create(user=sibling.rows[User]).key]
    return {"foreign": foreign, "sibling": sibling, "tokens": tokens}


# --- What a user must not see --------------------------------------------------------------------
def body_text(resp) -> str:
    content = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
    if content[:4] == b"PK\x03\x04":  # xlsx and other zip containers: read every member
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
        except zipfile.BadZipFile:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = content.decode("latin-1")
    if "json" in resp.get("Content-Type", ""):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def forbidden_for(world, *, township_level: bool, public: bool):
    """Strings that must not appear in a response to this user."""
    f, s = world["foreign"], world["sibling"]
    strings = [MARK_FOREIGN, *f.id_numbers, *f.names, *world["tokens"]]
    if not public:
        strings.append(MARK_FOREIGN_COUNTY)
    if township_level:
        strings += [MARK_SIBLING, *s.id_numbers, *s.names]
    return strings


# --- What a viewer without the full-ID right must not be able to rebuild ------------------------
# An 18-character ID standing alone (not inside a longer run of letters and digits, as in a token).
ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def birth_date_forms(born: date) -> set[str]:
    """Every way a page, an API or a spreadsheet writes a full birth date (month and day)."""
    y, m, d = born.year, born.month, born.day
    return {
        f"{y}-{m:02d}-{d:02d}", f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}/{m:02d}/{d:02d}",
        f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日", f"{y}{m:02d}{d:02d}", f"{y}.{m}.{d}", f"{y}.{m:02d}.{d:02d}",
    }


def disclosed_text(resp) -> str:
    """What a response discloses: its body (every cell of an xlsx workbook, dates written out as
    text; csv and JSON decoded) and the name it is downloaded under."""
    text = body_text(resp)
    content = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
    if content[:4] == b"PK\x03\x04":
        try:
            wb = load_workbook(io.BytesIO(content), read_only=True)
        except Exception:  # not a workbook: the zip members were read by body_text
            pass
        else:
            cells = []
            for ws in wb.worksheets:
                cells.append(ws.title)
                for row in ws.iter_rows(values_only=True):
                    cells += [v.isoformat() if hasattr(v, "isoformat") else str(v) for v in row if v is not None]
            wb.close()
            text += "\n" + "\n".join(cells)
    return text + "\n" + unquote(resp.get("Content-Disposition", ""))


def disclosure_problems(resp, persons) -> list[str]:
    """For a viewer without the full-ID right: every valid ID number in the response, and every
    masked ID shown together with its person's full birth date (the mask hides exactly the birth
    date, so the two together are the full number). ``persons``: (ID number, birth date) pairs."""
    text = disclosed_text(resp)
    found = []
    for number in sorted({m.upper() for m in ID_PATTERN.findall(text) if idcard.is_valid(m)}):
        at = text.upper().find(number)
        context = re.sub(r"\s+", " ", text[max(0, at - 80) : at + 40])
        found.append(f"full ID {number} in …{context}…")
    for number, born in persons:
        masked = idcard.mask(number)
        if masked in text:
            dates = sorted(f for f in birth_date_forms(born) if f in text)
            if dates:
                found.append(f"masked ID {masked} shown with its birth date {dates}")
    return found


def id_holders() -> set[tuple[str, date]]:
    """(ID number, birth date) of every resident in the database, as they are and as they were."""
    return {*Person.objects.values_list("id_number", "birth_date"), *Person.history.values_list("id_number", "birth_date")}


ROLES = {
    # role key in the ``users`` fixture: (is township level or below?)
    "bureau": False,
    "tax": False,
    "leader": False,
    "dept": False,
    "clerk": True,
    "collector": True,
    "nobody": True,
}


def pks_for(township_level: bool):
    """Township users get the other county's and the sibling township's rows; county users get the
    other county's and (to exercise the pages with data they may see) their own county's."""
    return (FOREIGN_PK, SIBLING_PK)


FILTER_PARAMS = ("village", "township", "county", "region", "household", "person", "enrollment", "village_id", "person_id")


def scoped_params(pk: int, name: str) -> str:
    """Filters pointing at the other region, and a search that would match its resident (without
    the marker, since pages echo the search term back)."""
    term = name[len(MARK_FOREIGN):] if name.startswith((MARK_FOREIGN, MARK_SIBLING)) else name
    qs = "&".join(f"{p}={pk}" for p in FILTER_PARAMS)
    return f"{qs}&q={term}&search={term}"


CODE_LEVELS = ("county", "township", "village")


CODE_PARAMS = ("region", *CODE_LEVELS)  # query parameters that take a region's official code


EVERY_PARAM = "*"  # recorded when a view reads the whole query dict (items(), dict(), copy()…)


def places_not_visible(world, *, township_level: bool) -> list[dict[str, str]]:
    """Region codes, by level, of each place whose data the user must not see: the other county,
    and for township users and below also the sibling township (with the users' own county as its
    county: they may not see the county's other townships either)."""
    planters = [world["foreign"]] + ([world["sibling"]] if township_level else [])
    return [{"county": p.county.code, "township": p.township.code, "village": p.village.code} for p in planters]


def all_codes_query(codes: dict[str, str]) -> str:
    """Every code-taking parameter aimed at one place at once (a township looked up within the
    county given, a village within the township given…)."""
    return "&".join([f"region={codes['village']}", *(f"{level}={codes[level]}" for level in CODE_LEVELS)])


def one_code_queries(codes: dict[str, str], param: str) -> list[str]:
    """One parameter alone (so a parameter that is checked cannot hide one that is not): ``region``
    at each level, ``county``/``township``/``village`` at their own."""
    return [f"{param}={codes[level]}" for level in (CODE_LEVELS if param == "region" else (param,))]


@pytest.fixture
def query_reads(monkeypatch):
    """The names of the query parameters views look at: ``QueryDict``'s readers are wrapped, and
    the test clears the set before each request. ``request.GET`` and DRF's ``query_params`` are
    the same object, django-filter and forms read through ``get``; reading the whole dict
    (``items()``, ``dict()``, iteration, ``copy()``) records ``EVERY_PARAM``. Reads while Django
    builds the dict from the query string are not the view's and are not recorded."""
    reads: set[str] = set()
    building = []

    def by_key(original):
        def reader(self, key, *args, **kwargs):
            if not building:
                reads.add(key)
            return original(self, key, *args, **kwargs)

        return reader

    def whole(original):
        def reader(self, *args, **kwargs):
            if not building:
                reads.add(EVERY_PARAM)
            return original(self, *args, **kwargs)

        return reader

    def init(original):
        def build(self, *args, **kwargs):
            building.append(True)
            try:
                original(self, *args, **kwargs)
            finally:
                building.pop()

        return build

    for method in ("get", "__getitem__", "getlist", "__contains__", "pop", "setdefault"):
        monkeypatch.setattr(QueryDict, method, by_key(getattr(QueryDict, method)))
    for method in ("items", "lists", "values", "keys", "dict", "__iter__", "__copy__", "__deepcopy__"):
        monkeypatch.setattr(QueryDict, method, whole(getattr(QueryDict, method)))
    monkeypatch.setattr(QueryDict, "__init__", init(QueryDict.__init__))
    return reads


# --- Snapshots of everything outside a user's region ----------------------------------------------
def snapshot(actor, world, *, township_level: bool) -> dict:
    planted = {FOREIGN_PK, SIBLING_PK} if township_level else {FOREIGN_PK}
    out = {}
    for model in [*project_models(), Region]:
        if model._meta.label in UNTRACKED:
            continue
        manager = model._base_manager
        visible = getattr(model.objects, "visible_to", None) or getattr(model.objects.all(), "visible_to", None)
        if model is Region:
            qs = manager.exclude(pk__in=Region.objects.visible_to(actor).values("pk"))
        elif hasattr(model, "scope_path") and visible is not None:
            qs = manager.exclude(pk__in=model.objects.visible_to(actor).values("pk"))
        elif model is User:
            qs = manager.filter(pk__in=planted)
        else:
            qs = manager.filter(pk__in=planted)
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in ("last_login",)]
        rows = list(qs.order_by("pk").values_list(*fields))
        out[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest() + f"/{len(rows)}"
    return out


def post_data(pk: int, name: str) -> dict:
    data = {p: pk for p in FILTER_PARAMS}
    data.update(
        {
            "id": pk, "pk": pk, "ids": [pk], "persons": [pk], "enrollments": [pk], "receipts": [pk],
            "receipt": pk, "policy": pk, "category": pk, "user": pk, "declaration": pk, "remittance": pk,
            "name": name, "reason": "越权测试", "note": "越权测试", "amount": "1.00", "confirm": "1",
            "action": "void", "decision": "approve", "status": "confirmed", "year": 2025, "tier": 1,
        }
    )
    return data


def request(client, method, url, data=None):
    if method == "get":
        return client.get(url, data or {})
    if method == "post":
        return client.post(url, data or {})
    return getattr(client, method)(url, data=json.dumps(data or {}), content_type="application/json")


def unsafe_sweep(client, user, world, *, pks, take_snapshot, skip=frozenset(), check_response=None):
    """POST to every route (and PUT/PATCH/DELETE to API routes with parameters), parameters
    filled with each of ``pks``. Returns (requests sent, problems).

    One snapshot before and one after the whole sweep keeps this fast; only when something
    changed is the sweep replayed from a savepoint with a snapshot after every route, so the
    failure names the route that changed it."""
    sid = transaction.savepoint()
    sent, problems, changed = _sweep(client, user, world, pks, take_snapshot, skip, check_response, per_route=False)
    if changed:
        transaction.savepoint_rollback(sid)
        _, problems, _ = _sweep(client, user, world, pks, take_snapshot, skip, check_response, per_route=True)
        if not any("changed" in p for p in problems):
            problems.append(f"the sweep changed {changed}, but no single route did when replayed")
    else:
        transaction.savepoint_commit(sid)
    return sent, problems


def _sweep(client, user, world, pks, take_snapshot, skip, check_response, *, per_route):
    problems, sent = [], 0
    before = take_snapshot()
    for route, name, pattern in walked_routes():
        if is_admin(route) or name in skip:
            continue  # non-staff users are redirected before any admin view runs (test_admin_is_staff_only)
        has_params = bool(pattern.pattern.regex.groupindex)
        methods = ["post"]
        if is_api(route) and has_params:
            methods += ["put", "patch", "delete"]
        for pk in pks:
            url = build_url(route, name, pattern, pk, world["foreign"].village.code)
            if url is None:
                continue
            planter = world["foreign"] if pk == FOREIGN_PK else world["sibling"]
            statuses = []
            for method in methods:
                if "_auth_user_id" not in client.session:
                    client.force_login(user)  # after logout or a password change
                sent += 1
                resp = request(client, method, url, post_data(pk, (planter.names or ["x"])[0]))
                statuses.append(f"{method.upper()}→{resp.status_code}")
                if resp.status_code >= 500:
                    problems.append(f"{method.upper()} {url} [{name}] → {resp.status_code}")
                if check_response is not None:
                    problems += check_response(route, name, method, url, resp)
            if per_route:
                after = take_snapshot()
                changed = [label for label in before if before[label] != after.get(label)]
                if changed:
                    problems.append(f"{' '.join(statuses)} {url} [{name}] changed {changed}")
                    before = after
            if not has_params:
                break
    changed = []
    if not per_route:
        after = take_snapshot()
        changed = [label for label in before if before[label] != after.get(label)]
    return sent, problems, changed
