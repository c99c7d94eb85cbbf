"""Load the seed counties' policy years from fixtures/policies/*.json. Idempotent.

File format (one policy year per file, named ``<county code>-<year>.json``):

- every PolicyYear field by name (dates as ISO strings, money as strings), plus ``county``
  (region code), ``year``, ``source`` (which seed and document it was transcribed from) and
  ``notes`` (the seed's wording of what is not a field);
- ``tiers``: ``[{"number", "name", "standard", "student_standard"?}]``;
- ``categories``: ``[{"code", "name", "department", "department_label", "applies_to_all"?,
  "is_low_income"?, "amounts": {"<tier>": "80.00" | {"percent": "90"} | {"percent": "90", "amount": "360.00"}}}]``.
  A percentage is resolved to yuan against the tier's standard (to_money); when the seed
  states both, they must agree or loading fails;
- ``phase_targets``: ``[{"name", "due", "rate"}]``; ``prize_grades``: ``[{"rank", "name", "count", "amount"}]``.

Loading twice changes nothing; a category or tier removed from a file is removed from the
database only if nothing refers to it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.models import Region

from .calc import percent_of, to_money
from .models import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

POLICIES_DIR = Path(settings.BASE_DIR) / "fixtures" / "policies"

NESTED = {"county", "year", "tiers", "categories", "phase_targets", "prize_grades"}
ERR_PERCENT_MISMATCH = "{file}: {category} {tier}档 写明的金额 {amount} 与比例 {percent}% 算出的 {computed} 不一致。"


class PolicyFileError(ValueError):
    pass


def resolve_amount(spec, standard: Decimal, *, where: str = "", category: str = "", tier: int = 0) -> dict:
    """A category's amount spec for one tier → {"amount": Decimal, "percent": Decimal|None}."""
    if not isinstance(spec, dict):
        return {"amount": to_money(spec), "percent": None}
    percent = Decimal(str(spec["percent"])) if spec.get("percent") not in (None, "") else None
    amount = to_money(spec["amount"]) if spec.get("amount") not in (None, "") else None
    if percent is not None:
        computed = percent_of(standard, percent)
        if amount is not None and amount != computed:
            raise PolicyFileError(
                ERR_PERCENT_MISMATCH.format(file=where, category=category, tier=tier, amount=amount, percent=percent, computed=computed)
            )
        amount = computed
    return {"amount": amount, "percent": percent}


@transaction.atomic
def load_policy_data(data: dict, *, where: str = "") -> PolicyYear:

    county = Region.objects.get(code=data["county"])
    fields = {k: v for k, v in data.items() if k not in NESTED and not k.startswith("_")}
    policy = PolicyYear.objects.filter(county=county, year=data["year"]).first() or PolicyYear(county=county, year=data["year"])
    changed = policy.pk is None
    for k, v in fields.items():
        field = PolicyYear._meta.get_field(k)
        value = field.to_python(v) if v is not None else None
        if getattr(policy, k) != value:
            setattr(policy, k, value)
            changed = True
    if changed:
        policy.full_clean()
        policy.save()

    standards = {}
    for t in data.get("tiers", []):
        defaults = {"name": t["name"], "standard": to_money(t["standard"])}
        defaults["student_standard"] = to_money(t["student_standard"]) if t.get("student_standard") else None
        _upsert(Tier, {"policy": policy, "number": t["number"]}, defaults)
        standards[int(t["number"])] = defaults["standard"]

    keep_codes = []
    for order, c in enumerate(data.get("categories", []), 1):
        defaults = {"sort_order": order, **{k: v for k, v in c.items() if k not in {"code", "amounts"}}}
        cat = _upsert(SubsidyCategory, {"policy": policy, "code": c["code"]}, defaults)
        keep_codes.append(c["code"])
        keep_tiers = []
        for tier, spec in c.get("amounts", {}).items():
            tier = int(tier)
            resolved = resolve_amount(spec, standards[tier], where=where, category=c["name"], tier=tier)
            _upsert(CategorySubsidy, {"category": cat, "tier": tier}, resolved)
            keep_tiers.append(tier)
        CategorySubsidy.objects.filter(category=cat).exclude(tier__in=keep_tiers).delete()
    (
        SubsidyCategory.objects.filter(policy=policy)
        .exclude(code__in=keep_codes)
        .filter(identities__isnull=True)
        .delete()
    )

    wanted = [(p["name"], str(p["due"]), to_money(p["rate"])) for p in data.get("phase_targets", [])]
    have = [(p.name, p.due.isoformat(), p.rate) for p in policy.phase_targets.order_by("due", "pk")]
    if sorted(wanted, key=lambda w: w[1]) != have:
        PhaseTarget.objects.filter(policy=policy).delete()
        for name, due, rate in wanted:
            PhaseTarget.objects.create(policy=policy, name=name, due=due, rate=rate)
    ranks = []
    for g in data.get("prize_grades", []):
        amount = to_money(g["amount"]) if g.get("amount") is not None else None
        _upsert(PrizeGrade, {"policy": policy, "rank": g["rank"]}, {"name": g["name"], "count": g.get("count"), "amount": amount})
        ranks.append(g["rank"])
    PrizeGrade.objects.filter(policy=policy).exclude(rank__in=ranks).delete()
    return policy


def _upsert(model, keys: dict, defaults: dict):
    """update_or_create that writes (and so adds a history row) only when something changed."""
    obj = model.objects.filter(**keys).first()
    if obj is None:
        obj = model(**keys, **defaults)
        obj.save()
        return obj
    dirty = False
    for k, v in defaults.items():
        field = model._meta.get_field(k)
        value = field.to_python(v) if v is not None else None
        if getattr(obj, k) != value:
            setattr(obj, k, value)
            dirty = True
    if dirty:
        obj.save()
    return obj


def load_policies(directory: Path = POLICIES_DIR) -> dict:
    loaded = {}
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        policy = load_policy_data(data, where=path.name)
        loaded[f"{data['county']}/{data['year']}"] = policy.pk
    return loaded
