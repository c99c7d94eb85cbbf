"""Matching, atomic apply, outcomes and idempotence of the tax filing import."""

import gc
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from collections_app.models import RowOutcome, TaxImport, TaxImportRow
from collections_app.tax_import import matching, persons, readers, roster, run, services, writer
from collections_app.tax_import.selectors import refund_candidates
from core import idcard, intake
from core.choices import ImportStatus, Role
from core.models import AuditEvent
from core.spreadsheets import ERR_EMPTY_FILE, ERR_NOT_SPREADSHEET
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, PersonIdentity
from subsidies.models import (
    CategorySubsidy,
    PolicyYear,
    SubsidyCategory,
    Tier,
)
from tests.factories import (
    CountyFactory,
    EnrollmentFactory,
    HouseholdFactory,
    PersonFactory,
    TownshipFactory,
    UserFactory,
    VillageFactory,
)
from tests.unit.collections.tax_import_files import corrupt_xlsx, workbook_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(regions):
    p = PolicyYear.objects.create(county=regions["county"], year=2025, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31))
    Tier.objects.create(policy=p, number=1, name="一档", standard=Decimal("400.00"))
    Tier.objects.create(policy=p, number=2, name="二档", standard=Decimal("775.00"))
    low = SubsidyCategory.objects.create(policy=p, code="tekun", name="特困人员")
    CategorySubsidy.objects.create(category=low, tier=1, amount=Decimal("400.00"))
    part = SubsidyCategory.objects.create(policy=p, code="dibao", name="低保对象")
    CategorySubsidy.objects.create(category=part, tier=1, amount=Decimal("360.00"))
    return {"policy": p, "low": low, "part": part}


@pytest.fixture(params=["by_chunk", "county_roster", "county_roster_no_deferring"])
def reads(request, monkeypatch, settings):
    """The ways a filing's persons are read: chunk by chunk, and from the whole county roster
    read while the sheet loads (PostgreSQL, a filing as large as the county: forced here), the
    rows of persons it lacks matched at the end or, past DEFER_MAX of them, read per chunk."""
    if request.param == "by_chunk":
        yield None
        return
    if not settings.IS_POSTGRES:
        pytest.skip("the county roster is read on PostgreSQL only")
    monkeypatch.setattr(roster, "MIN_ROWS", 0)
    monkeypatch.setattr(roster, "SHARE_OF_COUNTY", 0)
    if request.param == "county_roster_no_deferring":
        monkeypatch.setattr(persons, "DEFER_MAX", 0)
    asked = []
    real_lacks = roster.CountyRoster.lacks

    def lacks(self, id_numbers):
        asked.append(len(id_numbers))
        return real_lacks(self, id_numbers)

    monkeypatch.setattr(roster.CountyRoster, "lacks", lacks)
    yield asked
    assert asked, "the county roster was not used"


def person_in(village, **kw):
    return PersonFactory(household=HouseholdFactory(village=village), **kw)


@pytest.fixture
def world(regions, policy):
    v1, v3 = regions["v1"], regions["v3"]
    w = {}
    w["pending"] = EnrollmentFactory(person=person_in(v1), status=EnrollmentStatus.PENDING)
    w["noenroll"] = person_in(v3)
    w["declared"] = EnrollmentFactory(person=person_in(v1), status=EnrollmentStatus.DECLARED, amount_due=Decimal("400.00"), standard=Decimal("400.00"), subsidy=Decimal("0.00"), paid_on=date(2024, 9, 20))
    w["cash"] = EnrollmentFactory(person=person_in(v1), status=EnrollmentStatus.PAID, amount_due=Decimal("400.00"))
    w["confirmed"] = EnrollmentFactory(person=person_in(v1), status=EnrollmentStatus.CONFIRMED, tax_voucher="V900", confirmed_on=date(2024, 9, 30))
    w["wrong"] = EnrollmentFactory(person=person_in(v1))
    w["subsidised"] = EnrollmentFactory(person=person_in(v1))
    PersonIdentity.objects.create(person=w["subsidised"].person, category=policy["low"], year=2025, certified_on=date(2024, 8, 1))
    w["dibao"] = EnrollmentFactory(person=person_in(v1))
    PersonIdentity.objects.create(person=w["dibao"].person, category=policy["low"], year=2025, certified_on=date(2025, 3, 1))  # too late
    PersonIdentity.objects.create(person=w["dibao"].person, category=policy["part"], year=2025, certified_on=date(2024, 8, 1))
    w["twice"] = EnrollmentFactory(person=person_in(v1))
    w["excluded"] = EnrollmentFactory(person=person_in(v1), status=EnrollmentStatus.EXCLUDED, exclusion_reason="employee")
    other = VillageFactory(parent=TownshipFactory(parent=CountyFactory(code="500240", name="石柱县")))
    w["other_county"] = person_in(other)
    w["unknown_id"] = idcard.make("411325", date(1970, 1, 1), 555)
    return w


