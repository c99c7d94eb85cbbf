"""Subsidy-difference refund candidates proposed when an identity list is applied
(collections_app/refunds/differences.py, following enrollment's identity-list import through the
one import flow), per seed county, with the seeds' figures."""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from collections_app.choices import RefundStatus
from collections_app.models import Refund
from collections_app.refunds import differences
from collections_app.refunds import services as refund_services
from core.choices import ImportStatus
from core.imports import flow
from core.models import AuditEvent
from enrollment.choices import EnrollmentStatus
from enrollment.identity_lists import Certified
from subsidies.choices import RefundReason
from subsidies.models import PolicyYear, SubsidyCategory
from tests.factories import UserFactory
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_policies(db):
    load_seed_policies()


def sheet(rows):
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号码", "资助类别", "认定日期"])
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("民政局名单.xlsx", buf.getvalue())


def apply_list(county_code, year, rows):
    """Upload, preview, confirm and apply an identity list as the county's bureau."""
    policy = PolicyYear.objects.select_related("county").get(county__code=county_code, year=year)
    bureau = UserFactory(role="bureau", region=policy.county)
    run = flow.import_upload(actor=bureau, kind="identity_list", region=policy.county, year=year, upload=sheet(rows),
                             options={"policy": policy.pk, "source_list": "民政局名单"})
    run = flow.import_preview(actor=bureau, run=run)
    assert run.status == ImportStatus.PREVIEWED, (run.error, run.rows)
    assert flow.import_confirm(actor=bureau, run=run)
    run = flow.import_apply(actor=bureau, run=run)
    assert run.status == ImportStatus.APPLIED, (run.error, run.rows)
    return run


def row(e, category, on):
    return [e.person.name, e.person.id_number, category, on]


def candidates():
    return list(Refund.objects.filter(reason=RefundReason.SUBSIDY_DIFFERENCE).values_list("enrollment_id", "amount", "status"))


# --- Gaoyang (004): late_identity_refunds_difference, refund_after_window -----------------------


def test_gaoyang_paid_in_full_then_certified_in_the_window_gets_342(seed_policies):
    # Seed 004 l.22: "在集中征缴期间，已正常缴费的，经相关部门纳入困难人员后，……由医保、税务部门负责为其办理退费。"
    # 380 paid as an ordinary resident; 低保对象 90% = 342 (the fixture's note: 90%定额资助（342元）).
    e, _ = paid_in("130628", 2024, standard="380.00")
    run = apply_list("130628", 2024, [row(e, "低保对象", "2023-11-10")])
    assert candidates() == [(e.pk, D("342.00"), RefundStatus.CANDIDATE)]
    refund = Refund.objects.get()
    assert refund.source == "资助身份名单：民政局名单" and "认定为低保对象" in refund.note and "提出资助差额退费342.00元" in refund.note
    assert run.result["difference_refunds"] == 1
    assert "提出资助差额退费候选1人，由医保局审批。" in flow.importer_for(run.kind).done_message(run)
    assert AuditEvent.objects.get(action="import").detail["difference_refunds"] == 1


def test_gaoyang_lower_subsidy_certified_after_the_window_gets_the_rest(seed_policies):
    # Seed 004 l.22: "已按照普通居民身份或者其他较低比例定额资助人员交费，集中征缴期结束后变更身份的，由医保、税务部门负责对其进行退费处理。"
    # Paid 114 as 其他脱贫人口 (70% = 266); certified 特困人员 (100%) on 15 January 2024, after the 25 December window.
    e, _ = paid_in("130628", 2024, standard="380.00", subsidy="266.00", category_code="qitatuopin")
    apply_list("130628", 2024, [row(e, "特困人员", "2024-01-15")])
    assert candidates() == [(e.pk, D("114.00"), RefundStatus.CANDIDATE)]


def test_gaoyangs_difference_is_applied_for_and_approved_inside_the_benefit_year(seed_policies, monkeypatch):
    # Seed 004 l.22: "集中征缴期结束后变更身份的，由医保、税务部门负责对其进行退费处理" — cover began on 1 January
    # 2024; a difference is still refunded then, a departure (参加职工医保) is not.
    e, collector = paid_in("130628", 2024, standard="380.00", subsidy="266.00", category_code="qitatuopin")
    apply_list("130628", 2024, [row(e, "特困人员", "2024-01-15")])
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2024, 2, 1))
    evidence = SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    refund = refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.SUBSIDY_DIFFERENCE, evidence=evidence)
    assert (refund.status, refund.amount) == (RefundStatus.APPLIED, D("114.00"))
    bureau = UserFactory(role="bureau", region=e.village.county)
    assert refund_services.refund_decide(actor=bureau, refund=refund, approve=True, note="同意").status == RefundStatus.APPROVED
    with pytest.raises(ValidationError, match="待遇已于2024年1月1日开始享受"):
        refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.EMPLOYEE, evidence=evidence)


