"""Pages: public calculator, policy view/edit/copy/history, identity list and import."""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.urls import reverse

from core.models import AuditEvent, ImportRun
from enrollment import identity_lists as imports
from enrollment.models import PersonIdentity
from subsidies.models import CategorySubsidy, PolicyYear
from tests.factories import HouseholdFactory, PersonFactory, make_id
from tests.factories.subsidies import PersonIdentityFactory, PolicyYearFactory, SubsidyCategoryFactory

pytestmark = pytest.mark.django_db


# --- Public calculator ---------------------------------------------------------------------


def test_quote_page_anonymous(client, seed_policies):
    r = client.get(reverse("subsidies:quote_page"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "js/subsidies-quote.js" in html and "<script>" not in html


@pytest.mark.parametrize(
    "params, expect",
    [
        ({"county": "500240", "year": "2025", "tier": "2", "categories": "09"}, ["775.00", "400.00", "375.00", "城乡低保对象"]),
        ({"county": "130628", "year": "2024", "tier": "1", "categories": ["dibao", "qitatuopin"]}, ["380.00", "342.00", "38.00"]),
        ({"county": "140521", "year": "2025", "tier": "1"}, ["320.00", "普通城乡居民"]),
        ({"county": "500240", "year": "2025", "tier": "1", "paid_on": "2025-01-15"}, ["2025年2月1日"]),
    ],
)
def test_quote_page_answers(client, seed_policies, params, expect):
    html = client.get(reverse("subsidies:quote_page"), params).content.decode()
    for text in expect:
        assert text in html


def test_quote_page_error_shown(client, seed_policies):
    html = client.get(reverse("subsidies:quote_page"), {"county": "140521", "year": "2025", "tier": "1", "paid_on": "2024-10-28"}).content.decode()
    assert "每月1日至25日为缴费时段" in html


@pytest.mark.parametrize(
    "params, text",
    [
        ({"paid_on": "2025-11-30"}, "待遇开始日期晚于本待遇年度，本年度不享受待遇"),
        ({"paid_on": "2025-03-01", "birth_date": "2025-03-05"}, "出生日期不能晚于缴费日期"),
        ({"registered_on": "2025-03-01"}, "非新生儿请填写缴费日期"),
    ],
)
def test_quote_page_date_notes_and_errors(client, seed_policies, params, text):
    html = client.get(reverse("subsidies:quote_page"), {"county": "411325", "year": "2025", "tier": "1", **params}).content.decode()
    assert text in html


def test_quote_page_midyear_newborn(client, seed_policies):
    params = {"county": "500240", "year": "2025", "tier": "1", "paid_on": "2025-07-10", "birth_date": "2025-06-20"}
    html = client.get(reverse("subsidies:quote_page"), params).content.decode()
    assert "400.00" in html and "1070.00" not in html and "只缴纳个人应承担的费用" in html


# --- Policy pages --------------------------------------------------------------------------


@pytest.fixture
def policy(regions):
    p = PolicyYearFactory(county=regions["county"], year=2025)
    SubsidyCategoryFactory(policy=p, code="dibao", name="低保对象", amounts={1: "80"})
    return p


@pytest.mark.parametrize("who", ["bureau", "tax", "leader", "clerk", "collector", "dept"])
def test_policy_list_and_detail(client, users, policy, who, django_assert_max_num_queries):
    client.force_login(users[who])
    with django_assert_max_num_queries(12):
        r = client.get(reverse("subsidies:policy_list"))
    assert r.status_code == 200 and "2025" in r.content.decode()
    r = client.get(reverse("subsidies:policy_detail", args=[policy.pk]))
    assert r.status_code == 200 and "低保对象" in r.content.decode() and "320.00" in r.content.decode()
    assert client.get(reverse("subsidies:policy_history", args=[policy.pk])).status_code == 200


def test_policy_pages_need_login(client, policy):
    r = client.get(reverse("subsidies:policy_list"))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_policy_of_other_county_is_404(client, policy):
    from tests.factories import CountyFactory, UserFactory

    other = UserFactory(role="bureau", region=CountyFactory(code="130628", name="高阳县"))
    client.force_login(other)
    assert client.get(reverse("subsidies:policy_detail", args=[policy.pk])).status_code == 404
    assert client.get(reverse("subsidies:policy_edit", args=[policy.pk])).status_code == 404


@pytest.mark.parametrize("who", ["tax", "leader", "clerk", "dept"])
def test_edit_forbidden_without_capability(client, users, policy, who):
    client.force_login(users[who])
    assert client.get(reverse("subsidies:policy_edit", args=[policy.pk])).status_code == 403
    assert client.post(reverse("subsidies:policy_copy", args=[policy.pk]), {"year": 2026}).status_code == 403


def edit_data(policy, **over):
    from subsidies.forms import PolicyYearForm

    form = PolicyYearForm(instance=policy)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    data.update({"tiers-TOTAL_FORMS": "2", "tiers-INITIAL_FORMS": "1", "tiers-MIN_NUM_FORMS": "0", "tiers-MAX_NUM_FORMS": "1000",
                 "tiers-0-number": "1", "tiers-0-name": "一档", "tiers-0-standard": "400.00", "tiers-0-student_standard": ""})
    data.update(over)
    return data


def test_bureau_edits_policy_with_history(client, users, policy):
    client.force_login(users["bureau"])
    assert client.get(reverse("subsidies:policy_edit", args=[policy.pk])).status_code == 200
    r = client.post(reverse("subsidies:policy_edit", args=[policy.pk]), edit_data(policy, remit_days="3", **{"tiers-0-standard": "420.00"}))
    assert r.status_code == 302, r.content.decode()[:3000]
    policy.refresh_from_db()
    assert policy.remit_days == 3 and policy.tiers.get(number=1).standard == D("420.00")
    html = client.get(reverse("subsidies:policy_history", args=[policy.pk])).content.decode()
    assert "报解期限（天）" in html and "bureau" in html


def test_bureau_sets_the_publicity_kind_and_schedule(client, users, policy):
    """Shizhu's setting: cash payers, in full within a month of the window, then quarterly."""
    client.force_login(users["bureau"])
    data = edit_data(policy, publicity_payers="cash", posting_due_months="1", posting_every_months="3", posting_working_days="")
    assert client.post(reverse("subsidies:policy_edit", args=[policy.pk]), data).status_code == 302
    policy.refresh_from_db()
    assert (policy.publicity_payers, policy.posting_due_months, policy.posting_every_months) == ("cash", 1, 3)
    html = client.get(reverse("subsidies:policy_detail", args=[policy.pk])).content.decode()
    assert "现金缴费人员；集中征缴期结束后1个月内全面公示；此后每3个月公示一次" in html
    policy.publicity_payers = ""
    policy.save()
    html = client.get(reverse("subsidies:policy_detail", args=[policy.pk])).content.decode()
    assert "方案未规定（公示页按全部已入库缴费人员列示）" in html


def test_edit_error_keeps_input(client, users, policy):
    client.force_login(users["bureau"])
    r = client.post(reverse("subsidies:policy_edit", args=[policy.pk]), edit_data(policy, window_end="2020-01-01", remit_days="4"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "集中征缴期的结束日期不能早于开始日期。" in html and 'value="4"' in html


def test_add_tier_in_edit(client, users, policy):
    client.force_login(users["bureau"])
    data = edit_data(policy, **{"tiers-1-number": "2", "tiers-1-name": "二档", "tiers-1-standard": "775"})
    assert client.post(reverse("subsidies:policy_edit", args=[policy.pk]), data).status_code == 302
    assert list(policy.tiers.values_list("number", "standard")) == [(1, D("400.00")), (2, D("775.00"))]


def test_copy_to_next_year_then_edit(client, users, policy):
    client.force_login(users["bureau"])
    r = client.post(reverse("subsidies:policy_copy", args=[policy.pk]), {"year": 2026})
    new = PolicyYear.objects.get(county=policy.county, year=2026)
    assert r.status_code == 302 and r["Location"] == reverse("subsidies:policy_edit", args=[new.pk])
    assert new.categories.get().amounts.get().amount == D("80.00")
    r = client.post(reverse("subsidies:policy_copy", args=[policy.pk]), {"year": 2026}, follow=True)
    assert "已存在" in r.content.decode()


def test_category_add_and_edit_with_percent(client, users, policy):
    client.force_login(users["bureau"])
    data = {"code": "tekun", "name": "特困人员", "department": "civil_affairs", "department_label": "县民政局", "sort_order": 2,
            "percent_1": "90", "amount_1": ""}
    r = client.post(reverse("subsidies:category_add", args=[policy.pk]), data)
    assert r.status_code == 302
    cat = policy.categories.get(code="tekun")
    assert CategorySubsidy.objects.get(category=cat).amount == D("360.00")
    data["percent_1"], data["amount_1"] = "", "400"
    assert client.post(reverse("subsidies:category_edit", args=[policy.pk, cat.pk]), data).status_code == 302
    assert CategorySubsidy.objects.get(category=cat).amount == D("400.00")


# --- Identities ----------------------------------------------------------------------------


@pytest.fixture
def idents(regions, policy):
    civil = policy.categories.get(code="dibao")
    rural = SubsidyCategoryFactory(policy=policy, code="jiance", name="监测对象", department="rural", amounts={1: "200"})
    p1 = PersonFactory(name="张三", household=HouseholdFactory(village=regions["v1"]))
    p2 = PersonFactory(name="李四", household=HouseholdFactory(village=regions["v3"]))
    PersonIdentityFactory(person=p2, category=rural)
    return {"civil": civil, "rural": rural, "p1": p1, "p2": p2}


def test_identity_list_department_scoped(client, users, idents, django_assert_max_num_queries):
    client.force_login(users["dept"])
    with django_assert_max_num_queries(12):
        html = client.get(reverse("enrollment:identity_list")).content.decode()
    assert "李四" not in html
    client.force_login(users["bureau"])
    html = client.get(reverse("enrollment:identity_list")).content.decode()
    assert "李四" in html and idents["p2"].id_number not in html


def test_identity_pages_forbidden_for_collector_import(client, users, idents):
    client.force_login(users["collector"])
    assert client.get(reverse("enrollment:identity_import")).status_code == 403


def xlsx(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "民政局名单.xlsx"
    return buf


def test_import_preview_confirm_and_reimport(client, users, idents, policy):
    client.force_login(users["dept"])
    unknown = make_id()
    sheet = [["姓名", "身份证号码", "资助类别", "认定日期"],
             ["张三", idents["p1"].id_number, "低保对象", date(2024, 10, 5)],
             ["王五", unknown, "低保对象", "2024-10-05"],
             ["李四", idents["p2"].id_number, "监测对象", "2024-10-05"]]
    r = client.post(reverse("enrollment:identity_import"), {"policy": policy.pk, "source_list": "", "file": xlsx(sheet)})
    run = ImportRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("core:import_run", args=[run.pk])
    html = client.get(r["Location"]).content.decode()
    assert "系统中没有这个身份证号码" in html and "不由本部门认定" in html and "确认导入 1 行" in html
    assert unknown not in html
    r = client.post(reverse("core:import_run_confirm", args=[run.pk]), follow=True)
    assert "新增1条" in r.content.decode()
    assert PersonIdentity.objects.filter(person=idents["p1"], category=idents["civil"], certified_on=date(2024, 10, 5)).exists()
    assert AuditEvent.objects.filter(action="import").count() == 1
    # A second confirm of the same run writes nothing more.
    client.post(reverse("core:import_run_confirm", args=[run.pk]))
    assert AuditEvent.objects.filter(action="import").count() == 1
    # Re-import the same list: nothing changes.
    r = client.post(reverse("enrollment:identity_import"), {"policy": policy.pk, "file": xlsx(sheet)}, follow=True)
    assert imports.STATUS_LABELS[imports.STATUS_SAME] in r.content.decode()
    r = client.post(reverse("core:import_run_confirm", args=[r.context["run"].pk]), follow=True)
    assert "新增0条" in r.content.decode() and "无变化1条" in r.content.decode()
    assert PersonIdentity.objects.count() == 2


def test_import_rejects_non_spreadsheet(client, users, policy):
    client.force_login(users["bureau"])
    f = io.BytesIO(b"\x00\x01\x02binary")
    f.name = "x.xlsx"
    r = client.post(reverse("enrollment:identity_import"), {"policy": policy.pk, "file": f})
    assert r.status_code == 200 and "不是有效的" in r.content.decode()


def test_another_departments_list_is_not_found(client, users, idents, policy):
    client.force_login(users["dept"])
    sheet = [["姓名", "身份证号码", "资助类别", "认定日期"], ["张三", idents["p1"].id_number, "低保对象", "2024-10-05"]]
    client.post(reverse("enrollment:identity_import"), {"policy": policy.pk, "source_list": "", "file": xlsx(sheet)})
    run = ImportRun.objects.get()
    client.force_login(users["bureau"])  # the county may read it
    assert client.get(reverse("core:import_run", args=[run.pk])).status_code == 200
    assert client.get(reverse("core:import_run", args=[run.pk + 1])).status_code == 404


def test_edit_phase_targets_and_prizes(client, users, policy):
    policy.phase_targets.create(name="旧阶段", due=date(2024, 10, 31), rate=D("90"))
    client.force_login(users["bureau"])
    assert "旧阶段" in client.get(reverse("subsidies:policy_edit", args=[policy.pk])).content.decode()
    data = edit_data(policy)
    data.update({
        "phases-TOTAL_FORMS": "2", "phases-INITIAL_FORMS": "1", "phases-MIN_NUM_FORMS": "0", "phases-MAX_NUM_FORMS": "1000",
        "phases-0-name": "旧阶段", "phases-0-due": "2024-10-31", "phases-0-rate": "90", "phases-0-DELETE": "on",
        "phases-1-name": "集中扫尾", "phases-1-due": "2024-11-30", "phases-1-rate": "100",
        "prizes-TOTAL_FORMS": "1", "prizes-INITIAL_FORMS": "0", "prizes-MIN_NUM_FORMS": "0", "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-rank": "1", "prizes-0-name": "一等奖", "prizes-0-count": "", "prizes-0-amount": "",
    })
    r = client.post(reverse("subsidies:policy_edit", args=[policy.pk]), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert list(policy.phase_targets.values_list("name", "rate")) == [("集中扫尾", D("100.00"))]
    assert list(policy.prize_grades.values_list("rank", "count", "amount")) == [(1, None, None)]
    html = client.get(reverse("subsidies:policy_history", args=[policy.pk])).content.decode()
    assert "集中扫尾" in html and "一等奖" in html


def test_quote_page_switching_county_keeps_form_valid(client, seed_policies):
    # Switched from Shizhu (2025, tier 2, category 09) to Gaoyang, which only has 2024 and one tier.
    r = client.get(reverse("subsidies:quote_page"), {"county": "130628", "year": "2025", "tier": "2", "categories": "09"})
    html = r.content.decode()
    assert "高阳县 2024年度" in html and "380.00" in html


@pytest.mark.parametrize("fmt", ["xls", "ods", "csv-gbk"])
def test_import_a_list_below_a_title_in_every_format(client, users, idents, policy, fmt):
    """The identity list reads what the roster and the tax filing read: a title row above the
    header, the dates in the forms the offices write."""
    from tests.unit.core.intake_files import sheet_bytes

    client.force_login(users["dept"])
    sheet = [["2027年度民政局低保对象认定名单"], ["姓名", "身份证号码", "资助类别", "认定日期"],
             ["张三", idents["p1"].id_number, "低保对象", "2024年10月5日"], ["合计", "", "1人", ""]]
    f = io.BytesIO(sheet_bytes(fmt, sheet))
    f.name = "民政局名单." + fmt.split("-")[0]
    r = client.post(reverse("enrollment:identity_import"), {"policy": policy.pk, "source_list": "", "file": f})
    assert r.status_code == 302, r.content.decode()[-2000:]
    assert "确认导入 1 行" in client.get(r["Location"]).content.decode()
    r = client.post(reverse("core:import_run_confirm", args=[ImportRun.objects.get().pk]), follow=True)
    assert "新增1条" in r.content.decode()
    assert PersonIdentity.objects.filter(person=idents["p1"], category=idents["civil"], certified_on=date(2024, 10, 5)).exists()


def test_bureau_ticks_the_groups_and_refund_reasons_of_a_plan(client, users, policy):
    """Jiangnan's groups covered from the payment day and Gaoyang's refund reasons are ticked, not typed."""
    client.force_login(users["bureau"])
    page = client.get(reverse("subsidies:policy_edit", args=[policy.pk])).content.decode()
    assert 'type="checkbox" name="from_payment_groups" value="veteran"' in page and 'name="refund_reasons" value="military"' in page
    data = edit_data(policy, from_payment_groups=["veteran", "released_prisoner"], refund_reasons=["death", "military", "prison", "subsidy_difference"])
    assert client.post(reverse("subsidies:policy_edit", args=[policy.pk]), data).status_code == 302
    policy.refresh_from_db()
    assert policy.from_payment_groups == ["veteran", "released_prisoner"] and policy.refund_reasons == ["death", "military", "prison", "subsidy_difference"]
    data = edit_data(policy, from_payment_groups=["astronaut"])
    assert client.post(reverse("subsidies:policy_edit", args=[policy.pk]), data).status_code == 200  # refused, said on the form