def filing_rows(w):
    p = lambda key: (w[key].person if hasattr(w[key], "person") else w[key]).id_number  # noqa: E731
    return [
        [1, "甲", p("pending"), 1, "400元", "2024/10/5", "V001", "微信", "甲一村"],
        [2, "乙", p("noenroll").lower() if p("noenroll").endswith("X") else p("noenroll"), "一档", 400, 45570, "V002", "手机APP", "乙一村"],
        [3, "丙", p("declared"), 1, "400.00", "2024年10月5日", "V003", "代征", "甲一村"],
        [4, "丁", p("cash"), 1, 400, "2024-10-05", "V004", "微信", "甲一村"],
        [5, "戊", p("confirmed"), 1, 400, "2024-09-30", "V900", "微信", "甲一村"],
        [6, "戊", p("confirmed"), 1, 400, "2024-10-08", "V901", "支付宝", "甲一村"],
        [7, "己", p("wrong"), 1, 380, "2024-10-05", "V007", "微信", "甲一村"],
        [8, "庚", p("subsidised"), 1, 0, "2024-10-05", "V008", "代征", "甲一村"],
        [9, "辛", p("dibao"), 1, 40, "2024-10-05", "V009", "代征", "甲一村"],
        [10, "壬", p("twice"), 1, 400, "2024-10-05", "V010", "微信", "甲一村"],
        [11, "壬", p("twice"), 1, 400, "2024-10-06", "V011", "现金", "甲一村"],
        [12, "癸", p("other_county"), 1, 400, "2024-10-05", "V012", "微信", "乙一村"],
        [13, "子", w["unknown_id"], 1, 400, "2024-10-05", "V013", "微信", "甲二村"],
        [14, "丑", 4.11325e17, 1, 400, "2024-10-05", "V014", "微信", "甲一村"],
        [15, "寅", p("wrong"), 1, 400, "2024-13-40", "V015", "微信", "甲一村"],
        [16, "卯", p("excluded"), 1, 400, "2024-10-05", "V016", "微信", "甲一村"],
        [17, "甲", p("pending"), 1, 400, "2024-10-05", "V001", "微信", "甲一村"],  # same payment listed twice
        ["合计", None, None, None, 6215, None, None, None, None],
    ]


def upload(users, regions, data, name="缴费明细.xlsx", user="tax"):
    return services.tax_import_create(actor=users[user], county=regions["county"], upload=io.BytesIO(data), name=name, year=2025)


EXPECTED = {
    "rows_read": 17, "confirmed": 6, "already_confirmed": 2, "amount_mismatch": 1, "unknown_person": 2, "duplicate": 4, "invalid": 2,
    "refund_candidates": 4, "blank_rows": 0, "totals_rows": 1,
}


def snapshot():
    return sorted(Enrollment.objects.values_list("person_id", "year", "status", "tax_voucher", "confirmed_on", "amount_due"))


def test_preview_counts_and_changes_nothing(users, regions, world, reads):
    before = snapshot()
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    summary = services.tax_import_preview(tax_import=ti)
    assert {k: summary[k] for k in EXPECTED} == EXPECTED
    assert summary["would_create_enrollments"] == 1 and summary["created_enrollments"] == 0
    assert snapshot() == before
    ti.refresh_from_db()
    assert ti.status == ImportStatus.PREVIEWED
    assert ti.rows.count() == 9  # every problem row with its reason


