"""The season's figures, read: GROUP BY aggregates per village (one query per figure family),
rolled up to townships and the county in memory over the region tree (hundreds of units, not
residents). Snapshots store them at a day's close (services.snapshot_take); today's figures are
kept current by recomputing only the villages that changed (reporting.current).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum

from collections_app.cash.selectors import double_limit_for_queryset
from collections_app.models import Receipt
from core.choices import RegionLevel
from core.models import Region, RegionQuota
from enrollment.choices import NOT_MISSING_REASONS, PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment, Household, Person, PersonIdentity
from enrollment.selectors import gap_persons

from . import metrics
from .models import COUNT_FIELDS

ZERO = Decimal("0.00")
SNAPSHOT_FIELDS = (*COUNT_FIELDS, "money_collected", "quota_base", "quota_target", "quota_from_roster", "year", "level")


def _blank() -> dict:
    row = dict.fromkeys(COUNT_FIELDS, 0)
    row["money_collected"] = ZERO
    return row


def enrollment_conditions(day: date) -> dict[str, Q]:
    """Who counts as collected / declared / confirmed / refunded as of the close of ``day``.
    A refund before the day takes the person out again; undated rows count by their status."""
    alive = Q(refunded_on__isnull=True) | Q(refunded_on__gt=day)
    taken = ~Q(status__in=[EnrollmentStatus.PENDING, EnrollmentStatus.EXCLUDED])
    return {
        "collected": taken & alive & (Q(paid_on__lte=day) | Q(paid_on__isnull=True, status__in=PAID_STATUSES)),
        "declared": taken
        & alive
        & (
            Q(declared_on__lte=day)
            | Q(declared_on__isnull=True, status__in=[EnrollmentStatus.DECLARED, EnrollmentStatus.CONFIRMED])
        ),
        "confirmed": taken
        & alive
        & (Q(confirmed_on__lte=day) | Q(confirmed_on__isnull=True, status=EnrollmentStatus.CONFIRMED)),
        "refunded": Q(status=EnrollmentStatus.REFUNDED) & (Q(refunded_on__isnull=True) | Q(refunded_on__lte=day)),
    }


def village_figures(*, village_ids, year: int, day: date, quality: dict | None = None) -> dict[int, dict]:
    """Per-village figures as of ``day``: five GROUP BY queries, whatever the number of residents.
    ``quality`` (from ``quality_figures``) may be passed in when many days are taken at once."""
    village_ids = list(village_ids)
    out: dict[int, dict] = defaultdict(_blank)
    cond = enrollment_conditions(day)
    enrollments = Enrollment.objects.filter(year=year, village_id__in=village_ids)
    rows = enrollments.values("village_id").annotate(
        roster=Count("id"),
        excluded=Count("id", filter=Q(status=EnrollmentStatus.EXCLUDED)),
        collected=Count("id", filter=cond["collected"]),
        declared=Count("id", filter=cond["declared"]),
        confirmed=Count("id", filter=cond["confirmed"]),
        refunded=Count("id", filter=cond["refunded"]),
        money_collected=Sum("amount_due", filter=cond["collected"]),
    )
    for row in rows:
        vid = row.pop("village_id")
        row["money_collected"] = row["money_collected"] or ZERO
        out[vid].update(row)

    # Special groups (every subsidy identity marked is_special_group must reach 100 %), per person.
    special = special_persons(Person.objects.filter(household__village_id__in=village_ids), year=year)
    for row in special.values("household__village_id").annotate(n=Count("id")):
        out[row["household__village_id"]]["special_total"] = row["n"]
    for row in special.filter(Exists(confirmed_on(day, year=year))).values("household__village_id").annotate(n=Count("id")):
        out[row["household__village_id"]]["special_confirmed"] = row["n"]

    if quality is None:
        quality = quality_figures(village_ids=village_ids, year=year)
    for vid, row in quality.items():
        out[vid].update(row)
    return {vid: out[vid] for vid in village_ids}


def special_persons(persons, *, year: int):
    """The special-group members (重点人群) among ``persons`` who must be enrolled here for
    ``year``: living, certified in a special-group category, and not out of the scheme for a
    reason that means they are not missing (``NOT_MISSING_REASONS``: insured elsewhere …).
    One row per person, whatever the number of categories. The dashboards' 重点人群 figures and
    the 重点人群未入库 list both count these."""
    certified = PersonIdentity.objects.filter(person=OuterRef("pk"), year=year, category__is_special_group=True)
    away = Enrollment.objects.filter(
        person=OuterRef("pk"), year=year, status=EnrollmentStatus.EXCLUDED, exclusion_reason__in=NOT_MISSING_REASONS
    )
    return persons.filter(is_deceased=False).filter(Exists(certified)).filter(~Exists(away))


def confirmed_on(day: date, *, year: int):
    """A person's enrollment for ``year`` in treasury at the close of ``day`` (for Exists)."""
    return Enrollment.objects.filter(person=OuterRef("pk"), year=year).filter(enrollment_conditions(day)["confirmed"])


