"""Load the seed counties' policy years from fixtures/policies/*.json. Idempotent.

(The subsidies work fills in the files; this loader reads whatever is there.)
"""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

POLICIES_DIR = Path(settings.BASE_DIR) / "fixtures" / "policies"


@transaction.atomic
def load_policies(directory: Path = POLICIES_DIR) -> dict:
    from enrollment.models import Region

    from .models import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

    loaded = {}
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        county = Region.objects.get(code=data["county"])
        fields = {k: v for k, v in data.items() if k not in {"county", "year", "tiers", "categories", "phase_targets", "prize_grades"}}
        policy, _ = PolicyYear.objects.update_or_create(county=county, year=data["year"], defaults=fields)
        for t in data.get("tiers", []):
            Tier.objects.update_or_create(policy=policy, number=t["number"], defaults={k: v for k, v in t.items() if k != "number"})
        for order, c in enumerate(data.get("categories", []), 1):
            amounts = c.get("amounts", {})
            cat, _ = SubsidyCategory.objects.update_or_create(
                policy=policy,
                code=c["code"],
                defaults={"sort_order": order, **{k: v for k, v in c.items() if k not in {"code", "amounts"}}},
            )
            for tier, spec in amounts.items():
                spec = spec if isinstance(spec, dict) else {"amount": spec}
                CategorySubsidy.objects.update_or_create(category=cat, tier=int(tier), defaults=spec)
        PhaseTarget.objects.filter(policy=policy).delete()
        for p in data.get("phase_targets", []):
            PhaseTarget.objects.create(policy=policy, **p)
        for g in data.get("prize_grades", []):
            PrizeGrade.objects.update_or_create(policy=policy, rank=g["rank"], defaults={k: v for k, v in g.items() if k != "rank"})
        loaded[f"{county.code}/{data['year']}"] = policy.pk
    return loaded
