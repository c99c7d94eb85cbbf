"""Departures lists (collections_app/departures): a death, an employee-insured person, a student
insured at school, each with what the seeds say follows — through the one import flow."""

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from collections_app.choices import RefundStatus
from collections_app.departures.importer import ERR_DATE_FUTURE, ERR_DEATH_DATE, MSG_KEPT_STUDENT
from collections_app.models import Refund
from core.choices import ImportStatus
from core.imports import flow
from core.imports.importers import ERROR
from enrollment.choices import EnrollmentStatus, ExclusionReason
from enrollment.models import Enrollment, Person
from subsidies.choices import RefundReason
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory, VillageFactory, make_id
from tests.factories.subsidies import PolicyYearFactory

TODAY = timezone.localdate()
NEXT = TODAY.year + 1  # a benefit year whose cover has not begun
HEADER = ["姓名", "身份证号码", "名单类型", "日期"]


def sheet(rows, title=None):
    wb = openpyxl.Workbook()
    if title:
        wb.active.append([title])
    wb.active.append(HEADER)
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("民政局名单.xlsx", buf.getvalue())


def person(regions, village="v1"):
    return PersonFactory(household=HouseholdFactory(village=regions[village]))


def run_list(actor, rows, *, year=NEXT, kind=ExclusionReason.DECEASED, title=None):
    run = flow.import_upload(actor=actor, kind="departure_list", region=actor.county, year=year, upload=sheet(rows, title),
                             options={"kind": kind, "source_list": "民政局11月名单"})
    return flow.import_preview(actor=actor, run=run)


def confirm(actor, run):
    assert flow.import_confirm(actor=actor, run=run)
    return flow.import_apply(actor=actor, run=run)


def test_deaths_exclude_the_unpaid_and_propose_a_refund_for_a_payment_before_cover(users, regions):
    unpaid, paid = person(regions), person(regions, "v2")
    EnrollmentFactory(person=unpaid, year=NEXT)
    paid_enrollment = EnrollmentFactory(person=paid, year=NEXT, status=EnrollmentStatus.PAID, amount_due=Decimal("400.00"))
    died = TODAY - timedelta(days=3)
    rows = [[unpaid.name, unpaid.id_number, "", died], [paid.name, paid.id_number, "户口注销", died.isoformat()]]
    run = run_list(users["dept"], rows, title="2024年11月死亡人员名单")
    assert run.counts == {"excluded": 1, "refund": 1} and not Refund.objects.exists()  # the preview wrote nothing
    assert not Person.objects.filter(is_deceased=True).exists()
    run = confirm(users["dept"], run)
    assert run.status == ImportStatus.APPLIED and run.result["excluded"] == 1 and run.result["refund"] == 1
    e = Enrollment.objects.get(person=unpaid, year=NEXT)
    assert (e.status, e.exclusion_reason) == (EnrollmentStatus.EXCLUDED, ExclusionReason.DECEASED)
    assert set(Person.objects.filter(is_deceased=True).values_list("pk", flat=True)) == {unpaid.pk, paid.pk}
    assert Person.objects.get(pk=paid.pk).deceased_on == died
    refund = Refund.objects.get()
    assert (refund.enrollment_id, refund.reason, refund.status, refund.amount) == (
        paid_enrollment.pk, RefundReason.DEATH, RefundStatus.CANDIDATE, Decimal("400.00"))
    assert Enrollment.objects.get(pk=paid_enrollment.pk).status == EnrollmentStatus.PAID  # until the bureau decides
    # The same list again changes nothing and proposes nothing twice.
    again = confirm(users["dept"], run_list(users["dept"], rows))
    assert again.counts.get("same") == 1 and Refund.objects.count() == 1


def test_a_payment_whose_cover_began_is_not_refunded(users, regions):
    p = person(regions)
    EnrollmentFactory(person=p, year=TODAY.year, status=EnrollmentStatus.CONFIRMED, amount_due=Decimal("380.00"),
                      benefit_start=date(TODAY.year, 1, 1))
    run = confirm(users["dept"], run_list(users["dept"], [[p.name, p.id_number, "死亡", TODAY]], year=TODAY.year))
    assert run.counts == {"kept": 1} and "不再退回" in run.rows[0][2]
    assert not Refund.objects.exists() and Person.objects.get(pk=p.pk).is_deceased


def test_employee_and_elsewhere_lists_propose_their_refunds_and_students_are_only_excluded(users, regions):
    employee, student_paid, student, elsewhere = (person(regions) for _ in range(4))
    for p in (employee, student_paid, elsewhere):
        EnrollmentFactory(person=p, year=NEXT, status=EnrollmentStatus.PAID, amount_due=Decimal("400.00"))
    rows = [[employee.name, employee.id_number, "参加职工医保", ""], [student_paid.name, student_paid.id_number, "大学生在校参保", ""],
            [student.name, student.id_number, "在校参保", ""], [elsewhere.name, elsewhere.id_number, "在外地参保", ""]]
    run = confirm(users["bureau"], run_list(users["bureau"], rows, kind=ExclusionReason.EMPLOYEE_INSURANCE))
    assert run.counts == {"refund": 2, "kept": 1, "excluded": 1}
    assert sorted(Refund.objects.values_list("reason", flat=True)) == sorted([RefundReason.EMPLOYEE, RefundReason.ELSEWHERE])
    assert MSG_KEPT_STUDENT.format(year=NEXT) in [r[2] for r in run.rows]
    e = Enrollment.objects.get(person=student, year=NEXT)
    assert (e.status, e.exclusion_reason) == (EnrollmentStatus.EXCLUDED, ExclusionReason.STUDENT_AT_SCHOOL)


