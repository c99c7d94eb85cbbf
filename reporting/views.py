"""Dashboards and report pages. Thin: selectors read, services write."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.access import needs
from core.choices import RegionLevel
from core.formats import chinese_date
from core.models import Region
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response
from subsidies.selectors import benefit_year

from . import metrics, reports, selectors, services
from .forms import NoteForm, RunForm
from .models import Report, ReportKind, WeeklyNote

ERR_NO_VIEW = "您没有查看进度报表的权限。"
ERR_BAD_DATE = "日期格式不正确，已显示今天的数据。"
MSG_NOTE_SAVED = "已保存{township}的周报说明，将随{day}的周排名一并印发。"
MSG_JOB_DONE = "已生成：{title}"


def _day(request, county) -> date:
    raw = request.GET.get("date")
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            messages.warning(request, ERR_BAD_DATE)
    return selectors.default_day(county)


@needs("report.view", message=ERR_NO_VIEW)
def dashboard(request):
    user = request.user
    region = selectors.region_for(user=user, code=request.GET.get("region"))
    county = region.county
    day = _day(request, county)
    policy = selectors.policy_for_day(county, day)
    year = policy.year if policy else benefit_year(county, day)
    prog = selectors.progress(user=user, region=region, day=day, year=year)
    phase = selectors.current_phase(policy, day)
    goal = phase["rate"] if phase else (policy.target_rate if policy else None)
    children_quota = sum(c.quota_base or 0 for c in prog["children"])
    own = prog["own"]
    if own is None or not children_quota or children_quota == own.quota_base:
        children_quota = None
    ranking, ranking_entries = (None, [])
    if region.level != RegionLevel.VILLAGE:
        ranking, ranking_entries = selectors.latest_ranking(user=user, county=county, day=day, group=region)
    households = None
    if region.level == RegionLevel.VILLAGE:
        households = Paginator(selectors.households_with_gaps(user=user, village=region, year=year), 30).get_page(
            request.GET.get("page")
        )
    trend = selectors.trend(user=user, region=region, year=year, until=day)
    chart = {
        **trend,
        "phase": float(phase["rate"]) if phase else None,
        "phase_name": phase["name"] if phase else "",
        "target": float(policy.target_rate) if policy and policy.target_rate else None,
    }
    unread = selectors.unread_reports(user=user, county=county)
    context = {
        "region": region,
        "crumbs": selectors.ancestors(region)[:-1],
        "day": day,
        "today": services.local_today(),
        "year": year,
        "policy": policy,
        "own": own,
        "children_quota": children_quota,
        "children_quota_rate": metrics.rate(own.confirmed, children_quota) if children_quota else None,
        "children": selectors.behind(prog["children"], goal=goal),
        "goal": goal,
        "source": prog["source"],
        "as_of": prog["as_of"],
        "phase": phase,
        "phase_rate": phase["rate"] if phase else None,
        "ranking": ranking,
        "ranking_entries": ranking_entries,
        "cash": selectors.cash_alerts(user=user, region=region, day=day),
        "unread": list(unread[:3]),
        "unread_count": unread.count(),
        "households": households,
        "chart": chart,
        "child_label": {"county": "乡镇", "township": "村（社区）"}.get(region.level, ""),
        "can_run": user.can("report.run"),
        "can_note": user.can("report.note") and region.level == RegionLevel.TOWNSHIP and user.region_id == region.pk,
    }
    return render(request, "reporting/dashboard.html", context)


@needs("report.view", message=ERR_NO_VIEW)
def special_missing(request):
    user = request.user
    region = selectors.region_for(user=user, code=request.GET.get("region"))
    day = selectors.default_day(region.county)
    policy = selectors.policy_for_day(region.county, day)
    year = policy.year if policy else benefit_year(region.county, day)
    rows = selectors.special_missing(user=user, region=region, year=year, day=day)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "reporting/special_missing.html", {"region": region, "page": page, "year": year})


@needs("report.view", message=ERR_NO_VIEW)
def report_list(request):
    user = request.user
    qs = Report.objects.visible_to(user).select_related("county").order_by("-date", "kind")
    kind = request.GET.get("kind")
    if kind in ReportKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    new = selectors.new_reports(user=user, county=user.county)  # not every report never opened
    for r in page:
        r.is_new = r.pk in new
    return render(
        request,
        "reporting/report_list.html",
        {"page": page, "kinds": ReportKind.choices, "kind": kind, "run_form": RunForm(initial={"day": services.local_today()}) if user.can("report.run") else None},
    )


@needs("report.view", message=ERR_NO_VIEW)
def report_detail(request, pk):
    user = request.user
    report = visible_or_404(user, Report.objects.select_related("county"), pk=pk)
    report.read_by.add(user)
    payload = reports.scoped_payload(user, report)
    notes = selectors.report_notes(user=user, report=report)
    for t in payload.get("townships", []):
        t["note"] = notes.get(t["code"]) if notes is not None else None
    names = {t["code"]: t["name"] for t in payload.get("townships", [])}
    village_groups = []
    villages = payload.get("villages")
    if isinstance(villages, dict):
        village_groups = [(names.get(code, code), rows) for code, rows in villages.items()]
    elif isinstance(villages, list):
        grouped = {}
        for v in villages:
            grouped.setdefault(v.get("parent"), []).append(v)
        village_groups = [(names.get(code, code), rows) for code, rows in grouped.items()]
    return render(
        request,
        reports.REGISTRY[report.kind].template,
        {"report": report, "payload": payload, "village_groups": village_groups},
    )


@needs("report.view", message=ERR_NO_VIEW)
def report_xlsx(request, pk):
    user = request.user
    report = visible_or_404(user, Report.objects.select_related("county"), pk=pk)
    return xlsx_response(reports.workbook_for_reader(actor=user, report=report), f"{report.title}.xlsx")


@login_required
def note_edit(request):
    user = request.user
    if not user.can("report.note") or not user.region_id or user.region.level != RegionLevel.TOWNSHIP:
        raise PermissionDenied(services.ERR_NO_NOTE_RIGHT)
    township = user.region
    day = services.note_date_for(township, services.local_today())
    note = WeeklyNote.objects.filter(township=township, date=day).first()
    form = NoteForm(request.POST or None, instance=note)
    if request.method == "POST" and form.is_valid():
        services.note_save(actor=user, township=township, day=day, **form.cleaned_data)
        messages.success(request, MSG_NOTE_SAVED.format(township=township.name, day=chinese_date(day)))
        return redirect(f"{reverse('reporting:dashboard')}?region={township.code}")
    earlier = WeeklyNote.objects.visible_to(user).filter(township=township).exclude(date=day).order_by("-date")[:10]
    return render(request, "reporting/note_form.html", {"form": form, "township": township, "day": day, "earlier": earlier})


@needs("report.run", message=services.ERR_NO_RUN_RIGHT)
@require_POST
def run_job(request):
    user = request.user
    form = RunForm(request.POST)
    county = user.county if user.region_id else Region.objects.filter(code=request.POST.get("county")).first()
    if not form.is_valid() or county is None:
        messages.error(request, "请选择要生成的报表和日期。")
        return redirect("reporting:report_list")
    try:
        report = services.jobs_run(actor=user, county=county, day=form.cleaned_data["day"], what=form.cleaned_data["what"])
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("reporting:report_list")
    messages.success(request, MSG_JOB_DONE.format(title=report.title))
    return redirect("reporting:report_detail", pk=report.pk)