def test_the_guard_scans_a_filing_once_at_upload_and_again_only_if_the_stored_file_changed(users, regions, world, monkeypatch):
    scans = []
    real = intake.check_sheet
    monkeypatch.setattr(intake, "check_sheet", lambda *a, **k: scans.append("read") or real(*a, **k))
    monkeypatch.setattr(services, "check_sheet", lambda *a, **k: scans.append("upload") or real(*a, **k))
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    services.tax_import_preview(tax_import=ti)
    assert scans == ["upload"]  # the preview read the very file that passed at upload
    with open(ti.file.path, "wb") as fh:  # the stored file replaced behind the portal's back
        fh.write(workbook_bytes(filing_rows(world)[:3]))
    services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    assert scans == ["upload", "read"]


def test_a_hostile_filing_is_refused_at_upload_and_nothing_is_stored(users, regions, world):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["XFD1048576"] = "身份证号码", "x"  # calamine would allocate A1:XFD1048576
    far = io.BytesIO()
    wb.save(far)
    with pytest.raises(services.ImportFailed) as exc:
        upload(users, regions, far.getvalue())
    assert exc.value.message.startswith("工作表")
    assert not TaxImport.objects.exists()


def test_apply_outcomes_row_by_row(users, regions, world, reads):
    w = world
    ti = upload(users, regions, workbook_bytes(filing_rows(w)))
    services.tax_import_preview(tax_import=ti)
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti)
    assert {k: summary[k] for k in EXPECTED} == EXPECTED
    assert summary["created_enrollments"] == 1

    def enr(key):
        return Enrollment.objects.get(person=w[key].person if hasattr(w[key], "person") else w[key], year=2025)

    e = enr("pending")
    assert (e.status, e.tax_voucher, e.confirmed_on, e.paid_on, e.amount_due) == (EnrollmentStatus.CONFIRMED, "V001", date(2024, 10, 5), date(2024, 10, 5), Decimal("400.00"))
    e = enr("noenroll")
    assert (e.status, e.village, e.tax_voucher) == (EnrollmentStatus.CONFIRMED, regions["v3"], "V002")
    e = enr("declared")
    assert (e.status, e.paid_on) == (EnrollmentStatus.CONFIRMED, date(2024, 9, 20))  # cash date kept
    assert enr("cash").status == EnrollmentStatus.PAID
    assert (enr("confirmed").tax_voucher, enr("confirmed").confirmed_on) == ("V900", date(2024, 9, 30))
    assert enr("wrong").status == EnrollmentStatus.PENDING
    e = enr("subsidised")
    assert (e.status, e.amount_due, e.subsidy, e.subsidy_category_code) == (EnrollmentStatus.CONFIRMED, Decimal("0.00"), Decimal("400.00"), "tekun")
    assert (enr("dibao").status, enr("dibao").subsidy_category_code) == (EnrollmentStatus.CONFIRMED, "dibao")
    assert enr("twice").tax_voucher == "V010"
    assert enr("excluded").status == EnrollmentStatus.EXCLUDED
    assert not Enrollment.objects.filter(person=w["other_county"]).exists()

    rows = {r.row_number + 0: r for r in TaxImportRow.objects.filter(tax_import=ti)}
    assert {n: r.outcome for n, r in rows.items()} == {
        7: RowOutcome.DUPLICATE, 9: RowOutcome.DUPLICATE, 10: RowOutcome.AMOUNT_MISMATCH, 14: RowOutcome.DUPLICATE,
        15: RowOutcome.UNKNOWN_PERSON, 16: RowOutcome.UNKNOWN_PERSON, 17: RowOutcome.INVALID, 18: RowOutcome.INVALID,
        19: RowOutcome.DUPLICATE,
    }
    assert rows[10].message == matching.MSG_AMOUNT.format(amount="380.00", owed="400.00", tier=1) and rows[10].owed == Decimal("400.00")
    assert rows[15].message == matching.MSG_OTHER_COUNTY
    assert rows[16].message == matching.MSG_UNKNOWN and rows[16].township == regions["t1"]  # from 参保地 甲二村
    assert rows[17].message == idcard.ERR_NUMERIC_CELL
    assert rows[18].message.startswith("日期“2024-13-40”无法识别")
    assert rows[7].refund_candidate and "已在村里缴费" in rows[7].message
    assert "第13行" in rows[14].message
    assert all(r.refund_candidate == (r.outcome == RowOutcome.DUPLICATE) for r in rows.values())
    # history and audit trail
    assert Enrollment.history.filter(tax_voucher="V001", history_type="~", history_user=users["tax"]).exists()
    assert Enrollment.history.filter(tax_voucher="V002", history_type="+").exists()
    assert AuditEvent.objects.filter(action=services.AUDIT_ACTION, object_id=str(ti.pk), detail__step="apply").exists()
    ti.refresh_from_db()
    assert (ti.status, ti.applied_by) == (ImportStatus.APPLIED, users["tax"])
    assert refund_candidates(user=users["tax"]).count() == 4
    assert refund_candidates(user=users["clerk"]).count() == 4  # all in 甲镇
    assert refund_candidates(user=users["clerk2"]).count() == 0
    assert refund_candidates(user=users["nobody"]).count() == 0
    # handed to the refunds workflow as candidates (待核实), once per enrollment
    from collections_app.models import Refund

    assert sorted(Refund.objects.filter(status="candidate").values_list("enrollment_id", flat=True)) == sorted(
        [w["cash"].pk, w["confirmed"].pk, w["twice"].pk, w["excluded"].pk]
    )


