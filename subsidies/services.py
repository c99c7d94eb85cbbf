"""Writes: policy years (edit, copy to next year), categories."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.scoping import ensure_visible

from .calc import percent_of, to_money
from .models import CalendarDay, CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

ERR_NO_POLICY_EDIT = "只有县医保局工作人员可以修改征缴政策。"
ERR_YEAR_EXISTS = "{county}{year}年度政策已存在，请直接编辑。"
ERR_AMOUNT_OR_PERCENT = "请填写资助金额或资助比例。"
ERR_PERCENT_RANGE = "资助比例应在0–100之间。"


def require_policy_edit(actor) -> None:
    if not actor.can("policy.edit"):
        raise PermissionDenied(ERR_NO_POLICY_EDIT)


def shift_year(d: date | None, years: int = 1) -> date | None:
    """The same day ``years`` later; 29 February becomes 28 February."""
    if d is None:
        return None
    year = d.year + years
    return date(year, d.month, min(d.day, calendar.monthrange(year, d.month)[1]))


def resolve_percentages(policy: PolicyYear) -> int:
    """Re-resolve every percentage-based category amount against the current tier standards."""
    standards = {t.number: t.standard for t in policy.tiers.all()}
    changed = 0
    for cs in CategorySubsidy.objects.filter(category__policy=policy, percent__isnull=False):
        if cs.tier in standards:
            amount = percent_of(standards[cs.tier], cs.percent)
            if cs.amount != amount:
                cs.amount = amount
                cs.save(update_fields=["amount"])
                changed += 1
    return changed


@transaction.atomic
def policy_update(
    *, actor, policy: PolicyYear, fields: dict, tiers: list[dict] | None = None,
    phases: list[dict] | None = None, prizes: list[dict] | None = None,
) -> PolicyYear:
    """Save edited settings (tier standards, phase targets, prize grades when given); percentage
    subsidies follow the new standards. Lists given replace what was there."""
    require_policy_edit(actor)
    ensure_visible(actor, policy)
    for k, v in fields.items():
        setattr(policy, k, v)
    policy.full_clean()
    policy.save()
    for t in tiers or []:
        number = t["number"]
        tier = Tier.objects.filter(policy=policy, number=number).first() or Tier(policy=policy, number=number)
        if t.get("delete"):
            if tier.pk:
                CategorySubsidy.objects.filter(category__policy=policy, tier=number).delete()
                tier.delete()
            continue
        tier.name, tier.standard, tier.student_standard = t["name"], to_money(t["standard"]), t.get("student_standard")
        tier.full_clean()
        tier.save()
    if phases is not None:
        _replace(policy.phase_targets.all(), [(p["name"], p["due"], to_money(p["rate"])) for p in phases],
                 lambda o: (o.name, o.due, o.rate), lambda v: PhaseTarget(policy=policy, name=v[0], due=v[1], rate=v[2]))
    if prizes is not None:
        rows = [(g["rank"], g["name"], g.get("count"), to_money(g["amount"]) if g.get("amount") is not None else None) for g in prizes]
        _replace(policy.prize_grades.all(), rows, lambda o: (o.rank, o.name, o.count, o.amount),
                 lambda v: PrizeGrade(policy=policy, rank=v[0], name=v[1], count=v[2], amount=v[3]))
    resolve_percentages(policy)
    return policy


def _replace(existing, wanted: list, key, build) -> None:
    """Make the rows equal ``wanted`` (tuples); rows already equal are left alone (no history)."""
    have = {key(o): o for o in existing}
    for k, obj in have.items():
        if k not in wanted:
            obj.delete()
    for v in wanted:
        if v not in have:
            obj = build(v)
            obj.full_clean()
            obj.save()


@transaction.atomic
def policy_copy(*, actor, policy: PolicyYear, year: int | None = None) -> PolicyYear:
    """Open next year's policy as a copy of this one: every setting, tier, category and amount;
    dates moved by the same number of years. Identities are not copied (they are per year)."""
    require_policy_edit(actor)
    ensure_visible(actor, policy)
    year = year or policy.year + 1
    if PolicyYear.objects.filter(county=policy.county, year=year).exists():
        raise ValidationError({"year": ERR_YEAR_EXISTS.format(county=policy.county.name, year=year)})
    shift = year - policy.year
    new = PolicyYear.objects.get(pk=policy.pk)
    new.pk = new.id = None
    new._state.adding = True
    new.year = year
    for f in PolicyYear._meta.concrete_fields:
        if f.get_internal_type() == "DateField":
            setattr(new, f.name, shift_year(getattr(new, f.name), shift))
    new.title = policy.title.replace(str(policy.year), str(year)) if policy.title else ""
    new.source = f"复制自{policy.year}年度（{policy.source}）" if policy.source else f"复制自{policy.year}年度"
    new.full_clean()
    new.save()
    for t in policy.tiers.all():
        Tier.objects.create(policy=new, number=t.number, name=t.name, standard=t.standard, student_standard=t.student_standard)
    for c in policy.categories.prefetch_related("amounts"):
        amounts = list(c.amounts.all())
        c.pk = c.id = None
        c._state.adding = True
        c.policy = new
        c.save()
        for a in amounts:
            CategorySubsidy.objects.create(category=c, tier=a.tier, amount=a.amount, percent=a.percent)
    for p in policy.phase_targets.all():
        PhaseTarget.objects.create(policy=new, name=p.name, due=shift_year(p.due, shift), rate=p.rate)
    for g in policy.prize_grades.all():
        PrizeGrade.objects.create(policy=new, rank=g.rank, name=g.name, count=g.count, amount=g.amount)
    return new


@transaction.atomic
def category_save(*, actor, policy: PolicyYear, category: SubsidyCategory | None, fields: dict, amounts: dict) -> SubsidyCategory:
    """Create or edit a category; ``amounts`` maps tier → {"amount": Decimal|None, "percent": Decimal|None}
    (None for both removes that tier). A percentage is stored resolved to yuan."""
    require_policy_edit(actor)
    ensure_visible(actor, policy)
    category = category or SubsidyCategory(policy=policy)
    if category.pk and category.policy_id != policy.pk:
        raise PermissionDenied
    for k, v in fields.items():
        setattr(category, k, v)
    category.full_clean()
    category.save()
    standards = {t.number: t.standard for t in policy.tiers.all()}
    for tier, spec in amounts.items():
        amount, percent = spec.get("amount"), spec.get("percent")
        existing = CategorySubsidy.objects.filter(category=category, tier=tier).first()
        if amount is None and percent is None:
            if existing:
                existing.delete()
            continue
        if percent is not None:
            if not 0 <= percent <= 100:
                raise ValidationError({f"percent_{tier}": ERR_PERCENT_RANGE})
            amount = percent_of(standards[tier], percent)
        cs = existing or CategorySubsidy(category=category, tier=tier)
        cs.amount, cs.percent = to_money(amount), percent
        cs.full_clean()
        cs.save()
    return category


ERR_CALENDAR_RANGE = "结束日期不能早于开始日期。"
ERR_CALENDAR_LONG = "一次最多录入{days}天。"
CALENDAR_MAX_DAYS = 31


@transaction.atomic
def calendar_days_set(*, actor, start: date, end: date, is_workday: bool, name: str = "") -> int:
    """Enter the State Council's schedule for ``start``–``end`` (放假 or 调休上班), as soon as it
    is published: each day overrides the bundled calendar (``subsidies.workdays``). Kept with its
    history (who, when). Returns how many days were entered."""
    require_policy_edit(actor)
    if end < start:
        raise ValidationError({"end": ERR_CALENDAR_RANGE})
    if (end - start).days >= CALENDAR_MAX_DAYS:
        raise ValidationError({"end": ERR_CALENDAR_LONG.format(days=CALENDAR_MAX_DAYS)})
    day, n = start, 0
    while day <= end:
        CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": is_workday, "name": (name or "").strip()[:30]})
        day += timedelta(days=1)
        n += 1
    return n


@transaction.atomic
def calendar_day_remove(*, actor, day: date) -> bool:
    """Take an entered day out: the bundled calendar decides it again."""
    require_policy_edit(actor)
    row = CalendarDay.objects.filter(date=day).first()
    if row is None:
        return False
    row.delete()
    return True
