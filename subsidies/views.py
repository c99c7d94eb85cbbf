"""Pages: the public calculator, policy years (view, edit, copy, history)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import disclosure, history
from core.access import needs
from core.params import parse_year
from core.scoping import visible_or_404

from . import selectors, services, workdays
from .benefit import PaymentNotAccepted
from .forms import (
    CalendarDaysForm,
    CategoryForm,
    CopyPolicyForm,
    PhaseTargetFormSet,
    PolicyYearForm,
    PrizeGradeFormSet,
    QuoteForm,
    TierFormSet,
)
from .models import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

MSG_SAVED = "已保存{policy}。"
MSG_COPIED = "已按{old}年度复制出{new}年度政策，请逐项核对并修改。"
MSG_CATEGORY_SAVED = "已保存资助类别“{name}”。"
ERR_NO_VIEW = "您的角色不能查看此页面。"
ERR_BAD_DAY = "日期无法识别。"


# --- Public calculator ---------------------------------------------------------------------


def quote_page(request):
    """What do I owe / when does cover start: public, no personal data, no login."""
    policies = list(selectors.public_policies())
    form = QuoteForm(request.GET or None, policies=policies)
    result = error = None
    if request.GET and form.is_valid():
        d = form.cleaned_data
        tier = d.get("tier") or 1
        try:
            result = selectors.quote(
                county_code=d["county"], year=d["year"], tier=tier, categories=d["categories"], student=d["student"],
                paid_on=d["paid_on"], birth_date=d["birth_date"], registered_on=d["registered_on"],
                break_years=d["break_years"] or 0, backpaid_years=d["backpaid_years"] or 0, parent_insured=d["parent_insured"],
                cover_group=d["cover_group"], cover_group_since=d["cover_group_since"],
                continuous_years=d["continuous_years"], zero_claim_last_year=d["zero_claim_last_year"],
            )
        except selectors.PolicyMissing as exc:
            error = str(exc)
        except PaymentNotAccepted as exc:
            error = exc.message
    return render(request, "subsidies/quote.html", {"form": form, "result": result, "error": error, "policy": form.policy})


# --- Policy years --------------------------------------------------------------------------


@needs("report.view", "policy.edit", "identity.import", message=ERR_NO_VIEW)
def policy_list(request):
    policies = selectors.policies_visible_to(request.user).annotate(category_count=Count("categories"))
    return render(request, "subsidies/policy_list.html", {"policies": policies, "can_edit": request.user.can("policy.edit")})


def _policy(request, pk):
    return visible_or_404(request.user, PolicyYear.objects.select_related("county"), pk=pk)


@needs("report.view", "policy.edit", "identity.import", message=ERR_NO_VIEW)
def policy_detail(request, pk):
    policy = _policy(request, pk)
    tiers = list(policy.tiers.all())
    cats = policy.categories.prefetch_related(Prefetch("amounts", queryset=CategorySubsidy.objects.order_by("tier")))
    rows = []
    for c in cats:
        by_tier = {a.tier: a for a in c.amounts.all()}
        cells = []
        for t in tiers:
            a = by_tier.get(t.number)
            cells.append({"tier": t, "amount": a.amount if a else None, "percent": a.percent if a else None,
                          "self_pay": max(t.standard - a.amount, 0) if a else None})
        rows.append({"category": c, "cells": cells})
    return render(request, "subsidies/policy_detail.html", {
        "policy": policy, "tiers": tiers, "rows": rows,
        "phases": policy.phase_targets.all(), "prizes": policy.prize_grades.all(),
        "can_edit": request.user.can("policy.edit"), "copy_form": CopyPolicyForm(initial={"year": policy.year + 1}),
    })


@needs("policy.edit", message=ERR_NO_VIEW)
def policy_edit(request, pk):
    policy = _policy(request, pk)
    initial_tiers = [{"number": t.number, "name": t.name, "standard": t.standard, "student_standard": t.student_standard} for t in policy.tiers.all()]
    initial_phases = [{"name": p.name, "due": p.due, "rate": p.rate} for p in policy.phase_targets.all()]
    initial_prizes = [{"rank": g.rank, "name": g.name, "count": g.count, "amount": g.amount} for g in policy.prize_grades.all()]
    if request.method == "POST":
        form = PolicyYearForm(request.POST, instance=policy)
        tiers = TierFormSet(request.POST, prefix="tiers", initial=initial_tiers)
        phases = PhaseTargetFormSet(request.POST, prefix="phases", initial=initial_phases)
        prizes = PrizeGradeFormSet(request.POST, prefix="prizes", initial=initial_prizes)
        sets_given = "phases-TOTAL_FORMS" in request.POST
        if form.is_valid() and tiers.is_valid() and (not sets_given or (phases.is_valid() and prizes.is_valid())):
            tier_rows = [{**cd, "delete": cd.get("DELETE", False)} for cd in _rows(tiers, keep_deleted=True)]
            try:
                services.policy_update(
                    actor=request.user, policy=policy, fields=form.cleaned_data, tiers=tier_rows,
                    phases=_rows(phases) if sets_given else None, prizes=_rows(prizes) if sets_given else None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, MSG_SAVED.format(policy=policy))
                return redirect("subsidies:policy_detail", pk=policy.pk)
    else:
        form = PolicyYearForm(instance=policy)
        tiers = TierFormSet(prefix="tiers", initial=initial_tiers)
        phases = PhaseTargetFormSet(prefix="phases", initial=initial_phases)
        prizes = PrizeGradeFormSet(prefix="prizes", initial=initial_prizes)
    return render(request, "subsidies/policy_form.html", {
        "policy": policy, "form": form, "tiers": tiers, "formsets": [("阶段目标", phases), ("奖项（文件未写明的名额、金额留空）", prizes)],
    })


def _rows(formset, *, keep_deleted: bool = False) -> list[dict]:
    """Filled rows of a formset; rows marked for deletion are dropped unless ``keep_deleted``."""
    out = []
    for f in formset.forms:
        cd = getattr(f, "cleaned_data", None) or {}
        if not cd or (cd.get("DELETE") and not keep_deleted):
            continue
        out.append({k: v for k, v in cd.items() if k != "DELETE"} | ({"DELETE": True} if cd.get("DELETE") else {}))
    return out


@needs("policy.edit", message=ERR_NO_VIEW)
@require_POST
def policy_copy(request, pk):
    policy = _policy(request, pk)
    form = CopyPolicyForm(request.POST)
    if form.is_valid():
        try:
            new = services.policy_copy(actor=request.user, policy=policy, year=form.cleaned_data["year"])
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, MSG_COPIED.format(old=policy.year, new=new.year))
            return redirect("subsidies:policy_edit", pk=new.pk)
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
    return redirect("subsidies:policy_detail", pk=policy.pk)


def _changes(records):
    # Policies hold no ID numbers or birth dates: the masked disclosure shows every value as it is.
    return history.changes_of(records, shown=disclosure.MASKED)


@needs("report.view", "policy.edit", "identity.import", message=ERR_NO_VIEW)
def policy_history(request, pk):
    policy = _policy(request, pk)
    records = policy.history.select_related("history_user").order_by("-history_date", "-history_id")[:100]
    cat_records = (
        SubsidyCategory.history.filter(policy_id=policy.pk).select_related("history_user").order_by("-history_date")[:100]
    )
    amount_records = (
        CategorySubsidy.history.filter(category_id__in=list(policy.categories.values_list("pk", flat=True)))
        .select_related("history_user")
        .order_by("-history_date")[:200]
    )
    other_records = sorted(
        [*PhaseTarget.history.filter(policy_id=policy.pk).select_related("history_user")[:100],
         *PrizeGrade.history.filter(policy_id=policy.pk).select_related("history_user")[:100],
         *Tier.history.filter(policy_id=policy.pk).select_related("history_user")[:100]],
        key=lambda r: r.history_date, reverse=True,
    )
    return render(request, "subsidies/policy_history.html", {
        "policy": policy, "entries": _changes(records), "category_entries": _changes(cat_records),
        "amount_entries": _changes(amount_records), "other_entries": _changes(other_records),
    })


@needs("policy.edit", message=ERR_NO_VIEW)
def category_edit(request, pk, category_pk=None):
    policy = _policy(request, pk)
    category = visible_or_404(request.user, policy.categories.all(), pk=category_pk) if category_pk else None
    tiers = list(policy.tiers.all())
    form = CategoryForm(request.POST or None, instance=category or SubsidyCategory(policy=policy), tiers=tiers)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in CategoryForm.Meta.fields}
        try:
            cat = services.category_save(actor=request.user, policy=policy, category=category, fields=fields, amounts=form.amounts())
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for k, v in exc.error_dict.items():
                    form.add_error(k if k in form.fields else None, v)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, MSG_CATEGORY_SAVED.format(name=cat.name))
            return redirect("subsidies:policy_detail", pk=policy.pk)
    return render(request, "subsidies/category_form.html", {"policy": policy, "form": form, "category": category})


MSG_CALENDAR_SET = "已录入{n}天：{start:%Y年%-m月%-d日}{until}{what}。"
MSG_CALENDAR_REMOVED = "已删除{day:%Y年%-m月%-d日}的录入，改按内置日历。"


@needs("policy.edit", message=ERR_NO_VIEW)
def calendar_page(request):
    """The State Council's holiday schedule of a year, as the working-day counts use it (the
    bundled chinese-calendar, overridden by the days entered here): a bureau enters next year's
    as soon as it is published, without waiting for a software update."""
    year = parse_year(request.GET.get("year")) or timezone.localdate().year
    form = CalendarDaysForm(request.POST or None) if request.POST.get("step") == "set" else CalendarDaysForm()
    if request.method == "POST":
        if request.POST.get("step") == "remove":
            try:
                day = date.fromisoformat(request.POST.get("day", ""))
            except ValueError:
                messages.error(request, ERR_BAD_DAY)
            else:
                if services.calendar_day_remove(actor=request.user, day=day):
                    messages.success(request, MSG_CALENDAR_REMOVED.format(day=day))
            return redirect(f"{request.path}?year={year}")
        if form.is_valid():
            d = form.cleaned_data
            start, end = d["start"], d["end"] or d["start"]
            try:
                n = services.calendar_days_set(actor=request.user, start=start, end=end, is_workday=d["is_workday"], name=d["name"])
            except ValidationError as exc:
                for k, v in exc.message_dict.items():
                    form.add_error(k if k in form.fields else None, v)
            else:
                until = f"至{end:%Y年%-m月%-d日}" if end != start else ""
                messages.success(request, MSG_CALENDAR_SET.format(n=n, start=start, until=until, what="调休上班" if d["is_workday"] else "放假"))
                return redirect(f"{request.path}?year={start.year}")
    return render(request, "subsidies/calendar.html", {
        "year": year, "days": workdays.year_schedule(year), "known": workdays.library_knows(year), "form": form,
        "warnings": workdays.schedule_warnings([year]),
    })
