"""Hostile-file corpus fed to every import entry point.

Each file is built here, in memory: a far cell, a huge declared dimension, zip bombs with honest
and with lying sizes, entity expansion, a PDF renamed .xlsx, an empty file, formula cells, numeric
ID cells, non-ASCII digits in IDs, more rows than the limit. Every entry point — roster page,
identity-list page, tax filing page, tax filing API, ``import_tax_filing``, the Celery task on a
stored file, the tax answer upload — answers each with a Chinese sentence, writes nothing and
stays alive. Before a file reaches an in-process entry point, every reader (python-calamine,
openpyxl through tablib, csv) reads it in a subprocess under an address-space limit, so a
regression of the guard fails the test instead of killing pytest. ``restore`` gets its own
corpus (archives and dumps).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app.cash import services as cash_services
from collections_app.declarations import answers as answers
from collections_app.declarations import services as declaration_services
from collections_app.models import Refund, TaxImport
from collections_app.tax_import.tasks import run_tax_import
from core import idcard, intake, spreadsheets
from core.imports import flow as import_flow
from core.management.commands import restore as restore_command
from enrollment import identity_lists as identity_imports
from enrollment.models import Enrollment, Household, Person, PersonIdentity
from tests.factories.collections import household_with, make_policy, pay

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ROW_LIMIT = 40  # settings.CANBAO_MAX_IMPORT_ROWS in these tests
ADDRESS_SPACE = 1536 * 1024 * 1024  # the readers' subprocess: a regression hits MemoryError/abort, not the machine

# --- Building the files -----------------------------------------------------------------------
_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
HEADER = ("姓名", "公民身份号码", "实缴金额", "户号", "与户主关系", "资助类别", "认定日期", "结果", "失败原因")


def _col(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, str) and value.startswith("="):
        formula = value[1:].replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}"><f>{formula}</f></c>'  # a formula with no cached value
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _rows_xml(rows, start: int = 1) -> str:
    return "".join(
        f'<row r="{r}">' + "".join(_cell(f"{_col(c)}{r}", v) for c, v in enumerate(cells, 1) if v is not None) + "</row>"
        for r, cells in enumerate(rows, start)
    )


def _sheet(body: str, *, dimension: str | None = None, prolog: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + prolog
        + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + dim + "<sheetData>" + body + "</sheetData></worksheet>"
    )


def _xlsx(sheet_xml: str | None = None, *, sheet_chunks=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        if sheet_chunks is None:
            z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        else:
            with z.open("xl/worksheets/sheet1.xml", "w") as f:  # streamed: honest sizes, never all in memory
                for chunk in sheet_chunks:
                    f.write(chunk)
    return buf.getvalue()


def _person_row(id_cell, n: int = 1):
    return ["张三", id_cell, "400", f"{n:04d}", "户主", "低保对象", "2024-10-05", "成功", ""]


def far_cell() -> bytes:
    """A header and one cell at the sheet's last address: calamine's range from A1 to XFD1048576
    asks for 550 GB (SIGABRT); openpyxl pads 1,048,576 rows to 16,384 columns."""
    return _xlsx(_sheet(_rows_xml([HEADER]) + '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"))


def far_cell_alone() -> bytes:
    """The 1.6 KB file of the issue: its only cell at XFD1048576."""
    return _xlsx(_sheet('<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"))


def huge_dimension() -> bytes:
    """A tiny body declaring A1:XFD1048576 (openpyxl pads each row to the declared width)."""
    return _xlsx(_sheet(_rows_xml([HEADER, _person_row(idcard.make("411325", date(1980, 5, 17), 123))]), dimension="A1:XFD1048576"))


def _blank_chunks(total: int):
    yield _sheet(_rows_xml([HEADER])).split("</sheetData>")[0].encode()
    block = b" " * (1 << 20)
    for _ in range(total >> 20):
        yield block
    yield b"</sheetData></worksheet>"


BOMB_BYTES = 120 * 1024 * 1024  # 120 MiB of whitespace in ~120 KB: past the 200x ratio rule


def zip_bomb_honest() -> bytes:
    return _xlsx(sheet_chunks=_blank_chunks(BOMB_BYTES))


def zip_bomb_lying() -> bytes:
    """The same bomb with its sheet's uncompressed size written as 4 KB in the local header and
    the central directory: the door's check of declared sizes passes, the real bytes do not."""
    data = bytearray(zip_bomb_honest())
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = 0
        while (at := data.find(sig, at)) != -1:
            name_at = at + (46 if sig == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<L", data, at + size_at, 4096)
            at += 4
    return bytes(data)


def billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "' + "ha" * 50 + '">' + "".join(
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 10)
    )
    body = '<row r="1">' + _cell("A1", "姓名") + '<c r="B1" t="inlineStr"><is><t>&a9;</t></is></c></row>'
    return _xlsx(_sheet(body, prolog=f"<!DOCTYPE worksheet [{entities}]>"))