def test_a_list_proposes_only_the_refunds_the_countys_plan_grants(users, regions):
    """A county whose plan lists its refund reasons (PolicyYear.refund_reasons) gets no candidate
    for a reason it does not refund: the payment is left alone and the row says why."""
    PolicyYearFactory(county=regions["county"], year=NEXT, refund_reasons=[RefundReason.DEATH, RefundReason.DUPLICATE])
    died, employee = person(regions), person(regions)
    for p in (died, employee):
        EnrollmentFactory(person=p, year=NEXT, status=EnrollmentStatus.PAID, amount_due=Decimal("400.00"))
    rows = [[died.name, died.id_number, "死亡", TODAY], [employee.name, employee.id_number, "参加职工医保", ""]]
    run = confirm(users["bureau"], run_list(users["bureau"], rows))
    assert run.counts == {"refund": 1, "kept": 1}
    assert list(Refund.objects.values_list("reason", flat=True)) == [RefundReason.DEATH]
    assert "不受理“参加职工医保”退费" in run.rows[1][2]
    assert Enrollment.objects.get(person=employee, year=NEXT).status == EnrollmentStatus.PAID


def test_leaving_is_written_with_its_history_and_never_outside_the_actors_region(users, regions):
    from django.core.exceptions import PermissionDenied

    from enrollment.services import Leave, persons_leave

    mine, other = person(regions), person(regions, "v3")
    EnrollmentFactory(person=mine, year=NEXT)
    clerk = users["clerk"]
    with pytest.raises(PermissionDenied):
        persons_leave(actor=clerk, leaves=[Leave(mine, ExclusionReason.DECEASED, TODAY), Leave(other, ExclusionReason.DECEASED, TODAY)],
                      year=NEXT, source="民政局名单")
    assert not Person.objects.filter(is_deceased=True).exists()  # nothing half-written
    assert persons_leave(actor=clerk, leaves=[Leave(mine, ExclusionReason.DECEASED, TODAY)], year=NEXT, source="民政局名单") == 1
    e = Enrollment.objects.get(person=mine, year=NEXT)
    last = e.history.order_by("-history_id").first()
    assert (last.status, last.history_user_id, last.history_change_reason) == (EnrollmentStatus.EXCLUDED, clerk.pk, "民政局名单")
    assert Person.objects.get(pk=mine.pk).history.order_by("-history_id").first().is_deceased


def test_bad_rows_are_said_row_by_row_and_skipped(users, regions):
    p, other_county = person(regions), PersonFactory(household=HouseholdFactory(village=VillageFactory()))
    unknown = make_id()
    rows = [[p.name, p.id_number, "死亡", ""], ["某人", unknown, "死亡", TODAY], [p.name, p.id_number, "死亡", TODAY + timedelta(days=2)],
            [other_county.name, other_county.id_number, "死亡", TODAY], ["张三", p.id_number, "离家出走", TODAY]]
    run = run_list(users["dept"], rows)
    messages = {line: message for line, status, message, *_ in run.rows if status == ERROR}
    assert messages[2] == ERR_DEATH_DATE and "系统中没有这个身份证号码" in messages[3] and ERR_DATE_FUTURE in messages[4]
    assert "系统中没有这个身份证号码" in messages[5]  # another county's resident is not found, not revealed
    assert "名单类型“离家出走”无法识别" in messages[6]
    assert flow.confirmable(run) == 0 and run.counts == {ERROR: 5}


def test_the_pages_upload_preview_and_confirm(client, users, regions):
    p = person(regions)
    EnrollmentFactory(person=p, year=NEXT, status=EnrollmentStatus.PAID, amount_due=Decimal("400.00"))
    client.force_login(users["dept"])
    assert "导入部门减员名单" in client.get(reverse("collections:departure_import")).content.decode()
    resp = client.post(reverse("collections:departure_import"), {
        "year": NEXT, "list_kind": ExclusionReason.EMPLOYEE_INSURANCE, "source_list": "", "file": sheet([[p.name, p.id_number, "", ""]]),
    }, follow=True)
    html = resp.content.decode()
    assert "提出退费候选" in html and "确认导入 1 行" in html and p.id_number not in html
    resp = client.post(reverse("core:import_run_confirm", args=[resp.context["run"].pk]), follow=True)
    assert "提出退费候选1人" in resp.content.decode()
    assert Refund.objects.get().reason == RefundReason.EMPLOYEE


@pytest.mark.parametrize("who", ["collector", "leader", "clerk"])
def test_roles_that_do_not_import_lists_are_refused(client, users, who):
    client.force_login(users[who])
    assert client.get(reverse("collections:departure_import")).status_code == 403
