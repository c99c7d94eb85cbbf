"""Writes of the reporting app: snapshots, rankings, notes, report records.

Figures come from GROUP BY aggregates per village (one query per figure family), rolled up to
townships and the county in memory over the region tree (hundreds of units, not residents),
and are stored with one bulk upsert.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.choices import RegionLevel
from core.formats import chinese_date
from core.models import Region
from core.scoping import ERR_OUT_OF_SCOPE, region_in_scope
from subsidies import seasons
from subsidies.models import PolicyYear
from subsidies.selectors import ERR_NO_POLICY, benefit_year, season_of, seasons_of

from . import metrics
from .figures import SNAPSHOT_FIELDS, cash_rows, region_tree, rolled_up_figures
from .models import COUNT_FIELDS, ProgressSnapshot, Ranking, RankingEntry, RankingKind, Report, ReportKind, WeeklyNote

ERR_NOT_TOWNSHIP = "周报说明只能由乡镇填报。"
ERR_NO_NOTE_RIGHT = "只有乡镇经办员可以填写本乡镇的周报说明。"
ERR_NO_RUN_RIGHT = "只有县医保局可以手动生成报表。"
ERR_NO_SEASON = "{county}在{day}没有进行中的征缴年度（请先设置征缴政策）。"
ERR_NOT_ENDED = "{year}年度征缴尚未结束（截至{end}），暂不能做最终考核。"

ZERO = Decimal("0.00")


def local_today() -> date:
    return timezone.localdate()


# --- Snapshots ---------------------------------------------------------------------------------------


@transaction.atomic
def snapshot_take(*, county: Region, day: date, year: int | None = None, quality: dict | None = None) -> int:
    """Store the figures of every unit of the county as of ``day``. Re-taking a day replaces
    its rows (idempotent). Returns the number of rows written."""
    year = year or benefit_year(county, day)
    figures = rolled_up_figures(county=county, year=year, day=day, quality=quality)
    objs = [
        ProgressSnapshot(region=row["region"], date=day, year=year, **{k: row[k] for k in SNAPSHOT_FIELDS if k != "year"})
        for row in figures.values()
    ]
    ProgressSnapshot.objects.bulk_create(
        objs,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["region", "date"],
        update_fields=[*SNAPSHOT_FIELDS, "taken_at"],
    )
    return len(objs)


# --- Reports: payloads are plain JSON ---------------------------------------------------------------


def snapshot_row(s: ProgressSnapshot) -> dict:
    return {
        "code": s.region.code,
        "name": s.region.name,
        "level": s.level,
        "parent": s.region.parent.code if s.region.parent_id and s.level != RegionLevel.COUNTY else "",
        "quota_base": s.quota_base,
        "quota_target": s.quota_target,
        "quota_from_roster": s.quota_from_roster,
        **{k: getattr(s, k) for k in COUNT_FIELDS},
        "money_collected": str(s.money_collected),
        "rate": _s(s.rate),
        "rate_target": _s(s.rate_target),
        "special_rate": _s(s.special_rate),
    }


def _s(value):
    return None if value is None else str(value)


def _report_upsert(*, county, kind, day, year, title, payload) -> Report:
    report, created = Report.objects.update_or_create(
        county=county, kind=kind, date=day, defaults={"year": year, "title": title, "payload": payload}
    )
    if not created:
        report.read_by.clear()  # a re-issued report is new again
    return report


@transaction.atomic
def daily_report_publish(*, county: Region, day: date) -> Report:
    """The daily progress report (每日进度通报) from the day's snapshots."""
    snaps = list(
        ProgressSnapshot.objects.filter(date=day, region__in=_county_regions(county))
        .select_related("region", "region__parent")
        .order_by("region__code")
    )
    if not snaps:
        snapshot_take(county=county, day=day)
        return daily_report_publish(county=county, day=day)
    year = snaps[0].year
    rows = [snapshot_row(s) for s in snaps]
    payload = {
        "county": next((r for r in rows if r["level"] == RegionLevel.COUNTY), None),
        "townships": _ranked_rows([r for r in rows if r["level"] == RegionLevel.TOWNSHIP]),
        "villages": [r for r in rows if r["level"] == RegionLevel.VILLAGE],
        "tie_break": metrics.TIE_BREAK_TEXT,
        "cash": cash_rows(county=county, day=day),
    }
    title = f"{county.name}{year}年度城乡居民医保征缴进度日报（{chinese_date(day)}）"
    return _report_upsert(county=county, kind=ReportKind.DAILY, day=day, year=year, title=title, payload=payload)


