"""Refund applications (collections_app/refunds/services.py) against the seed counties' policies:
only the county's reasons for the year, and Neixiang's acceptance deadline."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from collections_app.choices import RefundStatus
from collections_app.models import Refund
from collections_app.refunds import services as refund_services
from subsidies.choices import RefundReason
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_policies(db):
    load_seed_policies()


def _evidence():
    return SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof", content_type="application/pdf")


def _today(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


# --- Neixiang's acceptance deadline -------------------------------------------------------------
# Seed 000 l.69: "符合退费条件人员持死亡（户口注销）证明……到参保地税务部门办理退费申请，医保部门负责退费。受理时限：2024年12月31日前。"


def test_neixiang_refuses_an_application_after_the_deadline_naming_it(seed_policies, monkeypatch):
    # A late payer whose cover starts on 1 April 2025: before cover, but after the 受理时限.
    e, collector = paid_in("411325", 2025, benefit_start=date(2025, 4, 1))
    _today(monkeypatch, date(2025, 1, 2))
    with pytest.raises(ValidationError) as exc:
        refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.EMPLOYEE, evidence=_evidence())
    assert exc.value.messages == [refund_services.ERR_REFUND_DEADLINE.format(county="内乡县", year=2025, deadline=date(2024, 12, 31))]
    assert "2024年12月31日" in exc.value.messages[0]
    assert not Refund.objects.exists()


def test_neixiang_accepts_an_application_on_the_deadline(seed_policies, monkeypatch):
    e, collector = paid_in("411325", 2025)
    _today(monkeypatch, date(2024, 12, 31))
    refund = refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.DEATH, evidence=_evidence())
    assert (refund.status, refund.amount) == (RefundStatus.APPLIED, D("400.00"))


def test_a_candidate_the_system_raised_is_not_bound_by_the_deadline(seed_policies, monkeypatch):
    """The deadline is for accepting a resident's application; a duplicate found in the tax files
    is the bureau's own finding, and its evidence may follow after the 受理时限."""
    e, collector = paid_in("411325", 2025, benefit_start=date(2025, 4, 1))
    _today(monkeypatch, date(2025, 1, 10))
    assert refund_services.refund_flag_candidates([(e.pk, D("400.00"), "税务数据导入#1 第2行", "")], reason=RefundReason.DUPLICATE) == 1
    refund = refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.DUPLICATE, evidence=_evidence())
    assert refund.status == RefundStatus.APPLIED and Refund.objects.count() == 1


def test_a_county_without_a_deadline_accepts_until_cover_starts(seed_policies, monkeypatch):
    # Jiangnan (001) sets no 受理时限: only the cover-start rule applies.
    e, collector = paid_in("430682", 2025, benefit_start=date(2025, 4, 1))
    _today(monkeypatch, date(2025, 3, 1))
    assert refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.DEATH, evidence=_evidence()).pk


# --- The county's reasons -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", [RefundReason.MILITARY, RefundReason.PRISON])
def test_gaoyang_refunds_on_military_service_and_imprisonment(seed_policies, monkeypatch, reason):
    # Seed 004 l.22: "在相应待遇享受期未开始前，因死亡、服役、服刑以及重复缴费、参加职工医保或其他统筹地区居民医保，可……办理退费"
    e, collector = paid_in("130628", 2024, standard="380.00")
    _today(monkeypatch, date(2023, 12, 1))
    refund = refund_services.refund_apply(actor=collector, enrollment=e, reason=reason, evidence=_evidence())
    assert (refund.reason, refund.amount) == (reason, D("380.00"))


def test_neixiang_refuses_military_service_in_chinese(seed_policies, monkeypatch):
    # Seed 000 l.69 names only 国家医保办函〔2021〕11号's reasons: 死亡、重复缴费、参加职工医保、在其他统筹地区参加居民医保.
    e, collector = paid_in("411325", 2025)
    _today(monkeypatch, date(2024, 12, 1))
    with pytest.raises(ValidationError) as exc:
        refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.MILITARY, evidence=_evidence())
    assert exc.value.message_dict["reason"] == ["内乡县2025年度可办理的退费原因为：死亡、重复缴费、参加职工医保、在外地参保；不受理“服役”。"]
    assert not Refund.objects.exists()


def test_neixiang_refunds_no_subsidy_difference(seed_policies, monkeypatch):
    # Seed 000 l.42: "城乡居民医保集中征缴期结束后被认定为困难群众的，当年不享受资助参保待遇。"
    e, collector = paid_in("411325", 2025)
    _today(monkeypatch, date(2024, 12, 1))
    with pytest.raises(ValidationError, match="不受理“资助差额”"):
        refund_services.refund_apply(actor=collector, enrollment=e, reason=RefundReason.SUBSIDY_DIFFERENCE, evidence=_evidence())
    assert [code for code, _ in refund_services.refund_reasons_for(e)] == ["death", "duplicate", "employee", "elsewhere"]
