"""Today's figures, kept current: what every dashboard reads for today, at every level.

No request aggregates a county's residents. The figures of every unit are stored
(``CurrentFigures``) and a refresh recomputes only the villages whose residents changed since
the unit was last known current, then sums the tree again (``figures.roll_up``, the snapshots'
own roll-up). Which villages changed is read from the history every change writes: the
simple-history rows of enrollments, persons, households and identities (the rule that every
change keeps who/when/what is what makes this complete), read by their indexed time.

A refresh recomputes everything when the day turns or the year's rows do not exist yet, and
every ``CANBAO_FIGURES_FULL_EVERY`` seconds as a safety net for what a history row cannot point
at (a quota changed, a village moved, a transaction that committed long after its rows were
stamped: history times are taken at the write, not the commit, so a change is looked for from
``CANBAO_FIGURES_COMMIT_MARGIN`` seconds before the last refresh — a page's transaction lasts
well under that; an import's longer one is caught by the next full recompute).

A township's or a village's dashboard refreshes before it reads (a clerk sees the payment just
taken; ``CANBAO_FIGURES_LOCAL_MAX_AGE``); the county's refreshes once its figures are older than ``CANBAO_FIGURES_MAX_AGE``, and
the beat job (tasks.refresh_current_figures) refreshes every county every minute, so a county
page seldom pays for it. One refresh of a county runs at a time (a row lock on the county's
row, skipped by the others, who read what is stored).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.choices import RegionLevel
from core.models import Region
from enrollment.models import Enrollment, Household, Person, PersonIdentity

from . import metrics
from .figures import SNAPSHOT_FIELDS, region_tree, roll_up, rolled_up_figures, village_figures
from .models import COUNT_FIELDS, CurrentFigures

FIGURE_FIELDS = [f for f in SNAPSHOT_FIELDS if f != "year"]


def full_every() -> timedelta:
    return timedelta(seconds=settings.CANBAO_FIGURES_FULL_EVERY)


def commit_margin() -> timedelta:
    return timedelta(seconds=settings.CANBAO_FIGURES_COMMIT_MARGIN)


def max_age(region: Region) -> timedelta:
    """How old a unit's figures may be before a read refreshes them: the county's a minute (the
    beat job keeps them fresher), a township's or a village's none by default — a refresh that
    finds nothing changed is a few indexed queries, and the clerk's own entry must show at once."""
    if region.level == RegionLevel.COUNTY:
        return timedelta(seconds=settings.CANBAO_FIGURES_MAX_AGE)
    return timedelta(seconds=settings.CANBAO_FIGURES_LOCAL_MAX_AGE)


def figures_for(*, user, region: Region, ids: list[int], year: int, day: date) -> dict[int, CurrentFigures]:
    """The current figures of ``ids`` (``region`` and its children) the user may see, refreshed
    first when ``region``'s are older than ``max_age``."""
    county = region.county
    stored = CurrentFigures.objects.filter(region=region, year=year).values_list("taken_at", "date").first()
    now = timezone.now()
    if stored is None or stored[1] != day or stored[0] < now - max_age(region):
        refresh(county=county, year=year, day=day, region=region, now=now)
    rows = CurrentFigures.objects.visible_to(user).filter(region_id__in=ids, year=year).select_related("region")
    return {row.region_id: row for row in rows}


def refresh(*, county: Region, year: int, day: date, region: Region | None = None, now: datetime | None = None) -> str:
    """Bring the figures of ``region`` (default: the whole county) up to date as of ``day``.
    Returns what it did: "full", "changed" (some villages recomputed), "current" (nothing
    changed) or "busy" (another refresh of the county holds its row; it will be current)."""
    region = region or county
    now = now or timezone.now()
    with transaction.atomic():
        # SKIP LOCKED: a request never waits behind another county refresh, it reads what is stored.
        head = CurrentFigures.objects.select_for_update(skip_locked=True).filter(region=county, year=year).first()
        if head is None and CurrentFigures.objects.filter(region=county, year=year).exists():
            return "busy"
        if head is None or head.date != day or head.full_at is None or head.full_at < now - full_every():
            _write(county=county, year=year, day=day, figures=rolled_up_figures(county=county, year=year, day=day), now=now, full=True)
            return "full"
        return _refresh_changed(county=county, region=region, year=year, day=day, now=now)