def test_reapplying_the_same_list_proposes_nothing_new(seed_policies):
    e, _ = paid_in("130628", 2024, standard="380.00")
    apply_list("130628", 2024, [row(e, "低保对象", "2023-11-10")])
    again = apply_list("130628", 2024, [row(e, "低保对象", "2023-11-10")])
    assert again.result["difference_refunds"] == 0 and len(candidates()) == 1


def test_only_who_already_paid_is_proposed(seed_policies):
    e, _ = paid_in("130628", 2024, standard="380.00")
    e.status = EnrollmentStatus.PENDING
    e.save()
    run = apply_list("130628", 2024, [row(e, "低保对象", "2023-11-10")])
    assert candidates() == [] and run.result["difference_refunds"] == 0


# --- Qinshui (002): late_identity_refunds_difference, not after the window ----------------------


def test_qinshui_paid_in_full_certified_stable_out_of_poverty_gets_200(seed_policies):
    # Seed 002 l.61: "稳定脱贫人口由县级财政按个人缴费标准50%的比例给予资助200元……（对已缴费的稳定脱贫人口，在集中征缴期结束后，按照财政补贴标准进行退补。）"
    e, _ = paid_in("140521", 2025)
    apply_list("140521", 2025, [row(e, "稳定脱贫人口", "2024-12-10")])
    assert candidates() == [(e.pk, D("200.00"), RefundStatus.CANDIDATE)]


def test_qinshui_ordinary_payer_certified_low_income_gets_240(seed_policies):
    # Fixture 140521: 普通城乡居民20%即80元（个人320元）; 低保对象80%即320元（个人80元）.
    e, _ = paid_in("140521", 2025, subsidy="80.00", category_code="putong")
    apply_list("140521", 2025, [row(e, "低保对象", "2025-02-28")])  # the window's last day
    assert candidates() == [(e.pk, D("240.00"), RefundStatus.CANDIDATE)]


def test_qinshui_certified_after_the_window_counts_next_year(seed_policies):
    # enrollment's rule (身份认定晚于集中征缴期，下一年度起享受): refund_after_window is off in Qinshui.
    e, _ = paid_in("140521", 2025, subsidy="80.00", category_code="putong")
    run = apply_list("140521", 2025, [row(e, "低保对象", "2025-03-10")])
    assert candidates() == [] and run.result["difference_refunds"] == 0


# --- Shizhu (003): refund_only_if_paid_in_full -------------------------------------------------


def test_shizhu_no_difference_after_a_subsidised_payment(seed_policies):
    # Seed 003 l.422: "享受资助参保后人员身份发生变化的，不再进行差额资助。"
    # Paid 120 as 城乡重度残疾人员 (280); certified 城乡低保对象 (360) inside the window.
    e, _ = paid_in("500240", 2025, subsidy="280.00", category_code="03")
    run = apply_list("500240", 2025, [row(e, "城乡低保对象", "2024-11-20")])
    assert candidates() == [] and run.result["difference_refunds"] == 0


def test_shizhu_who_paid_in_full_is_subsidised_after_the_fact(seed_policies):
    # refund_only_if_paid_in_full (仅全额缴费者事后资助): 400 paid without a subsidy, 城乡低保对象 360 → 360.
    e, _ = paid_in("500240", 2025)
    apply_list("500240", 2025, [row(e, "城乡低保对象", "2024-11-20")])
    assert candidates() == [(e.pk, D("360.00"), RefundStatus.CANDIDATE)]


# --- Neixiang (000): no difference refunds ------------------------------------------------------


def test_neixiang_proposes_no_difference_and_says_nothing_of_it(seed_policies):
    # Fixture 411325: late_identity_refunds_difference false (seed 000 l.42: 按照分类补助标准只交差额).
    e, _ = paid_in("411325", 2025)
    run = apply_list("411325", 2025, [row(e, "低保对象", "2024-11-20")])
    assert candidates() == [] and "difference_refunds" not in run.result
    assert "资助差额" not in flow.importer_for(run.kind).done_message(run)


def test_difference_candidates_is_empty_without_certifications(seed_policies):
    policy = PolicyYear.objects.get(county__code="130628")
    assert differences.difference_candidates(policy=policy, certified=[], source_list="x") == []
    e, _ = paid_in("130628", 2024, standard="380.00")
    cat = SubsidyCategory.objects.get(policy=policy, code="dibao")
    # A certification not stored as an identity offers nothing: no difference.
    assert differences.difference_candidates(
        policy=policy, certified=[Certified(e.person_id, cat.pk, date(2023, 11, 10))], source_list="x") == []
