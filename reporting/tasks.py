"""Scheduled jobs (config/celery.py beat). The `run_due_*` tasks run often and decide per county
whether a job is due under its policy; the job tasks receive ids and dates, load rows and call
services. Every job is idempotent: re-running a day replaces that day's rows."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from core.models import Region
from subsidies.seasons import season_end
from subsidies.selectors import season_of, seasons_last_ended, seasons_on

from . import current, metrics, services
from .models import ProgressSnapshot, Ranking, RankingKind, Report, ReportKind


@shared_task
def take_daily_snapshot(county_id: int, day: str) -> dict:
    """Snapshot every unit of a county as of ``day`` and publish the daily report when the
    policy has daily reports on that day."""
    county = Region.objects.get(pk=county_id)
    on = date.fromisoformat(day)
    rows = services.snapshot_take(county=county, day=on)
    policy = season_of(county, on)
    published = False
    if policy is None or policy.daily_reports_from is None or on >= policy.daily_reports_from:
        services.daily_report_publish(county=county, day=on)
        published = True
    return {"county": county.code, "date": day, "rows": rows, "report": published}


@shared_task
def take_weekly_ranking(county_id: int, day: str) -> dict:
    county = Region.objects.get(pk=county_id)
    report = services.weekly_report_publish(county=county, day=date.fromisoformat(day))
    return {"county": county.code, "date": day, "report": report.pk}


@shared_task
def take_final_assessment(county_id: int, year: int) -> dict:
    county = Region.objects.get(pk=county_id)
    report = services.final_assessment_publish(county=county, year=year)
    return {"county": county.code, "year": year, "report": report.pk}


@shared_task
def run_due_daily_snapshots() -> list:
    """Every 15 minutes: counties past their cut-off today without today's snapshot."""
    now = timezone.localtime()
    today = now.date()
    started = []
    for policy in seasons_on(today):
        taken = ProgressSnapshot.objects.filter(region_id=policy.county_id, date=today).exists()
        if metrics.daily_due(
            now, cutoff=policy.daily_cutoff, taken_today=taken, start=policy.window_start, end=season_end(policy)
        ):
            take_daily_snapshot.delay(policy.county_id, today.isoformat())
            started.append(policy.county.code)
    return started


@shared_task
def refresh_current_figures() -> dict:
    """Every minute: each county in season brings today's figures up to date (only the villages
    that changed are recomputed; reporting.current), so a county dashboard seldom has to."""
    today = timezone.localdate()
    return {policy.county.code: current.refresh(county=policy.county, year=policy.year, day=today) for policy in seasons_on(today)}


@shared_task
def run_due_weekly_rankings() -> list:
    """Hourly: the ranking on the county's ranking day (after the cut-off), and the final
    assessment once the season has ended."""
    now = timezone.localtime()
    today = now.date()
    started = []
    for policy in seasons_on(today):
        end = season_end(policy)
        first = policy.weekly_reports_from or policy.window_start
        if (
            today <= end
            and now.time() >= policy.daily_cutoff
            and metrics.is_ranking_day(today, weekday=policy.ranking_weekday, every_days=policy.ranking_every_days, first=first)
            and not Ranking.objects.filter(county_id=policy.county_id, date=today, kind=RankingKind.WEEKLY).exists()
        ):
            take_weekly_ranking.delay(policy.county_id, today.isoformat())
            started.append(f"{policy.county.code} weekly")
    # A season that has ended is no longer "the season" once the next one is set up; its final
    # assessment is still due.
    for policy in seasons_last_ended(today):
        if not Report.objects.filter(county_id=policy.county_id, kind=ReportKind.FINAL, year=policy.year).exists():
            take_final_assessment.delay(policy.county_id, policy.year)
            started.append(f"{policy.county.code} final")
    return started
