"""POST /api/refunds/ accepts only the county's reasons for the year and Neixiang's applications
within its deadline; a refusal is a 400 with the Chinese message."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app.models import Refund
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_policies(db):
    load_seed_policies()


def _today(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def _apply(user, e, reason):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/refunds/", {"enrollment": e.pk, "reason": reason, "evidence": SimpleUploadedFile("p.pdf", b"%PDF-1.4 x")},
                       format="multipart")


def test_gaoyang_accepts_imprisonment(seed_policies, monkeypatch):
    # Seed 004 l.22: "因死亡、服役、服刑以及重复缴费、参加职工医保或其他统筹地区居民医保，可……办理退费"
    e, collector = paid_in("130628", 2024, standard="380.00")
    _today(monkeypatch, date(2023, 12, 1))
    resp = _apply(collector, e, "prison")
    assert resp.status_code == 201, resp.content
    assert (resp.json()["reason"], resp.json()["amount"]) == ("prison", "380.00")


def test_qinshui_refuses_military_service(seed_policies, monkeypatch):
    # Seed 002 names no refund reasons of its own: the national set (国家医保办函〔2021〕11号) and the difference.
    e, collector = paid_in("140521", 2025)
    _today(monkeypatch, date(2024, 12, 1))
    resp = _apply(collector, e, "military")
    assert resp.status_code == 400
    assert resp.json()["reason"] == ["沁水县2025年度可办理的退费原因为：死亡、重复缴费、参加职工医保、在外地参保、资助差额；不受理“服役”。"]
    assert not Refund.objects.exists()


def test_neixiang_refuses_after_the_deadline(seed_policies, monkeypatch):
    # Seed 000 l.69: "受理时限：2024年12月31日前。"
    e, collector = paid_in("411325", 2025, benefit_start=date(2025, 4, 1))
    _today(monkeypatch, date(2025, 1, 6))
    resp = _apply(collector, e, "employee")
    assert resp.status_code == 400
    assert resp.json()["detail"] == ["内乡县2025年度退费申请的受理时限为2024年12月31日前，已过受理时限，不能再申请退费。"]
    assert not Refund.objects.exists()