def test_same_file_twice_changes_nothing(users, regions, world, reads):
    data = workbook_bytes(filing_rows(world))
    first = upload(users, regions, data)
    services.tax_import_apply(actor=users["tax"], tax_import=first, require_preview=False)
    before, history = snapshot(), Enrollment.history.count()
    # the same import again (a redelivered task) does nothing
    services.tax_import_apply(actor=users["tax"], tax_import=first)
    assert snapshot() == before
    second = upload(users, regions, data)
    summary = services.tax_import_apply(actor=users["tax"], tax_import=second, require_preview=False)
    assert snapshot() == before and Enrollment.history.count() == history
    assert summary["confirmed"] == 0 and summary["already_confirmed"] == 8
    assert summary["duplicate"] == 4  # 戊 (paid twice), 丁 (cash + online), 壬 (twice in file), 卯 (excluded)


def test_failure_midway_leaves_nothing_half_applied(users, regions, world, monkeypatch):
    before, history = snapshot(), Enrollment.history.count()
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    services.tax_import_preview(tax_import=ti)
    calls = {"n": 0}
    real_submit = writer.Writer.submit

    def flaky(self, batch):
        calls["n"] += 1
        real_submit(self, batch)
        self.wait()  # the second batch is written (PostgreSQL: by the writer thread) …
        if calls["n"] == 2:
            raise RuntimeError("worker killed")  # … and then the worker dies

    monkeypatch.setattr(writer.Writer, "submit", flaky)
    monkeypatch.setattr(run, "CHUNK", 3)
    monkeypatch.setattr(run.run_filing, "__kwdefaults__", {**run.run_filing.__kwdefaults__, "chunk_size": 3})
    with pytest.raises(RuntimeError):
        services.tax_import_apply(actor=users["tax"], tax_import=ti)
    assert calls["n"] == 2
    assert snapshot() == before and Enrollment.history.count() == history
    ti.refresh_from_db()
    assert ti.status == ImportStatus.FAILED and ti.rows.count() == 9  # the preview's rows are back
    monkeypatch.undo()
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti)  # a retry applies it fully
    assert summary["confirmed"] == 6


def test_garbage_collection_paused_while_matching_and_back_after_a_failure(users, regions, world, monkeypatch):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    during = []
    real_submit = writer.Writer.submit

    def failing(self, batch):
        during.append(gc.isenabled())
        raise RuntimeError("worker killed")

    monkeypatch.setattr(writer.Writer, "submit", failing)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    assert during == [False] and gc.isenabled()
    monkeypatch.setattr(writer.Writer, "submit", real_submit)
    services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    assert gc.isenabled()


def test_chunks_give_the_same_answer(users, regions, world, monkeypatch, reads):
    monkeypatch.setattr(run.run_filing, "__kwdefaults__", {**run.run_filing.__kwdefaults__, "chunk_size": 2})
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    assert {k: summary[k] for k in EXPECTED} == EXPECTED


