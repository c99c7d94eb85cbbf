"""Bad input and traceability: formula escaping in every export, upload limits and zip bombs,
change history on every tracked model."""

import io
import re
import zipfile

import pytest
from django.apps import apps
from django.test import Client

from core import spreadsheets
from core.models import AuditEvent
from core.spreadsheets import UploadError, check_upload, safe_cell, write_rows
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+86-1380000", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Formula escaping -------------------------------------------------------------------------
@pytest.mark.parametrize("value", FORMULAS)
def test_safe_cell_escapes_formulas(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "411325198005171234", "", 400, -5, None, "a=b"])
def test_safe_cell_leaves_plain_values(value):
    assert safe_cell(value) == value


def _formula_cells(content: bytes):
    """Cells of every sheet that a spreadsheet would run: stored formulas, and text starting
    with a formula character (safe_cell prefixes those with ')."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(spreadsheets.FORMULA_PREFIXES)):
                    bad.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return bad


def _escaped_cells(content: bytes) -> int:
    """How many cells hold text escaped by safe_cell (the planted formulas reached the sheet)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return sum(
        1
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value[:1] == "'" and cell.value[1:].startswith(spreadsheets.FORMULA_PREFIXES)
    )


def test_write_rows_never_writes_a_formula():
    from openpyxl import Workbook

    wb = Workbook()
    write_rows(wb.active, ["=姓名", "身份证号"], [[f, "411325198005171234"] for f in FORMULAS], id_columns=(2,))
    buf = io.BytesIO()
    wb.save(buf)
    assert _formula_cells(buf.getvalue()) == []


PLANTED_PK = 980001
EXPORT_ROLES = ("bureau", "tax", "leader", "dept", "clerk", "collector")
TEMPLATE_QUERY = "?template=1"  # a page's link to its blank template workbook (the roster import's)


def _body(resp) -> bytes:
    return b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content


