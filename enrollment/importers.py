"""The roster and the departments' identity lists as importers of the one import flow
(``core.imports``): each says who may use it and what its rows do; the flow does the rest."""

from __future__ import annotations

from dataclasses import asdict

from django.urls import reverse

from core.choices import RegionLevel
from core.imports.importers import ERROR, Checked, Importer, Outcome, TargetError, register
from core.models import Region
from subsidies.models import PolicyYear

from . import identity_lists
from .resources import Move
from .roster_import import roster_import_run

MSG_ROSTER_PREVIEWED = "预览通过：新增{new}人，更新{update}人，换户{moved}人。确认后才会写入。"
MSG_ROSTER_IMPORTED = "导入完成：新增{new}人，更新{update}人，换户{moved}人。"
ERR_VILLAGE = "请填写本人辖区内的村/社区（village：区划代码）。"
ERR_YEAR = "请填写年度（year，如 2027）。"
ERR_POLICY = "请填写本人可见的年度政策（policy：编号）。"
MSG_IDENTITIES_IMPORTED = "导入完成：新增{created}条，更新{updated}条，无变化{unchanged}条，跳过有错误的{skipped}行。"


class RosterImporter(Importer):
    """A village's household roster: every row or none."""

    kind = "roster"
    label = "花名册"
    capabilities = ("roster.import", "roster.edit")
    statuses = {"new": "新增", "update": "更新", "moved": "换户"}
    all_or_none = True

    def _run(self, run, *, actor, dry_run: bool, progress):
        with run.file.open("rb") as fh:
            data = fh.read()
        moves = None if dry_run else [Move(**m) for m in run.options.get("moves", [])]
        roster = roster_import_run(actor=actor, village=run.region, year=run.year, data=data, dry_run=dry_run,
                                   previewed_moves=moves, progress=progress)
        outcomes = [Outcome(line, ERROR, message) for line, message in roster.problems]
        outcomes += [Outcome(m.row, "moved", m.message, m.name, m.id_number) for m in roster.moves]
        counts = roster.counts
        if roster.problems:
            counts = {**counts, ERROR: len(roster.problems)}
        checked = Checked(outcomes, counts=counts, total=roster.result.total_rows,
                          keep={"moves": [asdict(m) for m in roster.moves]})
        return checked, roster

    def check(self, run, *, actor, progress):
        return self._run(run, actor=actor, dry_run=True, progress=progress)[0]

    def apply(self, run, *, actor, progress):
        checked, roster = self._run(run, actor=actor, dry_run=False, progress=progress)
        return checked, roster.counts

    def target(self, actor, data):
        village = Region.objects.visible_to(actor).villages().filter(code=str(data.get("village", "")).strip()).first()
        if village is None:
            raise TargetError("village", ERR_VILLAGE)
        year = str(data.get("year", "")).strip()
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            raise TargetError("year", ERR_YEAR)
        return village, int(year), {}

    def summary(self, run) -> str:
        return f"{run.region.full_name} · {run.year}年度花名册。"

    def preview_message(self, run) -> str:
        return MSG_ROSTER_PREVIEWED.format(**{k: run.counts.get(k, 0) for k in self.statuses})

    def done_message(self, run) -> str:
        return MSG_ROSTER_IMPORTED.format(**run.result)

    def done_url(self, run) -> str:
        return f"{reverse('enrollment:roster')}?village={run.region_id}&year={run.year}"


class IdentityListImporter(Importer):
    """A department's list of certified identities for a policy year: rows with errors are skipped
    and said so, the others written."""

    kind = "identity_list"
    label = "资助身份名单"
    capabilities = ("identity.import",)
    statuses = {
        identity_lists.STATUS_NEW: identity_lists.STATUS_LABELS[identity_lists.STATUS_NEW],
        identity_lists.STATUS_CHANGED: identity_lists.STATUS_LABELS[identity_lists.STATUS_CHANGED],
        identity_lists.STATUS_SAME: identity_lists.STATUS_LABELS[identity_lists.STATUS_SAME],
    }
    all_or_none = False

    def _policy(self, run) -> PolicyYear:
        return PolicyYear.objects.get(pk=run.options["policy"], county=run.region)

    def _check(self, run, *, actor, progress):
        policy = self._policy(run)
        with run.file.open("rb") as fh:
            rows = identity_lists.read_rows(fh, name=run.original_name)
        checked = identity_lists.check_rows(actor=actor, policy=policy, rows=rows, progress=progress)
        outcomes = [
            Outcome(r.line, ERROR if r.errors else r.status, "；".join(r.errors or r.warnings), r.name, r.id_number)
            for r in checked
        ]
        return policy, checked, Checked(outcomes)

    def check(self, run, *, actor, progress):
        return self._check(run, actor=actor, progress=progress)[2]

    def apply(self, run, *, actor, progress):
        policy, rows, checked = self._check(run, actor=actor, progress=progress)
        result = identity_lists.identity_import(actor=actor, policy=policy, rows=rows, source_list=run.options["source_list"])
        return checked, {"created": result.created, "updated": result.updated, "unchanged": result.unchanged, "skipped": result.skipped,
                         **result.followed}

    def target(self, actor, data):
        pk = str(data.get("policy", "")).strip()
        policy = PolicyYear.objects.visible_to(actor).filter(pk=int(pk)).select_related("county").first() if pk.isdigit() else None
        if policy is None or policy.county.level != RegionLevel.COUNTY:
            raise TargetError("policy", ERR_POLICY)
        source = str(data.get("source_list", "")).strip()[:200]
        return policy.county, policy.year, {"policy": policy.pk, "source_list": source or str(data.get("file_name", ""))}

    def summary(self, run) -> str:
        policy = PolicyYear.objects.filter(pk=run.options.get("policy"), county=run.region).first()
        return f"{policy or ''} · 名单“{run.options.get('source_list', '')}”。已有且认定日期相同的行不会重复记录。"

    def done_message(self, run) -> str:
        done = MSG_IDENTITIES_IMPORTED.format(**run.result)
        return done + "".join(
            f.message.format(n=run.result[key]) for key, f in identity_lists.FOLLOWERS.items() if key in run.result
        )

    def done_url(self, run) -> str:
        return reverse("enrollment:identity_list")


ROSTER = register(RosterImporter())
IDENTITY_LIST = register(IdentityListImporter())
