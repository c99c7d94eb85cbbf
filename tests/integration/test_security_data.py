"""Bad input and traceability: formula escaping in every export, upload limits and zip bombs,
change history on every tracked model."""

import io
import re
import zipfile

import pytest
from django.apps import apps
from django.test import Client

from enrollment import spreadsheets
from enrollment.models import AuditEvent
from enrollment.spreadsheets import UploadError, check_upload, safe_cell, write_rows
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
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@")):
                    bad.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return bad


def test_write_rows_never_writes_a_formula():
    from openpyxl import Workbook

    wb = Workbook()
    write_rows(wb.active, ["=姓名", "身份证号"], [[f, "411325198005171234"] for f in FORMULAS], id_columns=(2,))
    buf = io.BytesIO()
    wb.save(buf)
    assert _formula_cells(buf.getvalue()) == []


def test_every_export_escapes_formulas_and_is_logged(users, regions):
    """Every route named *export* or *xlsx* that needs no parameter, as each role that may use it."""
    from tests.functional.test_every_route import walked_routes

    household = HouseholdFactory(village=regions["v1"], address=FORMULAS[1])
    for i, f in enumerate(FORMULAS[:4]):
        EnrollmentFactory(person=PersonFactory(household=household, name=f[:40]), reason_note=f)
    exports, checked = [], 0
    for route, name, pattern in walked_routes():
        if name and re.search(r"export|xlsx", name) and not pattern.pattern.regex.groupindex:
            exports.append((route, name))
    problems = []
    for route, name in exports:
        for role in ("clerk", "collector", "bureau", "tax"):
            client = Client(raise_request_exception=False)
            client.force_login(users[role])
            logged = AuditEvent.objects.count()
            resp = client.get("/" + route)
            if resp.status_code != 200 or resp.content[:2] != b"PK":
                continue
            checked += 1
            bad = _formula_cells(resp.content)
            if bad:
                problems.append(f"{name} as {role}: {bad[:5]}")
            if AuditEvent.objects.count() <= logged:
                problems.append(f"{name} as {role}: the export was not recorded in the audit log")
    assert not problems, "\n".join(problems)
    print(f"\nexports checked: {checked} of routes {[n for _, n in exports]}")


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
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, spreadsheets.ERR_XLS_OLD),
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
    from tests.functional.test_every_route import walked_routes

    imports = [(r, n) for r, n, p in walked_routes() if n and "import" in n and not p.pattern.regex.groupindex and not r.startswith("api/")]
    bad_files = {"bomb.xlsx": _zip_bomb(), "photo.xlsx": b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200}
    problems, tried = [], 0
    before = _project_counts()
    for route, name in imports:
        for role in ("clerk", "collector", "bureau", "dept", "tax"):
            client = Client(raise_request_exception=False)
            client.force_login(users[role])
            page = client.get("/" + route)
            if page.status_code != 200:
                continue
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