def _is_workbook(content: bytes) -> bool:
    """An xlsx workbook, by content (whatever the route is called or the response claims)."""
    if content[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


@pytest.fixture
def formula_world(users, regions, settings, tmp_path):
    """The users' own county full of text a spreadsheet would run, and the reports the app's own
    services publish from it. Returns the pks of objects of the users' region to feed as URL
    parameters besides ``PLANTED_PK``."""
    from collections_app.models import TaxImport, TaxImportRow
    from collections_app.models.tax_imports import PROBLEM_OUTCOMES
    from core.choices import ImportStatus
    from core.models import ImportRun
    from reporting import services as report_services
    from reporting.models import WeeklyNote
    from tests.support.route_walk import Planter

    settings.MEDIA_ROOT = tmp_path / "media"
    # Region names come from the official code tables, but a workbook must not trust them either
    # (the county's own name: see test_the_declaration_sheet_escapes_the_unit_name).
    regions["t1"].name, regions["v1"].name = "=HYPERLINK(\"http://e.x\",\"镇\")", "@SUM(1)村"
    regions["t1"].save(update_fields=["name"])
    regions["v1"].save(update_fields=["name"])
    # One row of every model with every text field starting with "=" (a person "=人980001", a
    # tax-import row, a declaration line, a weekly note, a report title…)…
    planter = Planter(
        pk=PLANTED_PK, county=regions["county"], township=regions["t1"], village=regions["v1"],
        below_mark="=", county_mark="=", own_county_rows=False,
    ).plant_all()
    assert not planter.failed, planter.failed
    # The problem rows' exports: the import's own, and the township's (rows of applied imports).
    TaxImportRow.objects.filter(pk=PLANTED_PK).update(outcome=PROBLEM_OUTCOMES[-1], township=regions["t1"])
    TaxImport.objects.filter(rows__pk=PLANTED_PK).update(status=ImportStatus.APPLIED)
    # An import run of a kind that is registered (the planter's kind is text), whose rows say "=…".
    ImportRun.objects.filter(pk=PLANTED_PK).update(kind="roster", rows=[[2, "error", FORMULAS[0], FORMULAS[1], ""]])
    # …residents named like every formula prefix, through the factories…
    household = HouseholdFactory(village=regions["v1"], address=FORMULAS[1])
    for f in FORMULAS:
        EnrollmentFactory(person=PersonFactory(household=household, name=f[:40], phone="+8613800000000"), reason_note=f)
    # …and the reports published from it, with the township's weekly note.
    day = report_services.local_today()
    daily = report_services.daily_report_publish(county=regions["county"], day=day)
    weekly = report_services.weekly_report_publish(county=regions["county"], day=day)
    WeeklyNote.objects.update_or_create(
        township=regions["t1"], date=weekly.date,
        defaults={"good_practices": FORMULAS[0], "problems": FORMULAS[2], "suggestions": FORMULAS[3], "author": users["clerk"]},
    )
    return [daily.pk, weekly.pk]


def test_every_workbook_of_every_route_escapes_formulas_and_is_logged(users, formula_world):
    """Every route, as each role, with its URL parameters filled with the planted rows' pk: whatever
    comes back as a workbook (by content, whatever the route is called) holds no formula, and the
    download is in the audit log. Routes that gave a workbook are asked again with the pks of the
    published reports; pages that link to their template workbook have it fetched too."""
    from tests.support.route_walk import build_url, is_admin, walked_routes

    problems, workbooks, reached = [], {}, set()
    routes = [(r, n, p) for r, n, p in walked_routes() if not is_admin(r) and n != "logout"]

    def check(client, role, url, name) -> bool:
        """GET ``url``; True if it was a workbook (checked)."""
        logged = AuditEvent.objects.count()
        resp = client.get(url)
        content = _body(resp) if resp.status_code == 200 else b""
        if not _is_workbook(content):
            if TEMPLATE_QUERY not in url and TEMPLATE_QUERY.encode() in content:
                check(client, role, url + TEMPLATE_QUERY, name)
            return False
        workbooks[name] = workbooks.get(name, 0) + 1
        if _escaped_cells(content):
            reached.add(name)
        bad = _formula_cells(content)
        if bad:
            problems.append(f"{url} [{name}] as {role}: {bad[:5]}")
        if TEMPLATE_QUERY not in url and AuditEvent.objects.count() <= logged:
            problems.append(f"{url} [{name}] as {role}: the export was not recorded in the audit log")
        return True

    for role in EXPORT_ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        for route, name, pattern in routes:
            url = build_url(route, name, pattern, PLANTED_PK, "")
            if url is None or not check(client, role, url, name or route):
                continue
            for pk in formula_world if pattern.pattern.regex.groupindex else ():
                check(client, role, build_url(route, name, pattern, pk, ""), name or route)
    print(f"\nworkbooks checked: {workbooks}; with planted formulas in them: {sorted(reached)}")
    assert not problems, "\n".join(problems)
    # The sweep is only as good as what it reached: every route that says it exports produced a
    # workbook, and the planted formulas made it into each (escaped).
    named = {n or r for r, n, p in routes if re.search(r"export|xlsx", f"{n} {r}")}
    assert named <= set(workbooks), f"no workbook from {sorted(named - set(workbooks))}"
    assert named <= reached, f"no planted formula reached {sorted(named - reached)}"


def test_the_declaration_sheet_escapes_the_unit_name(users, regions):
    from collections_app.exports import declaration_workbook
    from collections_app.models import Declaration

    regions["county"].name = '=HYPERLINK("http://evil.example","县")'
    regions["county"].save(update_fields=["name"])
    declaration = Declaration.objects.create(township=regions["t1"], village=regions["v1"], year=2025, created_by=users["clerk"])
    buf = io.BytesIO()
    declaration_workbook(declaration).save(buf)
    assert _formula_cells(buf.getvalue()) == []


# --- Uploads ---------------------------------------------------------------------------------------
def _xlsx_bytes(rows=(("姓名", "身份证号"), ("张三", "411325198005171234"))):
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    """A valid-looking xlsx with one member that inflates from ~60 KB to 60 MB."""
    buf = io.BytesIO(_xlsx_bytes())
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("xl/worksheets/sheet2.xml", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(60):
                member.write(block)
    return buf.getvalue()


def test_a_real_xlsx_and_a_csv_pass():
    assert check_upload(io.BytesIO(_xlsx_bytes())) == "xlsx"
    assert check_upload(io.BytesIO("姓名,身份证号\n张三,411325198005171234\n".encode("gb18030"))) == "csv"


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", spreadsheets.ERR_EMPTY_FILE),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, spreadsheets.ERR_NOT_SPREADSHEET),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 100, spreadsheets.ERR_NOT_SPREADSHEET),
        # the compound-file magic of an .xls with no real header behind it (a real .xls is read:
        # tests/unit/core/test_intake.py)
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, spreadsheets.ERR_CORRUPT),
        (b"PK\x03\x04garbage-not-a-zip", spreadsheets.ERR_CORRUPT.split("：")[0]),
    ],
)
def test_non_spreadsheets_are_refused_with_a_clear_message(content, message):
    with pytest.raises(UploadError) as exc:
        check_upload(io.BytesIO(content))
    assert exc.value.message.startswith(message.split("{")[0])


def test_a_zip_that_is_not_a_workbook_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(UploadError) as exc:
        check_upload(buf)
    assert exc.value.message == spreadsheets.ERR_NOT_SPREADSHEET


