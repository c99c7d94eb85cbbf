"""The refund application page offers the county's reasons for the year and says why it refuses
(the reasons, Neixiang's deadline), in Chinese."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Refund
from tests.factories.collections import paid_in
from tests.factories.subsidies import load_seed_policies

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_policies(db):
    load_seed_policies()


def _today(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def _page(e):
    return f"{reverse('collections:refund_create')}?enrollment={e.pk}"


def _options(html):
    return [code for code in ("death", "military", "prison", "duplicate", "employee", "elsewhere", "subsidy_difference")
            if f'value="{code}"' in html]


def test_gaoyang_page_offers_military_service_and_imprisonment(client, seed_policies, monkeypatch):
    # Seed 004 l.22: "因死亡、服役、服刑以及重复缴费、参加职工医保或其他统筹地区居民医保，可……办理退费"
    e, collector = paid_in("130628", 2024, standard="380.00")
    _today(monkeypatch, date(2023, 12, 1))
    client.force_login(collector)
    html = client.get(_page(e)).content.decode()
    assert _options(html) == ["death", "military", "prison", "duplicate", "employee", "elsewhere", "subsidy_difference"]
    assert ">服役<" in html and ">服刑<" in html
    resp = client.post(_page(e), {"reason": "military", "evidence": SimpleUploadedFile("d.pdf", b"%PDF-1.4 x")})
    assert resp.status_code == 302 and Refund.objects.get().reason == "military"


def test_neixiang_page_offers_the_national_reasons_and_refuses_another(client, seed_policies, monkeypatch):
    # Seed 000 l.69: "依据国家医保办函〔2021〕11号文件规定，……因死亡、重复缴费、参加职工医保或在其他统筹地区参加居民医保的，可……办理退费"
    e, collector = paid_in("411325", 2025)
    _today(monkeypatch, date(2024, 12, 1))
    client.force_login(collector)
    assert _options(client.get(_page(e)).content.decode()) == ["death", "duplicate", "employee", "elsewhere"]
    html = client.post(_page(e), {"reason": "prison", "evidence": SimpleUploadedFile("d.pdf", b"%PDF-1.4 x")}).content.decode()
    assert "内乡县2025年度可办理的退费原因为：死亡、重复缴费、参加职工医保、在外地参保；不受理“服刑”。" in html
    assert not Refund.objects.exists()


def test_neixiang_page_refuses_after_the_deadline_naming_it(client, seed_policies, monkeypatch):
    # Seed 000 l.69: "受理时限：2024年12月31日前。"
    e, collector = paid_in("411325", 2025, benefit_start=date(2025, 4, 1))
    _today(monkeypatch, date(2025, 1, 6))
    client.force_login(collector)
    html = client.post(_page(e), {"reason": "death", "evidence": SimpleUploadedFile("d.pdf", b"%PDF-1.4 x")}).content.decode()
    assert "受理时限为2024年12月31日前，已过受理时限" in html
    assert not Refund.objects.exists()
