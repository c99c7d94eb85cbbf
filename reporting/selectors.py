"""Reads of the reporting app. Everything goes through ``visible_to(user)``; dashboards read
stored snapshots (one query per panel), computing live aggregates only for today before the
day's snapshot exists."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from collections_app.cash.selectors import cash_on_hand_by_collector
from core.choices import RegionLevel
from core.models import Region
from enrollment.models import Enrollment, Household, Person, PersonIdentity
from enrollment.selectors import gap_households
from subsidies.models import PhaseTarget, PolicyYear
from subsidies.seasons import season_end
from subsidies.selectors import benefit_year, season_of

from . import current, figures, metrics, services
from .models import ProgressSnapshot, Ranking, RankingEntry, RankingKind, Report, ReportKind, WeeklyNote


def region_for(*, user, code: str | None) -> Region:
    """The region a page shows: ``code`` if the user may see it (404 otherwise), else the user's own."""
    visible = Region.objects.visible_to(user).select_related("parent", "parent__parent")
    if code:
        return get_object_or_404(visible, code=code)
    if user.region_id:
        return get_object_or_404(visible, pk=user.region_id)
    return get_object_or_404(visible.filter(level=RegionLevel.COUNTY).order_by("sort_order", "code")[:1])


def county_for(*, user, code: str | None = None) -> Region:
    """The county whose ranking a user reads: ``code`` if it is the user's own county (a township
    or village reads its county's ranking) or inside their scope — another county's code answers
    the same 404 as a code that does not exist; without a code the user's own county."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    if code:
        own = user.county.pk if user.region_id else None
        return get_object_or_404(counties.filter(Q(pk=own) | Q(pk__in=Region.objects.visible_to(user))), code=code)
    if user.region_id:
        return user.county
    return get_object_or_404(counties.filter(pk__in=Region.objects.visible_to(user)).order_by("code")[:1])


def ancestors(region: Region) -> list[Region]:
    chain, node = [], region
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def children_of(region: Region):
    return Region.objects.filter(parent=region).order_by("sort_order", "code")


def policy_for_day(county: Region, day: date) -> PolicyYear | None:
    return season_of(county, day)


def default_day(county: Region) -> date:
    """Today during a season; after it has ended, its last day (the final figures)."""
    today = services.local_today()
    policy = season_of(county, today)
    return min(today, season_end(policy)) if policy else today


def progress(*, user, region: Region, day: date, year: int, today: date | None = None) -> dict:
    """The region's and its children's figures on ``day``, all from one source, and what that
    source is (``as_of``: the text every card of these figures carries).

    Today, at every level: the figures kept current (``reporting.current``: refreshed from what
    changed, never a county-wide aggregate per request). A past day: the day's stored snapshot;
    without one (a day the job missed) each unit's latest earlier snapshot, carried forward and
    flagged."""
    today = today or services.local_today()
    ids = [region.pk, *children_of(region).values_list("pk", flat=True)]
    carried: set[int] = set()
    if day >= today:
        # A future date reads today's figures: they are the latest there are (and a date typed
        # into the address bar must not make the county recompute as of another day).
        rows: dict = current.figures_for(user=user, region=region, ids=ids, year=year, day=today)
        source = "current"
    else:
        rows = {
            s.region_id: s
            for s in ProgressSnapshot.objects.visible_to(user).filter(region_id__in=ids, date=day).select_related("region")
        }
        if region.pk not in rows:
            rows, carried = _last_snapshots(user=user, region=region, ids=ids, day=day, year=year)
    own = rows.get(region.pk)
    children = [rows[rid] for rid in ids[1:] if rid in rows]
    for s in children:
        s.carried = s.region_id in carried
    if day < today:
        source = "none" if own is None else ("carried" if own.date != day else "snapshot")
    return {"own": own, "children": children, "source": source, "as_of": as_of(own, is_current=source == "current")}


def _last_snapshots(*, user, region: Region, ids: list[int], day: date, year: int) -> tuple[dict, set[int]]:
    """The region's latest snapshot of the year before ``day`` and its children's of that date
    (two indexed queries); a child missing there is carried from its own latest (flagged)."""
    visible = ProgressSnapshot.objects.visible_to(user).filter(year=year, date__lt=day)
    last = visible.filter(region=region).order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return {}, set()
    rows = {s.region_id: s for s in visible.filter(region_id__in=ids, date=last).select_related("region")}
    missing = [rid for rid in ids if rid not in rows]
    earlier = services._snapshots_as_of(region_ids=missing, day=last, lookback_days=31) if missing else {}
    rows.update({rid: s for rid, (s, c) in earlier.items()})
    return rows, set(earlier)


def as_of(own, *, is_current: bool) -> str:
    """The time a card of figures holds, in the county's time zone."""
    if own is None:
        return ""
    now = timezone.localtime()
    if is_current:
        return current.as_of_text(own, now=now)
    taken = timezone.localtime(own.taken_at) if own.taken_at else None
    return metrics.as_of_text(live=False, now=now, day=own.date, taken_at=taken)