def test_only_tax_users_of_the_county(users, regions, world):
    data = workbook_bytes(filing_rows(world))
    with pytest.raises(PermissionDenied):
        upload(users, regions, data, user="bureau")
    stranger = UserFactory(role=Role.TAX, region=CountyFactory(code="500241", name="外县"))
    with pytest.raises(PermissionDenied):
        services.tax_import_create(actor=stranger, county=regions["county"], upload=io.BytesIO(data), name="a.xlsx")
    ti = upload(users, regions, data)
    with pytest.raises(PermissionDenied):
        services.tax_import_apply(actor=stranger, tax_import=ti, require_preview=False)
    assert TaxImport.objects.visible_to(stranger).count() == 0
    assert TaxImport.objects.visible_to(users["tax"]).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", ERR_EMPTY_FILE),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), ERR_NOT_SPREADSHEET),
    ],
)
def test_rejected_uploads(users, regions, data, message):
    with pytest.raises(services.ImportFailed) as exc:
        upload(users, regions, data)
    assert exc.value.message == message
    assert TaxImport.objects.count() == 0


def test_corrupt_xlsx_fails_cleanly(users, regions, world):
    before = snapshot()
    ti = upload(users, regions, corrupt_xlsx(workbook_bytes(filing_rows(world) * 20)))
    with pytest.raises(services.ImportFailed) as exc:
        services.tax_import_preview(tax_import=ti)
    assert exc.value.message.startswith("文件已损坏")
    ti.refresh_from_db()
    assert ti.status == ImportStatus.FAILED and ti.error.startswith("文件已损坏")
    assert snapshot() == before


def test_text_file_renamed_xlsx_has_no_header(users, regions):
    ti = upload(users, regions, "这不是表格\n只是一段文字\n".encode(), name="伪装.xlsx")
    with pytest.raises(services.ImportFailed) as exc:
        services.tax_import_preview(tax_import=ti)
    assert exc.value.message == readers.ERR_NO_HEADER.format(rows=readers.HEADER_SCAN_ROWS)


def test_zero_row_file(users, regions, policy):
    ti = upload(users, regions, workbook_bytes([]))
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    assert summary["rows_read"] == 0 and sum(summary["problems"].values()) == 0