def _refresh_changed(*, county: Region, region: Region, year: int, day: date, now: datetime) -> str:
    stored = {row.region_id: row for row in CurrentFigures.objects.filter(county=county, year=year)}
    tree = region_tree(county)
    inside = {v.pk for v in region_villages(region, tree)}
    own = stored.get(region.pk)
    since = (own.taken_at if own else now) - commit_margin()
    # A village without a row yet (new to the county) is computed wherever it is: the sums need it.
    changed = (changed_villages(since=since) & inside) | {v.pk for v in tree[2] if v.pk not in stored}
    if changed:
        by_village = {vid: {k: getattr(row, k) for k in (*COUNT_FIELDS, "money_collected")} for vid, row in stored.items()}
        by_village.update(village_figures(village_ids=sorted(changed), year=year, day=day))
        figures = roll_up(tree=tree, by_village=by_village, year=year)
        checked = _checked(region, tree)
        touched = checked | changed | {v.parent_id for v in tree[2] if v.pk in changed} | {county.pk}
        figures = {rid: row for rid, row in figures.items() if rid in touched}
        _write(county=county, year=year, day=day, figures=figures, now=now, full=False, checked=checked, stored=stored)
    else:
        CurrentFigures.objects.filter(region_id__in=_checked(region, tree), year=year).update(taken_at=now)
    return "changed" if changed else "current"


def region_villages(region: Region, tree) -> list[Region]:
    _, _, villages = tree
    if region.level == RegionLevel.VILLAGE:
        return [v for v in villages if v.pk == region.pk]
    if region.level == RegionLevel.TOWNSHIP:
        return [v for v in villages if v.parent_id == region.pk]
    return villages


def _checked(region: Region, tree) -> set[int]:
    """The units a refresh of ``region`` has verified: the region and every unit below it."""
    _, townships, villages = tree
    ids = {region.pk, *(v.pk for v in region_villages(region, tree))}
    if region.level == RegionLevel.COUNTY:
        ids.update(t.pk for t in townships)
    return ids


def _write(*, county, year, day, figures: dict[int, dict], now, full: bool, checked: set[int] | None = None, stored=None) -> None:
    """Store the units' figures. A full refresh verifies every unit; a partial one only the
    units it checked (``checked``): the others (the county above a township) take the new sums
    but keep the time they were last verified, so the county is never called current early."""
    objs = []
    for rid, row in figures.items():
        verified = full or rid in checked
        taken = now if verified or stored is None or rid not in stored else stored[rid].taken_at
        obj = CurrentFigures(region=row["region"], county=county, year=year, date=day, taken_at=taken, **{k: row[k] for k in FIGURE_FIELDS})
        obj.full_at = now if full else (stored[rid].full_at if stored and rid in stored else now)
        objs.append(obj)
    CurrentFigures.objects.bulk_create(
        objs,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["region", "year"],
        update_fields=[*FIGURE_FIELDS, "county", "date", "taken_at", "full_at"],
    )
    if full:  # a unit no longer in the county (moved, merged) must not linger in its sums' reader
        CurrentFigures.objects.filter(county=county, year=year).exclude(region_id__in=list(figures)).delete()


def changed_villages(*, since: datetime) -> set[int]:
    """Villages where an enrollment, a person, a household or an identity changed at or after
    ``since``, from their history rows (indexed by time: the work follows what changed, not
    the size of the tables)."""

    def changed(model, field: str) -> set:
        rows = model.history.model.objects.filter(history_date__gte=since).order_by().values_list(field, flat=True)
        return set(rows.distinct())

    villages = changed(Enrollment, "village_id") | changed(Household, "village_id")
    households = changed(Person, "household_id")
    persons = changed(PersonIdentity, "person_id")
    if persons:
        households |= set(Person.objects.filter(pk__in=persons).order_by().values_list("household_id", flat=True))
    if households:
        villages |= set(Household.objects.filter(pk__in=households).order_by().values_list("village_id", flat=True))
    villages.discard(None)
    return villages


def as_of_text(row: CurrentFigures, *, now: datetime) -> str:
    """截至今日 10:52（实时） when the unit was verified within the last minute, else the time
    and how often the figures are brought up to date."""
    taken = timezone.localtime(row.taken_at)
    if row.taken_at >= now - timedelta(seconds=60):
        return metrics.as_of_text(live=True, now=taken)
    return f"截至今日 {taken:%H:%M}（每分钟更新）"