def behind(children: list[ProgressSnapshot], *, goal: Decimal | None) -> list[ProgressSnapshot]:
    """Child units, the furthest behind first (lowest rate; no quota last), each with ``short``:
    the persons it lacks to reach ``goal`` % (the phase target, else the year's target)."""
    for s in children:
        s.short = metrics.short_of(s.confirmed, s.quota_base, goal)
    return sorted(children, key=lambda s: (s.rate is None, s.rate if s.rate is not None else 0, s.region.sort_order, s.region.code))


def trend(*, user, region: Region, year: int, until: date) -> dict:
    """Daily series of the region (rates against quota) and of each child unit (confirmed rate)."""
    own = list(
        ProgressSnapshot.objects.visible_to(user)
        .filter(region=region, year=year, date__lte=until)
        .order_by("date")
        .values("date", "confirmed", "collected", "declared", "quota_base", "quota_target")
    )
    kids = (
        ProgressSnapshot.objects.visible_to(user)
        .filter(region__parent=region, year=year, date__lte=until)
        .order_by("region__sort_order", "region__code", "date")
        .values("region__name", "date", "confirmed", "quota_base")
    )
    dates = [r["date"].isoformat() for r in own]
    index = {d: i for i, d in enumerate(dates)}
    by_child = defaultdict(lambda: [None] * len(dates))
    for r in kids:
        i = index.get(r["date"].isoformat())
        if i is not None:
            by_child[r["region__name"]][i] = _float(metrics.rate(r["confirmed"], r["quota_base"]))

    def series(key):
        return [_float(metrics.rate(r[key], r["quota_base"])) for r in own]

    return {
        "dates": dates,
        "confirmed_rate": series("confirmed"),
        "collected_rate": series("collected"),
        "declared_rate": series("declared"),
        "confirmed": [r["confirmed"] for r in own],
        "children": [{"name": name, "data": data} for name, data in by_child.items()],
    }


def _float(value: Decimal | None):
    # Chart coordinates only (never money): ECharts wants plain numbers.
    return None if value is None else float(value)


def phase_targets(policy: PolicyYear | None) -> list[PhaseTarget]:
    return list(policy.phase_targets.all()) if policy else []


def current_phase(policy: PolicyYear | None, day: date):
    phases = phase_targets(policy)
    found = metrics.phase_target(day, [(p.due, p.rate, p.name) for p in phases])
    if found is None:
        return None
    return {"due": found[0], "rate": found[1], "name": found[2]}


def latest_ranking(*, user, county: Region, day: date, group: Region) -> tuple[Ranking | None, list[RankingEntry]]:
    """The last weekly ranking on or before ``day`` and its entries for units compared in ``group``."""
    ranking = (
        Ranking.objects.visible_to(user).filter(county=county, date__lte=day, kind=RankingKind.WEEKLY).order_by("-date").first()
    )
    if ranking is None:
        return None, []
    entries = list(
        RankingEntry.objects.visible_to(user).filter(ranking=ranking, group=group).select_related("region").order_by("rank")
    )
    return ranking, entries


def cash_alerts(*, user, region: Region, day: date) -> dict:
    """Unremitted cash and double-limit breaches of collectors inside ``region``."""
    inside = set(Region.objects.filter(Q(pk=region.pk) | Q(parent=region) | Q(parent__parent=region)).values_list("pk", flat=True))
    rows = [r for r in cash_on_hand_by_collector(user=user, county=region.county, on=day) if r.get("region_id") in inside]
    return {
        "available": True,
        "rows": rows,
        "breaches": [r for r in rows if r.get("breached")],
        "total": sum((r["amount"] for r in rows), Decimal("0.00")),
    }