def test_command_prints_json_summary(regions, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "filing.xlsx"
    path.write_bytes(workbook_bytes(filing_rows(world)))
    out = io.StringIO()
    call_command("import_tax_filing", str(path), "--county", regions["county"].code, "--year", "2025", "--dry-run", stdout=out)
    summary = json.loads(out.getvalue())
    assert {k: summary[k] for k in EXPECTED} == EXPECTED and summary["dry_run"] is True
    assert summary["problems"] == {"amount_mismatch": 1, "unknown_person": 2, "duplicate": 4, "invalid": 2}
    assert Enrollment.objects.get(person=world["pending"].person).status == EnrollmentStatus.PENDING
    out = io.StringIO()
    call_command("import_tax_filing", str(path), "--county", regions["county"].code, stdout=out)
    assert json.loads(out.getvalue())["confirmed"] == 6
    assert Enrollment.objects.get(person=world["pending"].person).status == EnrollmentStatus.CONFIRMED


# --- Duplicates in the file, row order (refund candidates) ---------------------------------------
def apply_rows(users, regions, rows, *, chunk_size=None, monkeypatch=None):
    if chunk_size is not None:
        monkeypatch.setattr(run.run_filing, "__kwdefaults__", {**run.run_filing.__kwdefaults__, "chunk_size": chunk_size})
    ti = upload(users, regions, workbook_bytes(rows))
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    return ti, summary, {r.row_number: r for r in TaxImportRow.objects.filter(tax_import=ti)}


@pytest.mark.parametrize("chunk_size", [None, 1])  # the duplicate in the same chunk, and in a later one
def test_paid_twice_without_an_earlier_enrollment_is_a_refund_candidate(users, regions, policy, monkeypatch, chunk_size, reads):
    from collections_app.models import Refund

    person = person_in(regions["v1"])  # paid online by themselves: no enrollment before the import
    _ti, summary, rows = apply_rows(
        users, regions,
        [
            [1, "甲", person.id_number, 1, 400, "2024-10-05", "W001", "微信", "甲一村"],
            [2, "甲", person.id_number, 1, 400, "2024-10-09", "W002", "支付宝", "甲一村"],
        ],
        chunk_size=chunk_size, monkeypatch=monkeypatch,
    )
    assert (summary["confirmed"], summary["duplicate"], summary["refund_candidates"], summary["created_enrollments"]) == (1, 1, 1, 1)
    e = Enrollment.objects.get(person=person, year=2025)
    assert (e.status, e.tax_voucher) == (EnrollmentStatus.CONFIRMED, "W001")
    dup = rows[5]  # the file's row 5 (title rows and header above)
    assert (dup.outcome, dup.refund_candidate, dup.enrollment_id) == (RowOutcome.DUPLICATE, True, e.pk)
    refund = Refund.objects.get(enrollment=e)
    assert (refund.status, refund.reason, refund.amount) == ("candidate", "duplicate", Decimal("400.00"))
    assert refund_candidates(user=users["clerk"]).get() == dup


@pytest.mark.parametrize("chunk_size", [None, 1])
def test_a_problem_row_first_does_not_hide_the_genuine_payment(users, regions, world, monkeypatch, chunk_size, reads):
    from collections_app.models import Refund

    wrong, cash = world["wrong"], world["cash"]
    _ti, summary, rows = apply_rows(
        users, regions,
        [
            [1, "己", wrong.person.id_number, 1, 380, "2024-10-05", "X001", "微信", "甲一村"],  # amount differs
            [2, "己", wrong.person.id_number, 1, 400, "2024-10-06", "X002", "微信", "甲一村"],  # the genuine payment
            [3, "丁", cash.person.id_number, 1, 400, "2024-10-05", "X003", "微信", "甲一村"],  # online after paying cash
            [4, "丁", cash.person.id_number, 1, 400, "2024-10-07", "X004", "代征", "甲一村"],  # the cash payment, declared
        ],
        chunk_size=chunk_size, monkeypatch=monkeypatch,
    )
    assert {n: r.outcome for n, r in rows.items()} == {4: RowOutcome.AMOUNT_MISMATCH, 6: RowOutcome.DUPLICATE}
    assert summary["confirmed"] == 2
    wrong.refresh_from_db()
    cash.refresh_from_db()
    assert (wrong.status, wrong.tax_voucher) == (EnrollmentStatus.CONFIRMED, "X002")
    assert (cash.status, cash.tax_voucher) == (EnrollmentStatus.CONFIRMED, "X004")
    assert list(Refund.objects.values_list("enrollment_id", flat=True)) == [cash.pk]  # the online payment


def test_county_roster_falls_back_for_other_years_and_new_persons(users, regions, policy, reads, monkeypatch):
    """Rows of another benefit year, and persons entered after the roster was read, are looked
    up in the database (the roster holds one year, read once)."""
    later = PolicyYear.objects.create(county=regions["county"], year=2026, window_start=date(2025, 9, 1), window_end=date(2025, 12, 31))
    Tier.objects.create(policy=later, number=1, name="一档", standard=Decimal("420.00"))
    known, entered_since = person_in(regions["v1"]), person_in(regions["v2"])
    if reads is not None:  # the roster misses a person, as if entered after it was read
        real_lacks = roster.CountyRoster.lacks

        def lacks(self, id_numbers):
            self.persons.pop(entered_since.id_number, None)
            return real_lacks(self, id_numbers)

        monkeypatch.setattr(roster.CountyRoster, "lacks", lacks)
    header = ["序号", "姓名", "公民身份号码", "缴费档次", "缴费金额", "缴费日期", "电子税票号", "缴费渠道", "待遇年度"]

    def apply(rows):
        ti = services.tax_import_create(
            actor=users["tax"], county=regions["county"], name="f.xlsx", year=2025, upload=io.BytesIO(workbook_bytes(rows, header=header))
        )
        return services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)

    summary = apply([
        [1, "甲", known.id_number, 1, 400, "2024-10-05", "Y001", "微信", 2025],
        [2, "乙", entered_since.id_number, 1, 400, "2024-10-05", "Y002", "微信", 2025],
    ])
    assert (summary["confirmed"], summary["unknown_person"]) == (2, 0)
    assert Enrollment.objects.get(person=entered_since, year=2025).tax_voucher == "Y002"
    summary = apply([[1, "甲", known.id_number, 1, 420, "2025-10-05", "Y003", "微信", 2026]])
    assert summary["confirmed"] == 1
    assert Enrollment.objects.get(person=known, year=2026).amount_due == Decimal("420.00")


