"""Publicity postings (公示): the village's posting, its period and its photo."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from core.access import require
from core.models import Region, User
from core.scoping import ensure_region_visible
from subsidies import workdays
from subsidies.selectors import posting_rules

from ..models import PublicityPosting
from ..uploads import check_file
from .selectors import payers_of, publicity_rows

ERR_POSTING_TOO_SHORT = "公示期至少{days}个工作日，现为{actual}个工作日。"
ERR_POSTING_ORDER = "结束日期不能早于开始日期。"
ERR_POSTING_BEFORE_END = "{county}方案规定集中征缴期结束（{end:%Y年%-m月%-d日}）后公示已缴费人员清册，公示开始日期应晚于这一天。"


@transaction.atomic
def publicity_record(
    *, actor: User, village: Region, year: int, posted_from: date, posted_until: date, photo, note: str = ""
) -> PublicityPosting:
    """Record that the paid list was posted, with a photo of the posting: for at least the
    policy's working days (statutory holidays excluded, make-up workdays counted) where the
    county's plan sets a minimum. The posting keeps which list it was (``payers``) and how many
    it named."""
    require(actor, "publicity.manage")
    ensure_region_visible(actor, village)
    if posted_until < posted_from:
        raise ValidationError({"posted_until": ERR_POSTING_ORDER})
    days = workdays.working_days(posted_from, posted_until).count
    rules = posting_rules(village.county, year)
    if rules is not None and rules.after_window and posted_from <= rules.window_end:
        raise ValidationError({"posted_from": ERR_POSTING_BEFORE_END.format(county=village.county.name, end=rules.window_end)})
    minimum = rules.min_working_days if rules is not None else None
    if minimum and days < minimum:
        raise ValidationError({"posted_until": ERR_POSTING_TOO_SHORT.format(days=minimum, actual=days)})
    check_file(photo)
    payers = payers_of(rules)
    posting = PublicityPosting(
        village=village,
        year=year,
        posted_from=posted_from,
        posted_until=posted_until,
        photo=photo,
        note=note[:200],
        payers=payers,
        person_count=len(publicity_rows(village=village, year=year, payers=payers)),
        created_by=actor,
    )
    posting.full_clean()
    posting.save()
    return posting