def _ranked_rows(rows: list[dict]) -> list[dict]:
    units = [metrics.Unit(code=r["code"], name=r["name"], confirmed=r["confirmed"], quota=r["quota_base"]) for r in rows]
    order = {u.code: u.rank for u in metrics.rank_units(units)}
    for r in rows:
        r["rank"] = order[r["code"]]
    return sorted(rows, key=lambda r: r["rank"])


def _county_regions(county: Region):
    return Region.objects.filter(Q(pk=county.pk) | Q(parent=county) | Q(parent__parent=county))


# --- Rankings ------------------------------------------------------------------------------------------


def _snapshots_as_of(*, region_ids, day: date, lookback_days: int = 31) -> dict[int, tuple[ProgressSnapshot, bool]]:
    """Each region's snapshot of ``day``, or — missing report — its latest earlier one (carried)."""
    region_ids = list(region_ids)
    current = {s.region_id: s for s in ProgressSnapshot.objects.filter(region_id__in=region_ids, date=day)}
    missing = [rid for rid in region_ids if rid not in current]
    previous = {}
    if missing:
        earlier = ProgressSnapshot.objects.filter(
            region_id__in=missing, date__lt=day, date__gte=day - timedelta(days=lookback_days)
        ).order_by("region_id", "-date")
        for s in earlier:
            previous.setdefault(s.region_id, s)
    for rid in missing:
        current[rid] = None
    return metrics.carry_forward(current, previous)


def _units(regions, snaps) -> list[metrics.Unit]:
    units = []
    for r in regions:
        if r.pk not in snaps:
            continue
        s, carried = snaps[r.pk]
        units.append(
            metrics.Unit(code=r.code, name=r.name, confirmed=s.confirmed, quota=s.quota_base, collected=s.collected, carried=carried)
        )
    return units