# --- What is owed: the importer asks the one book with each chunk's identities -----------------
@pytest.fixture
def owed_cases(regions, policy):
    """Persons whose amount depends on the rules the importer once missed: an identity certified
    after last year's window, the mid-year rule, a newborn paying within the newborn window."""
    from enrollment.owed import owed_by
    from tests.factories import make_id

    p = policy["policy"]
    p.midyear_from, p.midyear_pays_fiscal_subsidy, p.fiscal_subsidy = date(2025, 7, 1), True, Decimal("670.00")
    p.save()
    last = PolicyYear.objects.create(county=regions["county"], year=2024, window_start=date(2023, 9, 1), window_end=date(2023, 12, 31))
    late_cat = SubsidyCategory.objects.create(policy=last, code="dibao", name="低保对象")
    cases = {
        "plain": (person_in(regions["v1"]), date(2024, 10, 5)),
        "late_identity": (person_in(regions["v1"]), date(2024, 10, 5)),
        "midyear": (person_in(regions["v2"]), date(2025, 7, 10)),
        "newborn": (person_in(regions["v2"], id_number=make_id(born=date(2025, 6, 1), sex="F")), date(2025, 7, 10)),
        "tier2": (person_in(regions["v3"]), date(2024, 11, 1)),
    }
    PersonIdentity.objects.create(person=cases["late_identity"][0], category=late_cat, year=2024, certified_on=date(2024, 3, 1))
    return {
        key: (person, paid_on, owed_by(person=person, year=2025, tier=2 if key == "tier2" else 1, paid_on=paid_on))
        for key, (person, paid_on) in cases.items()
    }


def test_filing_book_reads_each_chunks_identities(regions, owed_cases):
    """The chunk's identities (loaded in one query, not per person) reach the book as the roster's do."""
    book = matching.FilingBook(regions["county"])
    book.load_identities([p.pk for p, _, _ in owed_cases.values()], {2025})
    for key, (person, paid_on, expected) in owed_cases.items():
        _, got, error = book.owed(
            person_id=person.pk, year=2025, tier=2 if key == "tier2" else 1, student=person.is_student,
            birth_date=person.birth_date, paid_on=paid_on,
        )
        assert error == ""
        assert (got.standard, got.subsidy, got.self_pay, got.category and got.category.code) == (
            expected.standard, expected.subsidy, expected.self_pay, expected.category and expected.category.code,
        ), key
    assert owed_cases["late_identity"][2].self_pay == Decimal("40.00")  # the cases do differ from 400
    assert owed_cases["midyear"][2].self_pay == Decimal("1070.00")
    assert owed_cases["newborn"][2].self_pay == Decimal("400.00")


def test_importer_confirms_what_owed_by_says(users, regions, owed_cases, reads):
    rows = [
        [n, person.name, person.id_number, 2 if key == "tier2" else 1, str(owed.self_pay), paid_on.isoformat(), f"O{n}", "微信", ""]
        for n, (key, (person, paid_on, owed)) in enumerate(owed_cases.items(), start=1)
    ]
    _, summary, problems = apply_rows(users, regions, rows)
    assert problems == {} and summary["confirmed"] == len(owed_cases)
    e = Enrollment.objects.get(person=owed_cases["late_identity"][0], year=2025)
    assert (e.amount_due, e.subsidy, e.subsidy_category_code) == (Decimal("40.00"), Decimal("360.00"), "dibao")
    assert Enrollment.objects.get(person=owed_cases["midyear"][0]).amount_due == Decimal("1070.00")