def quality_figures(*, village_ids, year: int) -> dict[int, dict]:
    """Data quality as it stands now (not dated): residents with neither an enrollment nor a
    reason, gaps (``enrollment.selectors.gap_persons``: the roster's 缺口 and the gap list) and
    households split between paid and pending members. Three GROUP BY queries."""
    village_ids = list(village_ids)
    out: dict[int, dict] = defaultdict(lambda: {"no_record": 0, "partial_households": 0, "gaps": 0, "gap_households": 0})
    for row in (
        gap_persons(Person.objects.filter(household__village_id__in=village_ids), year=year)
        .values("household__village_id")
        .annotate(n=Count("id"), h=Count("household_id", distinct=True))
    ):
        out[row["household__village_id"]].update(gaps=row["n"], gap_households=row["h"])
    any_enrollment = Enrollment.objects.filter(person=OuterRef("pk"), year=year)
    for row in (
        Person.objects.filter(household__village_id__in=village_ids, is_deceased=False)
        .filter(~Exists(any_enrollment))
        .values("household__village_id")
        .annotate(n=Count("id"))
    ):
        out[row["household__village_id"]]["no_record"] = row["n"]
    # A split household: someone paid, someone alive still pending (one GROUP BY … HAVING).
    split = (
        Enrollment.objects.filter(year=year, village_id__in=village_ids, person__is_deceased=False)
        .values("person__household_id")
        .annotate(
            n_paid=Count("id", filter=Q(status__in=PAID_STATUSES)),
            n_pending=Count("id", filter=Q(status=EnrollmentStatus.PENDING)),
        )
        .filter(n_paid__gt=0, n_pending__gt=0)
        .values("person__household_id")
    )
    for row in Household.objects.filter(pk__in=split).values("village_id").annotate(n=Count("id")):
        out[row["village_id"]]["partial_households"] = row["n"]
    return dict(out)


def region_tree(county: Region) -> tuple[list[Region], list[Region], list[Region]]:
    """(county, townships, villages) of one county, two queries."""
    townships = list(Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP).order_by("sort_order", "code"))
    villages = list(
        Region.objects.filter(parent__parent=county, level=RegionLevel.VILLAGE).order_by("parent_id", "sort_order", "code")
    )
    return [county], townships, villages


def quotas_for(*, regions, year: int) -> dict[int, RegionQuota]:
    return {q.region_id: q for q in RegionQuota.objects.filter(year=year, region__in=[r.pk for r in regions])}