def pdf_renamed() -> bytes:
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def empty_file() -> bytes:
    return b""


def formulas() -> bytes:
    return _xlsx(_sheet(_rows_xml([HEADER, _person_row('=HYPERLINK("http://x.example","411325198005171233")'),
                                   ["=1+1", "=A2&B2", "=SUM(C1:C9)", "0002", "户主", "低保对象", "2024-10-05", "成功", ""]])))


def numeric_ids() -> bytes:
    return _xlsx(_sheet(_rows_xml([HEADER, _person_row(4.11325198005171e17), _person_row(411325198005171234, 2)])))


NON_ASCII = ("²", "①", "٣")


def non_ascii_digits() -> bytes:
    good = idcard.make("411325", date(1980, 5, 17), 123)
    rows = [HEADER] + [_person_row(good[:i] + ch + good[i + 1 :], n) for n, (i, ch) in enumerate(zip((3, 10, 16), NON_ASCII), 1)]
    return _xlsx(_sheet(_rows_xml(rows)))


def too_many_rows() -> bytes:
    people = [_person_row(idcard.make("411325", date(1980, 1, 1), n), n) for n in range(1, ROW_LIMIT * 3)]
    return _xlsx(_sheet(_rows_xml([HEADER, *people])))


def too_many_rows_csv() -> bytes:
    people = [",".join(map(str, _person_row(idcard.make("411325", date(1980, 1, 1), n), n))) for n in range(1, ROW_LIMIT * 3)]
    return ("\n".join([",".join(HEADER), *people]) + "\n").encode("utf-8")


def _prefix(template: str) -> str:
    return template.split("{")[0]


@dataclass(frozen=True)
class Hostile:
    build: object
    # what the reader answers (a guard or reader message) — or, for files that read, the row's error
    expect: tuple[str, ...]
    readable: bool = False  # rows reach the importers (their errors are per row)
    name: str = "hostile.xlsx"


SHEET = (spreadsheets.ERR_SHEET_TOO_WIDE, spreadsheets.ERR_SHEET_TOO_LONG, spreadsheets.ERR_SHEET_TOO_LARGE)
CORPUS = {
    "far_cell": Hostile(far_cell, SHEET),
    "far_cell_alone": Hostile(far_cell_alone, SHEET),
    "huge_dimension": Hostile(huge_dimension, SHEET),
    "zip_bomb_honest": Hostile(zip_bomb_honest, (spreadsheets.ERR_ZIP_BOMB,)),
    "zip_bomb_lying": Hostile(zip_bomb_lying, (spreadsheets.ERR_ZIP_BOMB,)),
    "billion_laughs": Hostile(billion_laughs, (spreadsheets.ERR_DTD,)),
    "pdf_renamed": Hostile(pdf_renamed, (spreadsheets.ERR_NOT_SPREADSHEET,)),
    # the upload forms and serializers refuse an empty file themselves, in Chinese ("提交的是空文件。")
    "empty": Hostile(empty_file, (spreadsheets.ERR_EMPTY_FILE, "空文件")),
    "formulas": Hostile(formulas, (idcard.ERR_EMPTY, idcard.ERR_LENGTH, idcard.ERR_CHARS), readable=True),
    "numeric_ids": Hostile(numeric_ids, (idcard.ERR_NUMERIC_CELL,), readable=True),
    "non_ascii_digits": Hostile(non_ascii_digits, (idcard.ERR_CHARS,), readable=True),
    "too_many_rows": Hostile(too_many_rows, (spreadsheets.ERR_SHEET_TOO_LONG,)),
    "too_many_rows_csv": Hostile(too_many_rows_csv, (spreadsheets.ERR_TOO_MANY_ROWS,), name="hostile.csv"),
}


@functools.cache
def file_bytes(case: str) -> bytes:
    return CORPUS[case].build()


