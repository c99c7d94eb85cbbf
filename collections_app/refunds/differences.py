"""Subsidy-difference refunds proposed when a department's identity list is applied.

A resident who already paid for the year and is then certified with a (better) identity may get
the difference back, where the county's policy says so — Gaoyang (seed 004: 在集中征缴期间，已正常
缴费的，经相关部门纳入困难人员后……为其办理退费; 已按照普通居民身份或者其他较低比例定额资助人员交费，
集中征缴期结束后变更身份的……进行退费处理) and Qinshui; Shizhu only for who paid in full (seed 003:
享受资助参保后人员身份发生变化的，不再进行差额资助); Neixiang and Jiangnan not at all. The amount is
``subsidies.calc.refund_difference`` over the policy's settings; each becomes a refund candidate
for the bureau to decide (``services.refund_flag_candidates``), never a refund by itself.

Registered with the identity-list import (``enrollment.identity_lists.follow_certified``) in
``CollectionsAppConfig.ready``: enrollment does not import collections_app.
"""

from __future__ import annotations

from collections import defaultdict

from core.money import ZERO
from enrollment.choices import PAID_STATUSES
from enrollment.identity_lists import Certified, Follower, follow_certified
from enrollment.models import Enrollment
from enrollment.owed import identities_of
from subsidies.calc import counts_this_year, refund_difference
from subsidies.choices import RefundReason
from subsidies.models import PolicyYear
from subsidies.selectors import PolicyMissing, TierOffers, tier_standard

from .services import refund_flag_candidates

KEY = "difference_refunds"
MSG_PROPOSED = "提出资助差额退费候选{n}人，由医保局审批。"
NOTE = "{year}年度已缴费{paid}元，{on:%Y年%-m月%-d日}认定为{category}，按现身份应缴{owed}元：提出资助差额退费{amount}元，由医保局审批。"


def refunds_differences(policy: PolicyYear) -> bool:
    """The policy refunds a late identity's difference (and lists it among its refund reasons)."""
    return policy.late_identity_refunds_difference and RefundReason.SUBSIDY_DIFFERENCE in policy.refund_reason_codes()


def difference_candidates(*, policy: PolicyYear, certified: list[Certified], source_list: str) -> list[tuple]:
    """(enrollment id, amount, source, note) for each resident of ``certified`` who already paid
    for ``policy``'s year and whom the policy refunds a difference (an amount above zero)."""
    if not refunds_differences(policy) or not certified:
        return []
    new: dict[int, list[Certified]] = defaultdict(list)
    for c in certified:
        new[c.person_id].append(c)
    enrollments = list(
        Enrollment.objects.filter(person_id__in=list(new), year=policy.year, status__in=PAID_STATUSES, amount_due__gt=0)
        .select_related("person")
    )
    if not enrollments:
        return []
    held = defaultdict(list)
    for ident in identities_of(persons=[e.person_id for e in enrollments], policy=policy):
        held[ident.person_id].append(ident)
    tiers: dict[int, TierOffers] = {}
    candidates = []
    for e in enrollments:
        if e.tier not in tiers:
            tiers[e.tier] = TierOffers.load(policy, e.tier)
        try:
            standard = e.standard if e.standard is not None else tier_standard(policy, e.tier, student=e.person.is_student)
        except PolicyMissing:
            continue
        offers = tiers[e.tier].offers(policy=policy, identities=held[e.person_id])
        if not policy.refund_after_window:
            # An identity certified after the window counts from next year (同缴同补), the new one included.
            offers = [o for o in offers if counts_this_year(o, policy.window_end)]
        first = min(new[e.person_id], key=lambda c: c.certified_on)
        paid = e.amount_due
        paid_subsidy = e.subsidy if e.subsidy is not None else max(standard - paid, ZERO)
        amount = refund_difference(
            standard=standard, paid=paid, paid_subsidy=paid_subsidy, offers=offers, certified_on=first.certified_on,
            window_end=policy.window_end, refunds_difference=policy.late_identity_refunds_difference,
            only_if_paid_in_full=policy.refund_only_if_paid_in_full, after_window=policy.refund_after_window,
        )
        if amount <= ZERO:
            continue
        category = next((i.category.name for i in held[e.person_id] if i.category_id == first.category_id), "")
        candidates.append((
            e.pk, amount, f"资助身份名单：{source_list}",
            NOTE.format(year=policy.year, paid=paid, on=first.certified_on, category=category, owed=paid - amount, amount=amount),
        ))
    return candidates


def propose_differences(*, actor, policy: PolicyYear, certified: list[Certified], source_list: str) -> int | None:
    """The identity list's follower: refund candidates for the differences; how many are new
    (None where the policy refunds no difference: the import says nothing of them)."""
    if not refunds_differences(policy):
        return None
    return refund_flag_candidates(
        difference_candidates(policy=policy, certified=certified, source_list=source_list),
        reason=RefundReason.SUBSIDY_DIFFERENCE,
    )


DIFFERENCES = Follower(KEY, MSG_PROPOSED, propose_differences)


def register() -> None:
    follow_certified(DIFFERENCES)