def rolled_up_figures(
    *, county: Region, year: int, day: date, villages_only: list[Region] | None = None, quality: dict | None = None
) -> dict[int, dict]:
    """Figures for every unit of the county (or only some villages and their ancestors),
    keyed by region id, with quotas resolved (own quota, else children's sum, else the roster)."""
    counties, townships, villages = region_tree(county)
    if villages_only is not None:
        wanted = {v.pk for v in villages_only}
        villages = [v for v in villages if v.pk in wanted]
        town_ids = {v.parent_id for v in villages}
        townships = [t for t in townships if t.pk in town_ids]
    by_village = village_figures(village_ids=[v.pk for v in villages], year=year, day=day, quality=quality)
    return roll_up(tree=(counties, townships, villages), by_village=by_village, year=year)


def roll_up(*, tree: tuple[list[Region], list[Region], list[Region]], by_village: dict[int, dict], year: int) -> dict[int, dict]:
    """Village figures (``village_figures``' rows) summed up the tree (``region_tree``), each
    unit's quota resolved: the one roll-up of snapshots and of today's current figures."""
    counties, townships, villages = tree
    quotas = quotas_for(regions=[*counties, *townships, *villages], year=year)
    figures: dict[int, dict] = {}
    children: dict[int, list[int]] = defaultdict(list)
    for v in villages:
        row = {key: by_village[v.pk][key] for key in (*COUNT_FIELDS, "money_collected")}
        row.update(_quota_fields(quotas.get(v.pk), [], roster_fallback=row["roster"] - row["excluded"]))
        row["region"], row["level"] = v, RegionLevel.VILLAGE
        figures[v.pk] = row
        children[v.parent_id].append(v.pk)
    for parent_level, parents in ((RegionLevel.TOWNSHIP, townships), (RegionLevel.COUNTY, counties)):
        for p in parents:
            kids = [figures[k] for k in children.get(p.pk, [])]
            row = _blank()
            for kid in kids:
                for key in (*COUNT_FIELDS, "money_collected"):
                    row[key] += kid[key]
            row.update(_quota_fields(quotas.get(p.pk), kids, roster_fallback=None))
            row["region"], row["level"] = p, parent_level
            figures[p.pk] = row
            if p.parent_id:
                children[p.parent_id].append(p.pk)
    return figures


def _quota_fields(own: RegionQuota | None, kids: list[dict], *, roster_fallback: int | None) -> dict:
    base = metrics.resolve_quota(own.task if own else None, [k["quota_base"] for k in kids])
    target = metrics.resolve_quota(
        (own.target_task or own.task) if own else None, [k["quota_target"] for k in kids]
    )
    from_roster = bool(kids) and all(k["quota_from_roster"] for k in kids) and not (own and own.task)
    if base is None and roster_fallback:
        base, target, from_roster = roster_fallback, roster_fallback, True
    return {"quota_base": base, "quota_target": target or base, "quota_from_roster": from_roster}


def cash_rows(*, county: Region, day: date) -> list[dict]:
    """Each collector's unremitted cash at the close of ``day`` against the double limit (双限),
    breaches first, as plain JSON for the daily report."""
    rows = double_limit_for_queryset(Receipt.objects.filter(county=county), on=day)
    places = Region.objects.filter(pk__in=[r["region_id"] for r in rows]).select_related("parent").in_bulk()
    out = []
    for r in rows:
        place = places.get(r["region_id"])
        in_village = place is not None and place.level == RegionLevel.VILLAGE
        out.append(
            {
                "collector": r["collector"],
                "township": r["township"],
                "village": r["village"],
                "township_code": (place.parent.code if in_village else place.code) if place else "",
                "village_code": place.code if in_village else "",
                "amount": str(r["amount"]),
                "receipts": r["receipts"],
                "oldest": r["oldest"].isoformat() if r["oldest"] else None,
                "days_held": r["days_held"],
                "days_overdue": r["days_overdue"],
                "over_days": r["over_days"],
                "over_amount": r["over_amount"],
                "breached": r["breached"],
                "remit_days": r["remit_days"],
                "remit_amount": str(r["remit_amount"]),
            }
        )
    return out
