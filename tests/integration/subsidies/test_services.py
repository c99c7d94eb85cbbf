"""Policy edit/copy with history; identity list checks and idempotent import."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from enrollment import identity_lists as imports
from enrollment.models import PersonIdentity
from subsidies import services
from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory
from tests.factories import HouseholdFactory, PersonFactory, make_id
from tests.factories.subsidies import PersonIdentityFactory, PolicyYearFactory, SubsidyCategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(regions):
    p = PolicyYearFactory(county=regions["county"], year=2025, tiers={1: "380.00", 2: "775.00"})
    p.extension_end = date(2025, 2, 28)
    p.save()
    return p


# --- Policy edit / copy ----------------------------------------------------------------------


def test_copy_to_next_year_copies_everything_and_shifts_dates(policy, users):
    cat = SubsidyCategoryFactory(policy=policy, code="dibao", name="低保对象", amounts={1: "342.00", 2: "400.00"})
    CategorySubsidy.objects.filter(category=cat, tier=1).update(percent=D("90"))
    policy.phase_targets.create(name="阶段一", due=date(2024, 10, 31), rate=D("90"))
    policy.prize_grades.create(rank=1, name="一等奖", count=1, amount=D("30000"))
    PersonIdentityFactory(category=cat, person=PersonFactory(household=HouseholdFactory(village=policy.county.children.first().children.first())))
    new = services.policy_copy(actor=users["bureau"], policy=policy)
    assert new.year == 2026
    assert (new.window_start, new.window_end, new.extension_end) == (date(2025, 9, 1), date(2025, 12, 31), date(2026, 2, 28))
    assert [(t.number, t.standard) for t in new.tiers.all()] == [(1, D("380.00")), (2, D("775.00"))]
    new_cat = new.categories.get(code="dibao")
    assert list(new_cat.amounts.values_list("tier", "amount", "percent")) == [(1, D("342.00"), D("90.00")), (2, D("400.00"), None)]
    assert new.phase_targets.get().due == date(2025, 10, 31)
    assert new.prize_grades.get().amount == D("30000.00")
    assert not PersonIdentity.objects.filter(year=2026).exists()
    assert PolicyYear.objects.filter(county=policy.county).count() == 2


def test_copy_moves_29_february_to_28(regions, users):
    p = PolicyYearFactory(county=regions["county"], year=2024, window_start=date(2023, 9, 1), window_end=date(2023, 12, 31))
    p.extension_end = date(2024, 2, 29)
    p.save()
    new = services.policy_copy(actor=users["bureau"], policy=p)
    assert new.extension_end == date(2025, 2, 28)


@pytest.mark.parametrize("d, years, expected", [(date(2024, 2, 29), 1, date(2025, 2, 28)), (date(2023, 2, 28), 1, date(2024, 2, 28)), (date(2024, 12, 31), 2, date(2026, 12, 31)), (None, 1, None)])
def test_shift_year(d, years, expected):
    assert services.shift_year(d, years) == expected


def test_copy_refuses_existing_year(policy, users):
    services.policy_copy(actor=users["bureau"], policy=policy)
    with pytest.raises(ValidationError) as exc:
        services.policy_copy(actor=users["bureau"], policy=policy)
    assert services.ERR_YEAR_EXISTS.format(county=policy.county.name, year=2026) in exc.value.messages


@pytest.mark.parametrize("who", ["clerk", "tax", "leader", "dept", "collector"])
def test_only_bureau_edits_policy(policy, users, who):
    with pytest.raises(PermissionDenied):
        services.policy_copy(actor=users[who], policy=policy)
    with pytest.raises(PermissionDenied):
        services.policy_update(actor=users[who], policy=policy, fields={"remit_days": 3})


def test_other_county_bureau_cannot_edit(policy):
    from tests.factories import CountyFactory, UserFactory

    other = UserFactory(role="bureau", region=CountyFactory(code="130628", name="高阳县"))
    with pytest.raises(PermissionDenied):
        services.policy_update(actor=other, policy=policy, fields={"remit_days": 3})


def test_update_keeps_history_and_re_resolves_percentages(policy, users):
    cat = SubsidyCategoryFactory(policy=policy)
    services.category_save(actor=users["bureau"], policy=policy, category=cat, fields={}, amounts={1: {"amount": None, "percent": D("90")}, 2: {"amount": D("400"), "percent": None}})
    assert CategorySubsidy.objects.get(category=cat, tier=1).amount == D("342.00")
    before = policy.history.count()
    services.policy_update(actor=users["bureau"], policy=policy, fields={"remit_days": 3},
                           tiers=[{"number": 1, "name": "一档", "standard": D("400"), "student_standard": None}])
    assert policy.history.count() == before + 1
    assert policy.history.first().remit_days == 3
    assert CategorySubsidy.objects.get(category=cat, tier=1).amount == D("360.00")
    assert CategorySubsidy.objects.get(category=cat, tier=2).amount == D("400.00")


def test_update_validates(policy, users):
    with pytest.raises(ValidationError):
        services.policy_update(actor=users["bureau"], policy=policy, fields={"window_end": date(2024, 1, 1)})


def test_category_save_removes_a_tier_when_both_blank(policy, users):
    cat = SubsidyCategoryFactory(policy=policy, amounts={1: "80", 2: "80"})
    services.category_save(actor=users["bureau"], policy=policy, category=cat, fields={"name": "新名称"}, amounts={2: {"amount": None, "percent": None}})
    assert list(cat.amounts.values_list("tier", flat=True)) == [1]
    assert SubsidyCategory.objects.get(pk=cat.pk).name == "新名称"


# --- Identity import ---------------------------------------------------------------------------

HEADER = ["姓名", "身份证号码", "资助类别", "认定日期"]


@pytest.fixture
def setup(policy, regions):
    civil = SubsidyCategoryFactory(policy=policy, code="dibao", name="低保对象", department="civil_affairs", amounts={1: "300"})
    rural = SubsidyCategoryFactory(policy=policy, code="jiance", name="监测对象", department="rural", amounts={1: "200"})
    v1 = regions["v1"]
    p1 = PersonFactory(name="张三", household=HouseholdFactory(village=v1))
    p2 = PersonFactory(name="李四", household=HouseholdFactory(village=regions["v3"]))
    return {"policy": policy, "civil": civil, "rural": rural, "p1": p1, "p2": p2}


def rows(*body):
    return [HEADER, *[list(r) for r in body]]


def test_check_rows_per_row_errors(setup, users):
    s = setup
    unknown = make_id()
    data = rows(
        ["张三", s["p1"].id_number, "低保对象", "2024-10-05"],
        ["李四", s["p2"].id_number, "dibao", "2024/11/5"],
        ["王五", unknown, "低保对象", "2024-10-05"],
        ["张三", s["p1"].id_number, "监测对象", "2024-10-05"],
        ["张三", s["p1"].id_number[:-1] + ("0" if s["p1"].id_number[-1] != "0" else "1"), "低保对象", "2024-10-05"],
        ["", s["p1"].id_number, "不存在的类别", "昨天"],
        ["张三三", s["p1"].id_number, "低保对象", "2024-10-05"],
        ["张三", s["p1"].id_number, "低保对象", "2024年10月6日"],
        ["李四", 4.11325198005171e17, "低保对象", "20241005"],
    )
    checked = imports.check_rows(actor=users["dept"], policy=s["policy"], rows=data, today=date(2025, 1, 10))
    errs = {r.line: r.errors for r in checked}
    assert errs[2] == [] and checked[0].status == imports.STATUS_NEW
    assert errs[3] == [] and checked[1].certified_on == date(2024, 11, 5)
    assert errs[4] == [imports.ERR_UNKNOWN_ID.format(masked=__import__("core.idcard", fromlist=["mask"]).mask(unknown))]
    assert errs[5] == [imports.ERR_CATEGORY_NOT_YOURS.format(name="监测对象")]
    assert len(errs[6]) == 1 and "校验位" in errs[6][0]
    assert imports.ERR_NAME in errs[7] and imports.ERR_CATEGORY_UNKNOWN.format(year=2025, name="不存在的类别") in errs[7]
    assert imports.ERR_DATE.format(value="昨天") in errs[7]
    assert errs[8] == [imports.ERR_NAME_MISMATCH.format(given="张三三", actual="张三")]
    assert errs[9] == [imports.ERR_DUPLICATE_ROW.format(line=2)]
    assert len(errs[10]) == 1 and "数字" in errs[10][0]


def test_check_rows_warns_after_window_and_rejects_future(setup, users):
    s = setup
    data = rows(["张三", s["p1"].id_number, "低保对象", "2025-01-01"], ["李四", s["p2"].id_number, "低保对象", "2025-03-01"])
    checked = imports.check_rows(actor=users["bureau"], policy=s["policy"], rows=data, today=date(2025, 2, 1))
    assert checked[0].errors == [] and checked[0].warnings == [imports.WARN_AFTER_WINDOW]
    assert checked[1].errors == [imports.ERR_DATE_FUTURE]


def test_clerk_of_other_township_cannot_see_person(setup, users):
    s = setup
    checked = imports.check_rows(actor=users["clerk"], policy=s["policy"], rows=rows(["李四", s["p2"].id_number, "低保对象", "2024-10-05"]))
    assert checked[0].errors and checked[0].errors[0].startswith("系统中没有这个身份证号码")


def test_import_is_idempotent_and_updates_dates(setup, users):
    s = setup
    data = rows(["张三", s["p1"].id_number, "低保对象", "2024-10-05"], ["李四", s["p2"].id_number, "低保对象", "2024-10-06"], ["王五", make_id(), "低保对象", "2024-10-05"])
    actor = users["dept"]
    first = imports.identity_import(actor=actor, policy=s["policy"], rows=imports.check_rows(actor=actor, policy=s["policy"], rows=data), source_list="民政局10月名单")
    assert (first.created, first.updated, first.unchanged, first.skipped) == (2, 0, 0, 1)
    history = PersonIdentity.history.count()
    again = imports.identity_import(actor=actor, policy=s["policy"], rows=imports.check_rows(actor=actor, policy=s["policy"], rows=data), source_list="民政局10月名单")
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 2, 1)
    assert PersonIdentity.history.count() == history
    assert PersonIdentity.objects.count() == 2
    checked = imports.check_rows(actor=actor, policy=s["policy"], rows=data)
    assert [r.status for r in checked[:2]] == [imports.STATUS_SAME, imports.STATUS_SAME]
    data[1][3] = "2024-10-20"
    third = imports.identity_import(actor=actor, policy=s["policy"], rows=imports.check_rows(actor=actor, policy=s["policy"], rows=data), source_list="民政局10月名单（更正）")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert PersonIdentity.objects.get(person=s["p1"]).certified_on == date(2024, 10, 20)


def test_import_never_creates_people(setup, users):
    from enrollment.models import Person

    s = setup
    before = Person.objects.count()
    actor = users["bureau"]
    data = rows(["王五", make_id(), "低保对象", "2024-10-05"])
    imports.identity_import(actor=actor, policy=s["policy"], rows=imports.check_rows(actor=actor, policy=s["policy"], rows=data), source_list="x")
    assert Person.objects.count() == before


def test_department_cannot_import_other_department_rows(setup, users):
    s = setup
    row = imports.ImportRow(line=2, name="张三", id_number=s["p1"].id_number, category_label="监测对象", certified_on=date(2024, 10, 5),
                             person_id=s["p1"].pk, category_id=s["rural"].pk)
    with pytest.raises(PermissionDenied):
        imports.identity_import(actor=users["dept"], policy=s["policy"], rows=[row], source_list="x")
    assert not PersonIdentity.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "collector", "tax", "leader"])
def test_only_bureau_and_departments_import(setup, users, who):
    with pytest.raises(PermissionDenied):
        imports.identity_import(actor=users[who], policy=setup["policy"], rows=[], source_list="x")


def test_header_required(setup, users):
    from core.spreadsheets import UploadError

    with pytest.raises(UploadError):
        imports.check_rows(actor=users["bureau"], policy=setup["policy"], rows=[["a", "b"], ["1", "2"]])
    with pytest.raises(UploadError):
        imports.check_rows(actor=users["bureau"], policy=setup["policy"], rows=[HEADER])


def test_read_rows_xlsx_and_csv(setup):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["张三", setup["p1"].id_number, "低保对象", date(2024, 10, 5)])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    got = imports.read_rows(buf, name="list.xlsx")
    assert got[0] == HEADER and imports.parse_date(got[1][3]) == date(2024, 10, 5)
    csv_bytes = ("\n".join([",".join(HEADER), f"张三,{setup['p1'].id_number},低保对象,2024-10-05"]) + "\n").encode("gb18030")
    got = imports.read_rows(io.BytesIO(csv_bytes), name="list.csv")
    assert got[1][0] == "张三" and got[1][3] == "2024-10-05"


def test_update_phases_and_prizes_only_touches_changed_rows(policy, users):
    from subsidies.models import PhaseTarget

    phases = [{"name": "一", "due": date(2024, 10, 31), "rate": D("90")}]
    services.policy_update(actor=users["bureau"], policy=policy, fields={}, phases=phases, prizes=[{"rank": 1, "name": "一等奖", "count": 1, "amount": D("30000")}])
    n = PhaseTarget.history.count()
    services.policy_update(actor=users["bureau"], policy=policy, fields={}, phases=phases)
    assert PhaseTarget.history.count() == n
    assert policy.prize_grades.get().amount == D("30000.00")
    services.policy_update(actor=users["bureau"], policy=policy, fields={}, phases=[], prizes=[])
    assert not policy.phase_targets.exists() and not policy.prize_grades.exists()