# --- Every reader, in a subprocess under an address-space limit --------------------------------
READERS_SCRIPT = r"""
import io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
import django
django.setup()
from collections_app.tax_import import readers
from core import intake, spreadsheets
from enrollment import roster_import

data = open(sys.argv[1], "rb").read()
kind = "csv" if sys.argv[1].endswith(".csv") else "xlsx"
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "read"
    except (spreadsheets.UploadError, readers.ReaderError) as exc:
        out[name] = exc.message
def calamine():
    spreadsheets.check_upload(io.BytesIO(data))
    sheet = readers.open_sheet(io.BytesIO(data), kind)
    for _ in sheet.rows():
        pass
attempt("read_rows", lambda: intake.read_rows(io.BytesIO(data)))
attempt("open_sheet", calamine)
if data:
    attempt("roster", lambda: roster_import.load(data))
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(out, ensure_ascii=False))
"""


@functools.cache
def readers_in_subprocess(case: str, tmp: str) -> dict:
    path = Path(tmp) / f"{case}{Path(CORPUS[case].name).suffix}"
    path.write_bytes(file_bytes(case))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "CANBAO_MAX_IMPORT_ROWS": str(ROW_LIMIT),
           "PYTHONPATH": str(ROOT), "LOG_LEVEL": "ERROR"}
    proc = subprocess.run([sys.executable, "-c", READERS_SCRIPT, str(path), str(ADDRESS_SPACE)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, f"a reader died on {case} (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reader_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hostile"))