def test_zip_bombs_are_refused():
    with pytest.raises(UploadError) as exc:
        check_upload(io.BytesIO(_zip_bomb()))
    assert exc.value.message == spreadsheets.ERR_ZIP_BOMB


def test_files_over_the_size_limit_are_refused(settings):
    settings.CANBAO_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(UploadError) as exc:
        check_upload(io.BytesIO(_xlsx_bytes()))
    assert "文件太大" in exc.value.message


def _project_counts():
    return {
        m._meta.label: m._base_manager.count()
        for app in ("enrollment", "subsidies", "collections_app", "reporting")
        for m in apps.get_app_config(app).get_models()
        # Logging in saves the user (last_login), which simple_history records: not an import.
        if m._meta.label not in ("enrollment.AuditEvent", "enrollment.User", "enrollment.HistoricalUser")
    }


def test_every_import_page_refuses_bad_files_and_leaves_nothing_behind(users, regions):
    """Every route named *import* that needs no parameter: a zip bomb, a PNG and an old .xls are
    refused with a message, never a 500, and no row anywhere is added or changed."""
    from tests.support.route_walk import walked_routes

    imports = [(r, n) for r, n, p in walked_routes() if n and "import" in n and not p.pattern.regex.groupindex and not r.startswith("api/")]
    bad_files = {"bomb.xlsx": _zip_bomb(), "photo.xlsx": b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200}
    problems, tried = [], 0
    before = _project_counts()
    for route, name in imports:
        for role in ("clerk", "collector", "bureau", "dept", "tax"):
            client = Client(raise_request_exception=False)
            client.force_login(users[role])
            page = client.get("/" + route)
            if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
                continue  # e.g. an import's problem rows as xlsx: not a page with an upload
            fields = re.findall(r'<input[^>]*type="file"[^>]*name="([^"]+)"', page.content.decode()) + re.findall(
                r'<input[^>]*name="([^"]+)"[^>]*type="file"', page.content.decode()
            )
            if not fields:
                continue
            for filename, content in bad_files.items():
                tried += 1
                upload = io.BytesIO(content)
                upload.name = filename
                resp = client.post("/" + route, {fields[0]: upload, "year": 2025, "village": regions["v1"].pk})
                if resp.status_code >= 500:
                    problems.append(f"{name} as {role} with {filename}: {resp.status_code}")
                elif resp.status_code == 200 and "msg-error" not in resp.content.decode() and "error" not in resp.content.decode():
                    problems.append(f"{name} as {role} with {filename}: no error shown")
            break
    assert _project_counts() == before
    assert not problems, "\n".join(problems)
    print(f"\nimport uploads tried: {tried} on {[n for _, n in imports]}")


# --- Traceability ------------------------------------------------------------------------------------
TRACKED = [
    "enrollment.Person", "enrollment.Household", "enrollment.Enrollment", "enrollment.User",
    "subsidies.PersonIdentity", "subsidies.PolicyYear", "subsidies.SubsidyCategory", "subsidies.CategorySubsidy", "subsidies.Tier",
    "collections_app.Receipt", "collections_app.Remittance", "collections_app.Refund", "collections_app.Declaration",
]


@pytest.mark.parametrize("label", TRACKED)
def test_changes_to_this_model_are_recorded(label):
    try:
        model = apps.get_model(label)
    except LookupError:
        pytest.skip(f"{label} does not exist yet")
    assert hasattr(model, "history"), f"{label} has no HistoricalRecords()"


def test_a_list_over_the_row_limit_is_refused_not_cut(settings):
    """Shared reader of every import: more rows than allowed is a clear refusal, never a silent cut."""
    from core.intake import Columns, data_rows, find_header, read_rows
    from core.spreadsheets import ERR_TOO_MANY_ROWS, TITLE_ROWS, UploadError

    settings.CANBAO_MAX_IMPORT_ROWS = 3
    columns = Columns({"name": ("姓名",), "id": ("身份证号码",)}, required=("name", "id"))

    def body(csv_text, **limit):
        numbered = enumerate(read_rows(io.BytesIO(csv_text.encode()), name="list.csv", **limit), start=1)
        return list(data_rows(numbered, find_header(numbered, columns), columns, **limit))

    titled = "某县减员名单\n姓名,身份证号码\n" + "".join(f"张{i},41132519800101{i:04d}\n" for i in range(4))
    with pytest.raises(UploadError) as exc:
        body(titled)  # 4 data rows against 3: the title row and the header do not count for them
    assert exc.value.args[0] == ERR_TOO_MANY_ROWS.format(limit=3)
    assert len(body(titled, max_rows=4)) == 4
    with pytest.raises(UploadError):  # the sheet itself is bounded before anything is checked
        read_rows(io.BytesIO(("x\n" * (3 + TITLE_ROWS + 1)).encode()), name="big.csv")
