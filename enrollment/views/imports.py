"""Roster import: upload → preview (nothing written) → confirm → all rows or none.

The file (xlsx, xls, ods or csv; the header may sit below title rows) is read by the one reader
(``core.intake``) into the tablib.Dataset that django-import-export's RosterResource imports."""

import io
import logging
import uuid
from dataclasses import asdict
from pathlib import Path

import tablib
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from openpyxl import Workbook

from core import audit, cells, intake
from core.access import needs
from core.choices import RegionLevel
from core.scoping import region_in_scope
from core.spreadsheets import UploadError, check_upload, write_rows, xlsx_response

from .. import selectors
from ..forms import ImportForm
from ..resources import COLUMNS, TEMPLATE_COLUMNS, Move, RosterResource, row_messages
from .common import page_year, picked_regions

SESSION_KEY = "roster_import"
MSG_PREVIEW_OK = "预览通过：新增{new}人，更新{update}人，换户{moved}人。确认后才会写入。"
MSG_IMPORTED = "导入完成：新增{new}人，更新{update}人，换户{moved}人。"
MSG_NOTHING_WRITTEN = "有错误，没有写入任何数据。请按行改正后重新上传。"
ERR_EXPIRED = "预览已过期，请重新上传文件。"
ERR_TOO_MANY_ROWS = "文件有{rows}行，超过上限{limit}行，请拆分后分批导入。"
ERR_UNREADABLE = "无法读取这个文件：它不是有效的 Excel（.xlsx、.xls）、.ods 或 CSV 文件，或者已损坏。请用 Excel 打开后另存为 .xlsx 再上传。"

log = logging.getLogger(__name__)


def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _load(data: bytes) -> tuple[tablib.Dataset, list[int]]:
    """The upload as the Dataset RosterResource imports, and each data row's number in the sheet.
    The header's known columns take the roster's names (COLUMNS); blank and totals rows are left out."""
    sheet = intake.open_upload(io.BytesIO(data))  # the door check and the guard, before calamine allocates
    try:
        rows = sheet.rows()
        header = intake.find_header(rows, COLUMNS)
        if header is None:
            # No row names every required column: the first row is taken as the header, so the
            # preview says which columns are missing.
            rows = (r for r in sheet.rows() if not all(cells.is_blank(c) for c in r[1]))
            line, first = next(rows, (1, []))
            header = intake.Header(line=line, columns=COLUMNS.map(first), cells=list(first))
        names = [cells.text(c) for c in header.cells]
        for key, index in header.columns.items():
            names[index] = key
        width = len(names)
        dataset, lines = tablib.Dataset(headers=names), []
        for line, row in intake.data_rows(rows, header, COLUMNS):
            dataset.append(list(row[:width]) + [""] * (width - len(row)))
            lines.append(line)
    finally:
        sheet.close()
    return dataset, lines


def _run(user, village, year, data: bytes, *, dry_run: bool, previewed_moves: list[Move] | None = None):
    dataset, lines = _load(data)
    if len(dataset) > settings.CANBAO_MAX_IMPORT_ROWS:
        raise UploadError(ERR_TOO_MANY_ROWS.format(rows=len(dataset), limit=settings.CANBAO_MAX_IMPORT_ROWS))
    resource = RosterResource(actor=user, village=village, year=year, previewed_moves=previewed_moves, lines=lines)
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
    )
    return result, row_messages(result, lines), resource.moves


def _counts(result, moves: list[Move]) -> dict[str, int]:
    """The summary the preview and the confirm report: a move is not counted as a plain update."""
    return {"new": result.totals["new"], "update": result.totals["update"] - len(moves), "moved": len(moves)}


@needs("roster.import")
def roster_import(request):
    user = request.user
    if not user.can("roster.edit"):
        raise PermissionDenied
    township, village = picked_regions(request)
    year = page_year(request, village or township or user.region)
    villages = selectors.villages_for(user, township=township if not (user.region and user.region.level == RegionLevel.VILLAGE) else None)
    if request.GET.get("template") == "1":
        wb = Workbook()
        write_rows(wb.active, TEMPLATE_COLUMNS, [["0001", "示例村1组", "张三", "", "户主", "", "", "否", "参保", "", 1]], id_columns=(1, 4))
        return xlsx_response(wb, "花名册导入模板.xlsx")
    ctx = {"year": year, "village": village}
    step = request.POST.get("step")
    if request.method == "POST" and step == "confirm":
        pending = request.session.get(SESSION_KEY) or {}
        path = _import_dir() / f"{pending.get('token', 'x')}.upload"
        if pending.get("token") != request.POST.get("token") or not path.exists():
            messages.error(request, ERR_EXPIRED)
            return redirect(reverse("enrollment:roster_import"))
        target = selectors.visible_region(user, pending["village"], RegionLevel.VILLAGE)
        if target is None or not region_in_scope(user, target):
            raise PermissionDenied
        previewed = [Move(**m) for m in pending.get("moves", [])]
        result, problems, moves = _run(user, target, pending["year"], path.read_bytes(), dry_run=False,
                                       previewed_moves=previewed)
        if problems or result.has_errors() or result.has_validation_errors():
            messages.error(request, MSG_NOTHING_WRITTEN)
            ctx.update(problems=problems, form=ImportForm(villages=villages, initial={"village": target}))
            return render(request, "enrollment/import.html", ctx)
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
        counts = _counts(result, moves)
        audit.record(actor=user, action=audit.ACTION_IMPORT, obj=target,
                     detail={"what": "roster", "year": pending["year"], **counts, "file": pending.get("name", "")})
        messages.success(request, MSG_IMPORTED.format(**counts))
        return redirect(f"{reverse('enrollment:roster')}?village={target.pk}&year={pending['year']}")

    form = ImportForm(request.POST or None, request.FILES or None, villages=villages, initial={"village": village})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        target = form.cleaned_data["village"]
        try:
            check_upload(upload, name=upload.name)
            data = upload.read()
            result, problems, moves = _run(user, target, year, data, dry_run=True)
        except intake.ReaderError:  # passed the guard, but calamine could not read it: its detail is not for clerks
            form.add_error("file", ERR_UNREADABLE)
        except UploadError as exc:
            form.add_error("file", exc.message)
        except Exception:  # a file the reader cannot read is the user's problem, said plainly
            log.info("roster import: unreadable file %r", upload.name, exc_info=True)
            form.add_error("file", ERR_UNREADABLE)
        else:
            counts = _counts(result, moves)
            ctx.update(problems=problems, counts=counts, moves=moves, total_rows=result.total_rows, target=target)
            if not problems:
                token = uuid.uuid4().hex
                (_import_dir() / f"{token}.upload").write_bytes(data)
                request.session[SESSION_KEY] = {"token": token, "village": target.pk, "year": year, "name": upload.name,
                                                "moves": [asdict(m) for m in moves]}
                ctx["token"] = token
                messages.info(request, MSG_PREVIEW_OK.format(**counts))
            else:
                messages.error(request, MSG_NOTHING_WRITTEN)
    ctx["form"] = form
    return render(request, "enrollment/import.html", ctx)