# --- The world the entry points act in ---------------------------------------------------------
@pytest.fixture(autouse=True)
def limits(settings, tmp_path, monkeypatch):
    settings.CANBAO_MAX_IMPORT_ROWS = ROW_LIMIT
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(identity_imports, "MAX_ROWS", ROW_LIMIT)


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """restore flushes (then rolls back) content types; don't let cached ids leak to other tests."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


@pytest.fixture
def world(users, regions):
    """A county policy; in v1 two residents paid cash, remitted (what a declaration is made of)."""
    policy = make_policy(regions["county"])
    collector = users["collector"]
    hh, members = household_with(regions["v1"], 3)
    receipt = pay(collector, hh, members[:2])
    cash_services.ledger_confirm(actor=collector, day=timezone.localdate(), cash_counted="800")
    cash_services.remittance_record(
        actor=collector, collector=collector, deposited_on=timezone.localdate(), amount="800", slip_number="S1", receipts=[receipt]
    )
    return {"policy": policy, "members": members}


def state():
    """What an import may change: nothing of it may change on a hostile file."""
    return (
        Person.objects.count(), Household.objects.count(), PersonIdentity.objects.count(), Refund.objects.count(),
        sorted(Enrollment.objects.values_list("person_id", "status", "tax_voucher")),
    )


def upload(case: str):
    return SimpleUploadedFile(CORPUS[case].name, file_bytes(case), content_type="application/octet-stream")


def roster_page(client, users, regions, world, case):
    client.force_login(users["collector"])
    resp = client.post(reverse("enrollment:roster_import") + f"?year={world['policy'].year}",
                       {"step": "preview", "village": regions["v1"].pk, "file": upload(case)}, follow=True)
    assert resp.status_code == 200  # the upload page (refused at the door) or the run's page (read, and judged)
    return resp.content.decode()


def identity_page(client, users, regions, world, case):
    client.force_login(users["dept"])
    resp = client.post(reverse("enrollment:identity_import"), {"policy": world["policy"].pk, "source_list": "", "file": upload(case)})
    if resp.status_code == 302:  # read: the preview lists each row's error, nothing is written before confirm
        resp = client.get(resp["Location"])
    assert resp.status_code == 200
    return resp.content.decode()


def _tax_outcome(ti: TaxImport | None) -> str:
    if ti is None:
        return ""
    ti.refresh_from_db()
    problems = " ".join(ti.rows.values_list("message", flat=True))
    return f"{ti.error} {problems} {json.dumps(ti.preview, ensure_ascii=False)}"


def tax_page(client, users, regions, world, case):
    client.force_login(users["tax"])
    resp = client.post(reverse("collections:taximport_list"), {"file": upload(case), "year": world["policy"].year}, follow=True)
    assert resp.status_code == 200
    return resp.content.decode() + _tax_outcome(TaxImport.objects.order_by("-pk").first())


def tax_api(client, users, regions, world, case):
    api = APIClient()
    api.force_authenticate(users["tax"])
    resp = api.post("/api/imports/", {"file": upload(case), "year": world["policy"].year}, format="multipart")
    assert resp.status_code in (201, 400)
    return json.dumps(resp.json(), ensure_ascii=False) + _tax_outcome(TaxImport.objects.order_by("-pk").first())


def tax_command(client, users, regions, world, case, tmp_path=None):
    path = Path(str(world.get("tmp"))) / CORPUS[case].name
    path.write_bytes(file_bytes(case))
    out = io.StringIO()
    try:
        call_command("import_tax_filing", str(path), "--county", regions["county"].code, "--year", str(world["policy"].year), stdout=out)
    except CommandError as exc:
        return f"{exc} {out.getvalue()}"
    return out.getvalue() + _tax_outcome(TaxImport.objects.order_by("-pk").first())


def tax_task(client, users, regions, world, case):
    """A file already stored (uploaded before the guard, or put there by hand), run by the worker."""
    ti = TaxImport(county=regions["county"], year=world["policy"].year, original_name=CORPUS[case].name,
                   kind="csv" if CORPUS[case].name.endswith(".csv") else "xlsx", uploaded_by=users["tax"])
    ti.file.save(f"stored{Path(CORPUS[case].name).suffix}", ContentFile(file_bytes(case)), save=False)
    ti.save()
    result = run_tax_import(ti.pk)
    return json.dumps(result, ensure_ascii=False, default=str) + _tax_outcome(ti)


def tax_answer(client, users, regions, world, case):
    declaration = world["declaration"]
    f = io.BytesIO(file_bytes(case))
    f.name = CORPUS[case].name
    try:
        answers.declaration_answer_import(actor=users["clerk"], declaration=declaration, fileobj=f)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


ENTRY_POINTS = {
    "roster_page": roster_page, "identity_page": identity_page, "tax_page": tax_page, "tax_api": tax_api,
    "tax_command": tax_command, "tax_task": tax_task, "tax_answer": tax_answer,
}
_NOT_A_SENTENCE = re.compile(r"Traceback|Error\b|Exception|BadZipFile|ParseError|invalid literal")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", CORPUS)
def test_every_entry_point_answers_a_hostile_file_in_chinese_and_writes_nothing(
    case, entry, client, users, regions, world, reader_dir, tmp_path
):
    hostile = CORPUS[case]
    survived = readers_in_subprocess(case, reader_dir)  # every reader, under an address-space limit
    if not hostile.readable:
        for reader in ("read_rows", "open_sheet", "roster"):
            if reader in survived:
                assert any(_prefix(t) in survived[reader] for t in hostile.expect), (reader, survived[reader])
    expect = hostile.expect
    world["tmp"] = tmp_path
    if entry == "tax_answer":  # the declaration the answer is for
        world["declaration"] = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=world["policy"].year)
    before = state()
    shown = ENTRY_POINTS[entry](client, users, regions, world, case)
    if entry == "tax_answer" and hostile.readable:
        expect = expect + (answers.ERR_ANSWER_UNKNOWN, answers.ERR_ANSWER_COLUMNS)
    if entry == "roster_page" and hostile.readable:
        expect = expect + (import_flow.ERR_HAS_ERRORS,)
    assert any(_prefix(t) in shown for t in expect), shown[-3000:]
    assert not _NOT_A_SENTENCE.search(re.sub(r"<[^>]+>", " ", shown)), shown[-3000:]
    assert state() == before


def test_the_guard_stops_a_long_file_as_soon_as_the_limit_is_crossed(monkeypatch):
    """Rows past the limit in the sheet's first chunk and 64 MiB after them: the scan stops at the
    first chunk instead of reading the file to its end."""
    rows = _rows_xml([HEADER] + [_person_row("x", n) for n in range(ROW_LIMIT * 3)]).encode()

    def sheet_chunks():
        yield _sheet("").split("</sheetData>")[0].encode() + rows
        for _ in range(64):
            yield b" " * (1 << 20)
        yield b"</sheetData></worksheet>"

    data = _xlsx(sheet_chunks=sheet_chunks())
    read = []
    original = spreadsheets._member_chunks

    def counted(fileobj, info, budget):
        for chunk in original(fileobj, info, budget):
            read.append((info.filename, len(chunk)))
            yield chunk

    monkeypatch.setattr(spreadsheets, "_member_chunks", counted)
    with pytest.raises(spreadsheets.UploadError) as exc:
        spreadsheets.check_workbook(io.BytesIO(data))
    assert _prefix(spreadsheets.ERR_SHEET_TOO_LONG) in exc.value.message
    assert sum(n for name, n in read if name.endswith("sheet1.xml")) <= 2 * spreadsheets._CHUNK


@pytest.mark.parametrize(
    "xml",
    [
        # a cell whose address is far from its row's number
        _rows_xml([HEADER]) + '<row r="2">' + _cell("A900000", "x") + "</row>",
        # an address-less cell placed after a far one (calamine counts on from the previous cell)
        '<row r="1">' + _cell("IV1", "x") + '<c t="inlineStr"><is><t>y</t></is></c></row>',
        # the address not first among the attributes
        '<row r="1"><c t="inlineStr" r="XFD1"><is><t>x</t></is></c></row>',
        # a row without its number, then a far cell
        "<row>" + _cell("A1", "x") + "</row>" + "<row>" + _cell("ZZZ2", "x") + "</row>",
    ],
    ids=["cell-row-not-its-row", "address-less-after-far", "address-not-first", "row-without-number"],
)
def test_the_guard_reads_unusual_addresses_exactly(xml):
    with pytest.raises(spreadsheets.UploadError) as exc:
        spreadsheets.check_workbook(io.BytesIO(_xlsx(_sheet(xml))))
    assert any(_prefix(t) in exc.value.message for t in SHEET)


def test_a_normal_sheet_passes_the_guard_and_reads():
    data = _xlsx(_sheet(_rows_xml([HEADER] + [_person_row(idcard.make("411325", date(1980, 1, 1), n), n) for n in range(1, ROW_LIMIT)])))
    spreadsheets.check_workbook(io.BytesIO(data))
    assert len(intake.read_rows(io.BytesIO(data))) == ROW_LIMIT


# --- restore: its own format --------------------------------------------------------------------
def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _dump(lines) -> bytes:
    return gzip.compress("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode())


RESTORE_CORPUS = {
    "empty": (b"", restore_command.ERR_NOT_BACKUP),
    "pdf_renamed": (pdf_renamed(), restore_command.ERR_NOT_BACKUP),
    "truncated_gzip": (_dump([{"model": "enrollment.region", "pk": 1, "fields": {}}])[:20], restore_command.ERR_NOT_BACKUP),
    "not_json": (gzip.compress(b"{not json\n"), restore_command.ERR_NOT_BACKUP),
    "bad_row": (_dump([{"model": "enrollment.person", "pk": 1, "fields": {"name": "x"}}]), restore_command.ERR_BAD_ROW),
    "unknown_model": (_dump([{"model": "nosuch.model", "pk": 1, "fields": {}}]), restore_command.ERR_BAD_ROW),
    "tar_escaping_media": (_tar({"data.jsonl.gz": _dump([]), "media/../../escaped.txt": b"evil"}), restore_command.ERR_UNSAFE_MEMBER),
    "tar_without_dump": (_tar({"media/a.txt": b"x"}), restore_command.ERR_NOT_BACKUP),
    "corrupt_tar": (_tar({"data.jsonl.gz": _dump([])})[:700] + os.urandom(300), restore_command.ERR_NOT_BACKUP),
}


@pytest.mark.parametrize("case", RESTORE_CORPUS)
def test_restore_answers_a_bad_archive_in_chinese_and_changes_nothing(case, world, tmp_path):
    data, expect = RESTORE_CORPUS[case]
    path = tmp_path / ("backup.tar" if case.startswith(("tar", "corrupt")) else "backup.jsonl.gz")
    path.write_bytes(data)
    before = state()
    with pytest.raises(CommandError) as exc:
        call_command("restore", str(path), interactive=False)
    assert _prefix(expect) in str(exc.value)
    assert not _NOT_A_SENTENCE.search(str(exc.value)), str(exc.value)
    assert state() == before
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("far", ["J1048576", "XFD5", "IW70000"])
def test_a_far_cell_deep_in_a_long_sheet_is_found(settings, far):
    """Past the first chunk the guard searches only for cells outside what is safe (see
    spreadsheets._outside); one far cell after 70,000 ordinary rows is still found."""
    settings.CANBAO_MAX_IMPORT_ROWS = 1_000_000
    body = _rows_xml([[f"v{c}" for c in range(10)] for _ in range(70_000)])
    assert len(body) > 2 * spreadsheets._CHUNK
    data = _xlsx(_sheet(body + '<row r="70001">' + _cell(far, "x") + "</row>"))
    with pytest.raises(spreadsheets.UploadError) as exc:
        spreadsheets.check_workbook(io.BytesIO(data))
    assert any(_prefix(t) in exc.value.message for t in SHEET)
    spreadsheets.check_workbook(io.BytesIO(_xlsx(_sheet(body))))  # the same sheet without it passes