NEW_REPORT_DAYS = 7  # a report older than a week is history, not news, even if never opened


def unread_reports(*, user, county: Region | None, today: date | None = None):
    """The county's reports of the last week the user has not opened yet (the dashboard notice)."""
    if county is None:
        return Report.objects.none()
    since = (today or services.local_today()) - timedelta(days=NEW_REPORT_DAYS)
    return (
        Report.objects.visible_to(user)
        .filter(county=county, date__gt=since)
        .exclude(read_by=user)
        .order_by("-date", "-created_at")
    )


def new_reports(*, user, county: Region | None, today: date | None = None) -> set[int]:
    """The reports marked 新 on the report list: of ``unread_reports``, only the newest of each kind —
    yesterday's daily report is not news once today's is out (every report was 新 before)."""
    newest: dict[str, tuple] = {}
    for pk, kind, day in unread_reports(user=user, county=county, today=today).values_list("pk", "kind", "date"):
        if kind not in newest or day > newest[kind][1]:
            newest[kind] = (pk, day)
    return {pk for pk, _ in newest.values()}


def special_missing(*, user, region: Region, year: int, day: date):
    """Special-group members (重点人群, ``figures.special_persons``) in ``region`` not in treasury
    at the close of ``day``: one row per person, their categories in ``special_categories``,
    their township and village selected — the persons the dashboard's 缺 N 人 counts."""
    categories = PersonIdentity.objects.filter(year=year, category__is_special_group=True).select_related("category")
    persons = Person.objects.visible_to(user).filter(household__village__in=region.villages())
    return (
        figures.special_persons(persons, year=year)
        .filter(~Exists(figures.confirmed_on(day, year=year)))
        .select_related("household", "household__village", "household__village__parent")
        .prefetch_related(
            Prefetch("identities", queryset=categories.order_by("category__sort_order", "category__code"), to_attr="special_categories"),
            Prefetch("enrollments", queryset=Enrollment.objects.filter(year=year), to_attr="this_year"),
        )
        .order_by("household__village__parent__sort_order", "household__village__parent__code", "household__village__code", "household__number", "id")
    )


def households_with_gaps(*, user, village: Region, year: int):
    """Households of a village with a gap: the roster's rule (enrollment.rules.is_gap)."""
    members = Prefetch(
        "members",
        queryset=Person.objects.order_by("id").prefetch_related(
            Prefetch("enrollments", queryset=Enrollment.objects.filter(year=year), to_attr="this_year")
        ),
    )
    return (
        Household.objects.visible_to(user)
        .filter(village=village)
        .filter(pk__in=gap_households(village=village, year=year))
        .prefetch_related(members)
        .order_by("number")
    )


def notes_for(*, user, county: Region, day: date) -> dict[int, WeeklyNote]:
    """Township notes printed with the ranking of ``day`` (all of them for county users)."""
    qs = WeeklyNote.objects.filter(township__parent=county, date=day).select_related("author", "township")
    if not (user.is_superuser or (user.region_id and user.region.level == RegionLevel.COUNTY)):
        qs = qs.visible_to(user)
    return {n.township_id: n for n in qs}


def report_notes(*, user, report: Report) -> dict[str, WeeklyNote] | None:
    """A weekly report's township notes the user may read, by township code (None: not weekly)."""
    if report.kind != ReportKind.WEEKLY:
        return None
    return {note.township.code: note for note in notes_for(user=user, county=report.county, day=report.date).values()}


def at_a_glance(*, user) -> dict | None:
    """What the home page shows a user about their own region today: the season's progress
    (the same figures as the dashboard) and cash waiting to be remitted. None for users who
    may not read progress or have no region."""
    if not user.region_id or not user.can("report.view"):
        return None
    region = region_for(user=user, code=None)
    county = region.county
    day = default_day(county)
    policy = policy_for_day(county, day)
    year = policy.year if policy else benefit_year(county, day)
    # The dashboard's own figures and source (the home page is opened far more often than the
    # dashboard: both read the figures kept current, never an aggregate per request).
    prog = progress(user=user, region=region, day=day, year=year)
    return {
        "region": region,
        "day": day,
        "year": year,
        "policy": policy,
        "own": prog["own"],
        "as_of": prog["as_of"],
        "cash": cash_alerts(user=user, region=region, day=day),
    }
