"""Journey 3: a tax-office user (内乡县税务局) uploads a 5,000-row payment file, watches the progress
bar, reads the preview, confirms, and downloads the problem rows.

The import runs as the Celery task ``run_tax_import``. So that the progress bar can be watched
whatever the environment (eager Celery locally, Redis in CI), the test plays the worker: the page's
``.delay`` only queues the job, and the test then runs the very same task in its own thread, pausing
once while the task reports progress so the browser can poll and show the bar. The browser's polling
requests are passed through ``page.route`` so they reach the server only between the task's steps.
"""

from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.utils import timezone

from collections_app.tax_import import progress
from collections_app.tax_import import services as tax_services
from collections_app.tax_import import tasks as tax_tasks
from core import idcard
from core.choices import Role
from core.models import Region
from enrollment import demo_data
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, PersonIdentity
from tests.functional.journeys import data

pytestmark = pytest.mark.browser  # headless Chromium; skipped when /usr/bin/chromium is absent

COUNTY = "411325"
ROWS = 5000
RUN_TAX_IMPORT = tax_tasks.run_tax_import  # the real task: the test queues by patching the module's name


class QueuedTasks:
    """Stands in for ``run_tax_import`` in the views: ``.delay`` records the job (as a broker would)."""

    def __init__(self):
        self.jobs = []

    def delay(self, *args, **kwargs):
        # Progress is cached by import id, and ids restart with every test database: forget any
        # figure an earlier test left under this id (a real deployment never reuses an id).
        cache.delete(progress.TRACKER.progress_key(args[0]))
        self.jobs.append((args, kwargs))


@pytest.fixture
def filing(tmp_path):
    data.load_seeds()
    year = data.open_policy_year(COUNTY)
    county = Region.objects.get(code=COUNTY)
    data.user("tax_li", Role.TAX, COUNTY, "李税务")
    demo_data.seed_county(county=county, residents=6000, year=year, seed=11)
    with_identity = set(PersonIdentity.objects.values_list("person_id", flat=True))
    es = (
        Enrollment.objects.filter(year=year, tier=1, person__is_student=False)
        .exclude(status__in=[EnrollmentStatus.EXCLUDED, EnrollmentStatus.REFUNDED])
        .exclude(person_id__in=with_identity)
        .select_related("person", "village__parent")
        .order_by("id")
    )
    es = list(es)
    problems = 6  # 3 unknown persons, 2 wrong amounts, 1 paid twice
    good = es[: ROWS - problems]
    assert len(good) == ROWS - problems, f"demo county too small: {len(es)} usable enrollments"
    paid_on = timezone.localdate() - timedelta(days=3)
    rows = []
    for n, e in enumerate(good, start=1):
        confirmed = e.status == EnrollmentStatus.CONFIRMED
        voucher = e.tax_voucher if confirmed else f"3{COUNTY}{n:011d}"
        # Cash taken in the village reaches the tax office through the township's declaration (代征);
        # everyone else paid online themselves.
        channel = "代征" if e.status in (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED) else "微信"
        rows.append([e.person.name, e.person.id_number, "一档", "400.00", paid_on.isoformat(), voucher, channel, e.village.name, e.village.parent.name])
    new = [e for e in good if e.status != EnrollmentStatus.CONFIRMED]
    mismatch = [e for e in es[ROWS - problems :] if e.status != EnrollmentStatus.CONFIRMED][:2]
    assert len(mismatch) == 2
    for i, e in enumerate(mismatch):
        rows.append([e.person.name, e.person.id_number, "一档", "380.00", paid_on.isoformat(), f"9{COUNTY}{i:011d}", "现金", e.village.name, e.village.parent.name])
    for i in range(3):
        stranger = idcard.make("411325", timezone.localdate().replace(year=1975) + timedelta(days=i), 880 + i)
        rows.append([f"外来{i + 1}", stranger, "一档", "400.00", paid_on.isoformat(), f"8{COUNTY}{i:011d}", "支付宝", "", ""])
    twice = next(e for e in new if e.status == EnrollmentStatus.PENDING)  # paid online twice
    rows.append([twice.person.name, twice.person.id_number, "一档", "400.00", paid_on.isoformat(), f"7{COUNTY}{0:011d}", "支付宝", twice.village.name, twice.village.parent.name])
    assert len(rows) == ROWS

    path = tmp_path / "内乡县居民医保缴费明细.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["内乡县城乡居民基本医疗保险费缴费明细（税务系统导出）"])
    ws.merge_cells("A1:J1")
    ws.append(["序号", "姓名", "公民身份号码", "缴费档次", "缴费金额", "缴费日期", "税票号码", "缴费渠道", "参保地", "乡镇"])
    for n, r in enumerate(rows, start=1):
        ws.append([n, *r])
    ws.append(["合计", None, None, None, f"{sum(Decimal(r[3]) for r in rows):.2f}"])
    for (cell,) in ws.iter_rows(min_row=3, min_col=3, max_col=3):
        cell.number_format = "@"
    wb.save(path)
    return {"year": year, "path": path, "new": len(new) - 0, "already": len(good) - len(new), "twice": twice}