@transaction.atomic
def ranking_take(
    *, county: Region, day: date, kind: str = RankingKind.WEEKLY, policy: PolicyYear | None = None
) -> Ranking:
    """Rank the townships of a county, and the villages within each township, as of ``day``.
    Takes the day's snapshot first if the job has not yet done so. Idempotent per (county, day).
    ``policy``: the year to rank (the final assessment names it); else the season of ``day``."""
    policy = policy or season_of(county, day)
    bottom_size = policy.bottom_group_size if policy else 2
    interview_after = policy.interview_after_weeks if policy else 2
    if not ProgressSnapshot.objects.filter(region=county, date=day).exists():
        snapshot_take(county=county, day=day, year=policy.year if policy else None)
    _, townships, villages = region_tree(county)
    year = policy.year if policy else benefit_year(county, day)
    snaps = _snapshots_as_of(region_ids=[r.pk for r in (*townships, *villages)], day=day)

    earlier = list(
        Ranking.objects.filter(county=county, kind=RankingKind.WEEKLY, date__lt=day, year=year).order_by("-date")[
            : max(interview_after, 1)
        ]
    )
    earlier.reverse()  # oldest → newest
    prev_entries = defaultdict(dict)  # ranking id → region id → entry
    for e in RankingEntry.objects.filter(ranking__in=earlier).only("ranking_id", "region_id", "rank", "in_bottom", "group_id"):
        prev_entries[e.ranking_id][e.region_id] = e

    ranking, _ = Ranking.objects.update_or_create(county=county, date=day, kind=kind, defaults={"year": year})
    ranking.entries.all().delete()

    groups = [(county, RegionLevel.TOWNSHIP, townships)]
    by_town = defaultdict(list)
    for v in villages:
        by_town[v.parent_id].append(v)
    groups += [(t, RegionLevel.VILLAGE, by_town[t.pk]) for t in townships]
    code_to_region = {r.code: r for r in (*townships, *villages)}
    id_to_code = {r.pk: r.code for r in (*townships, *villages)}

    entries = []
    for group, level, members in groups:
        member_ids = {m.pk for m in members}
        last = prev_entries[earlier[-1].pk] if earlier else {}
        previous_ranks = {id_to_code[rid]: e.rank for rid, e in last.items() if rid in member_ids}
        previous_bottoms = [
            {id_to_code[rid] for rid, e in prev_entries[r.pk].items() if rid in member_ids and e.in_bottom}
            for r in earlier
        ]
        size = bottom_size if level == RegionLevel.TOWNSHIP else min(bottom_size, max(len(members) // 3, 1))
        ranked = metrics.weekly_ranking(
            _units(members, snaps),
            previous_ranks=previous_ranks,
            previous_bottoms=previous_bottoms if kind == RankingKind.WEEKLY else (),
            bottom_size=size if kind == RankingKind.WEEKLY else 0,
            interview_after=interview_after,
        )
        for r in ranked:
            entries.append(
                RankingEntry(
                    ranking=ranking,
                    region=code_to_region[r.code],
                    group=group,
                    level=level,
                    rank=r.rank,
                    confirmed=r.confirmed,
                    collected=r.collected,
                    quota=r.quota,
                    rate=r.rate,
                    previous_rank=r.previous_rank,
                    change=r.change,
                    in_bottom=r.in_bottom,
                    bottom_streak=r.bottom_streak,
                    interview=r.interview,
                    carried=r.carried,
                )
            )
    RankingEntry.objects.bulk_create(entries, batch_size=500)
    return ranking


def ranking_payload(ranking: Ranking) -> dict:
    entries = list(ranking.entries.select_related("region", "group").order_by("level", "group__code", "rank"))
    def row(e):
        return {
            "code": e.region.code,
            "name": e.region.name,
            "group": e.group.code,
            "rank": e.rank,
            "previous_rank": e.previous_rank,
            "change": e.change,
            "confirmed": e.confirmed,
            "collected": e.collected,
            "quota": e.quota,
            "rate": _s(e.rate),
            "in_bottom": e.in_bottom,
            "bottom_streak": e.bottom_streak,
            "interview": e.interview,
            "carried": e.carried,
        }
    villages = defaultdict(list)
    for e in entries:
        if e.level == RegionLevel.VILLAGE:
            villages[e.group.code].append(row(e))
    return {
        "tie_break": metrics.TIE_BREAK_TEXT,
        "townships": [row(e) for e in entries if e.level == RegionLevel.TOWNSHIP],
        "villages": dict(villages),
    }


@transaction.atomic
def weekly_report_publish(*, county: Region, day: date) -> Report:
    ranking = ranking_take(county=county, day=day)
    payload = ranking_payload(ranking)
    policy = season_of(county, day)
    payload["bottom_group_size"] = policy.bottom_group_size if policy else 2
    payload["interview_after_weeks"] = policy.interview_after_weeks if policy else 2
    title = f"{county.name}{ranking.year}年度城乡居民医保征缴周排名（{chinese_date(day)}）"
    return _report_upsert(county=county, kind=ReportKind.WEEKLY, day=day, year=ranking.year, title=title, payload=payload)


# --- Final assessment ----------------------------------------------------------------------------------


@transaction.atomic
def final_assessment_publish(*, county: Region, year: int, day: date | None = None) -> Report:
    """After the season: rank by rate, prize grades and amounts per the policy, work funds."""
    policy = PolicyYear.objects.get(county=county, year=year)
    end = seasons.season_end(policy)
    day = day or end
    if day < end and local_today() <= end:
        raise ValueError(ERR_NOT_ENDED.format(year=year, end=chinese_date(end)))
    ranking = ranking_take(county=county, day=day, kind=RankingKind.FINAL, policy=policy)
    payload = ranking_payload(ranking)
    townships = payload["townships"]
    grades = [metrics.Grade(rank=g.rank, name=g.name, count=g.count, amount=g.amount) for g in policy.prize_grades.all()]
    plan = metrics.allocate_prizes([t["code"] for t in townships], grades, pool=policy.prize_pool)
    awards = {a.code: a for a in plan.awards}
    funds_total = ZERO
    for t in townships:
        award = awards.get(t["code"])
        t["prize"] = award.grade if award else ""
        t["prize_amount"] = _s(award.amount) if award else None
        funds = metrics.work_funds(t["confirmed"], policy.work_fund_per_person)
        t["work_funds"] = _s(funds)
        funds_total += funds or ZERO
    payload.update(
        {
            "prize_pool": _s(plan.pool),
            "prize_split": plan.split,
            "prize_total": _s(plan.total),
            "prize_over_pool": plan.over_pool,
            "work_fund_per_person": _s(policy.work_fund_per_person),
            "work_funds_total": str(funds_total) if policy.work_fund_per_person is not None else None,
            "grades": [{"rank": g.rank, "name": g.name, "count": g.count, "amount": _s(g.amount)} for g in grades],
        }
    )
    title = f"{county.name}{year}年度城乡居民医保征缴工作考核结果"
    return _report_upsert(county=county, kind=ReportKind.FINAL, day=day, year=year, title=title, payload=payload)


# --- Weekly notes -------------------------------------------------------------------------------------


def note_date_for(township: Region, day: date) -> date:
    """The ranking day a note written on ``day`` is printed with."""
    county = township.county
    policy = season_of(county, day)
    if policy is None:
        return metrics.next_ranking_day(day, weekday=1, first=day)
    first = policy.weekly_reports_from or policy.window_start
    return metrics.next_ranking_day(day, weekday=policy.ranking_weekday, every_days=policy.ranking_every_days, first=first)


@transaction.atomic
def note_save(*, actor, township: Region, day: date, good_practices: str, problems: str, suggestions: str) -> WeeklyNote:
    if not actor.can("report.note"):
        raise PermissionDenied(ERR_NO_NOTE_RIGHT)
    if township.level != RegionLevel.TOWNSHIP:
        raise PermissionDenied(ERR_NOT_TOWNSHIP)
    own_township = actor.is_superuser or actor.region_id == township.pk
    if not own_township or not region_in_scope(actor, township):
        raise PermissionDenied(ERR_OUT_OF_SCOPE)
    note, _ = WeeklyNote.objects.get_or_create(township=township, date=day)
    note.good_practices, note.problems, note.suggestions = good_practices, problems, suggestions
    note.author = actor
    note.full_clean()
    note.save()
    return note


# --- Jobs run by hand ---------------------------------------------------------------------------------


def jobs_run(*, actor, county: Region, day: date, what: str) -> Report:
    """Bureau only: take a snapshot / publish a report now (same code as the scheduled jobs)."""
    if not actor.can("report.run"):
        raise PermissionDenied(ERR_NO_RUN_RIGHT)
    if not region_in_scope(actor, county):
        raise PermissionDenied(ERR_OUT_OF_SCOPE)
    if what == ReportKind.WEEKLY:
        return weekly_report_publish(county=county, day=day)
    if what == ReportKind.FINAL:
        # The season assessed on ``day``: the last one ended by then, else the day's own (which
        # final_assessment_publish refuses as not yet ended).
        policies = seasons_of(county)
        policy = seasons.last_ended(day + timedelta(days=1), policies) or seasons.season_on(day, policies)
        if policy is None:
            raise ValueError(ERR_NO_POLICY.format(county=county.name, year=benefit_year(county, day)))
        return final_assessment_publish(county=county, year=policy.year, day=day)
    snapshot_take(county=county, day=day)
    return daily_report_publish(county=county, day=day)