def test_matching_reads_in_bulk_not_per_row(regions, policy):
    """The reads of a filing do not grow with its rows (every row another person and payment day)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads(n):
        people = [person_in(regions["v1"]) for _ in range(n)]
        for p in people[::2]:
            PersonIdentity.objects.create(person=p, category=policy["part"], year=2025, certified_on=date(2024, 8, 1))
        data = workbook_bytes(
            [[i, p.name, p.id_number, 1, 400, f"2024-10-{i % 28 + 1:02d}", f"Q{n}-{i}", "微信", ""] for i, p in enumerate(people)]
        )
        sheet = readers.open_sheet(io.BytesIO(data), "xlsx")
        with CaptureQueriesContext(connection) as ctx:
            run.run_filing(sheet=sheet, county=regions["county"], default_year=2025, dry_run=True)
        return len(ctx.captured_queries)

    assert reads(3) == reads(40)


# --- Hostile cells (PostgreSQL checks every length) ---------------------------------------------------
@pytest.mark.postgres
def test_hostile_cells_are_invalid_rows_not_a_crash(users, regions, world):
    known = world["pending"].person.id_number
    rows = [
        [1, "张" * 20000, known, 1, 400, "2024-10-05", "V" * 5000, "微信" * 3000, "村" * 10000],  # huge voucher
        [2, "李" * 20000, world["unknown_id"], 1, 400, "2024-10-05", "H002", "现金" * 3000, "甲二村" * 5000],  # huge name
        [3, "王", world["cash"].person.id_number, 1, 400, "2024-10-05", 3.41100000000012e15, "代征", "甲一村"],  # voucher as a number
        [4, "赵", world["noenroll"].id_number, 1, 400, "2024-10-05", 20240004, "代征", "乙一村"],  # a short number is fine
    ]
    ti = upload(users, regions, workbook_bytes(rows, header=["序号", "姓名", "公民身份号码", "缴费档次", "缴费金额", "缴费日期", "电子税票号", "缴费渠道", "乡镇"]))
    summary = services.tax_import_apply(actor=users["tax"], tax_import=ti, require_preview=False)
    ti.refresh_from_db()
    assert ti.status == ImportStatus.APPLIED and not ti.error
    assert (summary["invalid"], summary["unknown_person"], summary["confirmed"]) == (2, 1, 1)
    got = {r.row_number: r for r in ti.rows.all()}
    assert got[4].message == readers.ERR_VOUCHER_TOO_LONG.format(length=5000, limit=readers.VOUCHER_MAX)
    assert len(got[4].voucher) <= 60 and len(got[4].name) <= 50 and len(got[4].place) <= 100
    assert got[5].outcome == RowOutcome.UNKNOWN_PERSON and got[5].name == "李" * 49 + "…"
    assert got[6].message == readers.ERR_VOUCHER_NUMERIC.format(shown="3.411E+15")
    assert Enrollment.objects.get(person=world["pending"].person).status == EnrollmentStatus.PENDING
    assert Enrollment.objects.get(person=world["noenroll"], year=2025).tax_voucher == "20240004"


@pytest.mark.postgres
def test_nul_characters_do_not_reach_postgresql(users, regions, world):
    """The upload check refuses a csv with NUL bytes; the reader drops them anyway (defence in depth)."""
    from tests.unit.collections.tax_import_files import csv_bytes

    data = csv_bytes([[1, "甲\x00", "4113\x00", 1, 400, "2024-10-05", "V\x001", "微\x00信", "甲一村\x00"]])
    with pytest.raises(services.ImportFailed):
        upload(users, regions, data, name="明细.csv")
    ti = TaxImport.objects.create(county=regions["county"], year=2025, file="tax_imports/x.csv", original_name="x.csv", kind="csv")
    summary = run.run_filing(
        sheet=readers.open_sheet(io.BytesIO(data), "csv"), county=regions["county"], default_year=2025, dry_run=False, tax_import=ti,
    )
    row = ti.rows.get()
    assert summary["invalid"] == 1 and (row.name, row.voucher, row.channel, row.place) == ("甲", "V1", "微信", "甲一村")


def test_a_cancel_read_before_the_apply_committed_leaves_the_applied_import(users, regions, world):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    services.tax_import_preview(tax_import=ti)
    stale = TaxImport.objects.get(pk=ti.pk)  # the page's copy, read while the import was 待确认
    services.tax_import_apply(actor=users["tax"], tax_import=ti)
    services.tax_import_cancel(actor=users["tax"], tax_import=stale)
    assert TaxImport.objects.get(pk=ti.pk).status == ImportStatus.APPLIED