def _run_task_with_a_look(j, queued: QueuedTasks, monkeypatch, step: str):
    """Run the queued job as a worker would; when it first reports progress past the start, let the
    browser poll once and photograph the bar."""
    (args, kwargs) = queued.jobs.pop(0)
    original = tax_services.set_progress
    seen = {"shot": False}

    def reporting(import_id, percent, message):
        original(import_id, percent, message)
        if not seen["shot"] and 0 < percent < 100:
            seen["shot"] = True
            j.page.wait_for_function(
                "([p, m]) => { const s = document.querySelector('[data-progress-url] .progress > span');"
                " const t = document.querySelector('[data-progress-text]');"
                " return s && t && parseInt(s.style.width) === p && t.textContent.includes(m); }",
                arg=[percent, message],
                timeout=10_000,
            )
            j.shot(step)

    monkeypatch.setattr(tax_services, "set_progress", reporting)
    try:
        RUN_TAX_IMPORT.apply(args=args, kwargs=kwargs)
    finally:
        monkeypatch.setattr(tax_services, "set_progress", original)
    assert seen["shot"], "the task reported no progress"


def test_tax_import(journey, filing, monkeypatch):
    queued = QueuedTasks()
    monkeypatch.setattr(tax_tasks, "run_tax_import", queued)  # queue_tax_import queues through it
    j = journey("tax_import")
    page = j.page
    # Progress polls reach the server only while Playwright runs (never in the middle of the task).
    page.route("**/tax-imports/*/progress/", lambda route: route.continue_())

    j.login("tax_li")
    j.see("税务局工作人员", "税务数据导入")
    j.nav("税务数据导入")
    j.see("还没有导入记录")
    j.shot("upload")

    page.get_by_label("缴费/入库明细文件").set_input_files(str(filing["path"]))
    j.follow(page.get_by_role("button", name="上传并预检"))
    j.see_message("文件已上传，正在预检")
    assert page.locator("[data-progress-url] .progress").is_visible()
    _run_task_with_a_look(j, queued, monkeypatch, "preview-progress")
    page.wait_for_url("**/tax-imports/*/", timeout=15_000)
    page.wait_for_selector("text=这是预检结果，数据尚未修改")
    j.see_message("预检完成：请核对各项数量和问题行")

    # --- The preview: counts a clerk can check against the file --------------------------------------
    def stat(label):
        return page.locator(".stat", has=page.locator(".label", has_text=label)).locator(".value").inner_text().strip()

    assert stat("读取数据行") == str(ROWS)
    assert stat("确认入库") == str(filing["new"])
    assert stat("此前已入库（同一税票）") == str(filing["already"])
    assert stat("金额与应缴不符") == "2"
    assert stat("本县查无此人") == "3"
    assert stat("重复缴费（退费候选）") == "1"
    assert stat("空行/合计行（跳过）") == "1"
    j.see("外来1", "380.00")
    assert Enrollment.objects.filter(status=EnrollmentStatus.CONFIRMED, tax_voucher__startswith="3").count() == 0, "a preview changes nothing"
    j.shot("preview")

    # --- Confirm -----------------------------------------------------------------------------------------
    j.follow(page.get_by_role("button", name="确认导入"))  # the data-confirm dialog is accepted
    j.see_message("正在导入")
    _run_task_with_a_look(j, queued, monkeypatch, "apply-progress")
    page.wait_for_selector("text=已导入：确认入库的人员状态已改为“已入库”", timeout=15_000)
    j.see_message(f"导入完成：确认入库 {filing['new']} 人")
    assert stat("确认入库") == str(filing["new"])
    assert Enrollment.objects.filter(status=EnrollmentStatus.CONFIRMED, tax_voucher__startswith="3").count() == filing["new"]
    j.shot("applied")

    # --- Problem rows for the townships: filter, then download ------------------------------------------
    with page.expect_navigation():  # the select submits its form by itself
        page.get_by_label("结果").select_option(label="本县查无此人")
    assert "outcome=unknown_person" in page.url
    assert page.locator("table tbody tr").count() == 3
    j.see("外来1", "外来2", "外来3")
    j.shot("problems-filtered")
    xlsx = j.download(lambda: page.get_by_role("link", name="下载问题行（xlsx）").click())
    ws = openpyxl.load_workbook(xlsx).active
    got = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(got) == 6
    outcomes = sorted(r[1] for r in got)
    assert outcomes.count("本县查无此人") == 3 and outcomes.count("金额与应缴不符") == 2
    assert any(r[3] == filing["twice"].person.name and r[1] == "重复缴费（退费候选）" for r in got)

    j.nav("税务数据导入")
    j.see("已导入", str(ROWS))
    j.shot("history")
    j.assert_no_js_errors()
