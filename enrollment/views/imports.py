"""Roster import pages: upload → preview (nothing written) → confirm → all rows or none. The run
itself — reading the file, the resource, the audit event — is ``enrollment.roster_import``."""

import logging
import uuid
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from openpyxl import Workbook

from core import intake
from core.access import needs
from core.choices import RegionLevel
from core.scoping import region_in_scope
from core.spreadsheets import UploadError, check_upload, write_rows, xlsx_response

from .. import selectors
from ..forms import ImportForm
from ..resources import TEMPLATE_COLUMNS, Move
from ..roster_import import roster_import_run
from .common import page_year, picked_regions

SESSION_KEY = "roster_import"
MSG_PREVIEW_OK = "预览通过：新增{new}人，更新{update}人，换户{moved}人。确认后才会写入。"
MSG_IMPORTED = "导入完成：新增{new}人，更新{update}人，换户{moved}人。"
MSG_NOTHING_WRITTEN = "有错误，没有写入任何数据。请按行改正后重新上传。"
ERR_EXPIRED = "预览已过期，请重新上传文件。"
ERR_UNREADABLE = "无法读取这个文件：它不是有效的 Excel（.xlsx、.xls）、.ods 或 CSV 文件，或者已损坏。请用 Excel 打开后另存为 .xlsx 再上传。"

log = logging.getLogger(__name__)


def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        run = roster_import_run(actor=user, village=target, year=pending["year"], data=path.read_bytes(), dry_run=False,
                                previewed_moves=previewed, file=pending.get("name", ""))
        if run.failed:
            messages.error(request, MSG_NOTHING_WRITTEN)
            ctx.update(problems=run.problems, form=ImportForm(villages=villages, initial={"village": target}))
            return render(request, "enrollment/import.html", ctx)
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, MSG_IMPORTED.format(**run.counts))
        return redirect(f"{reverse('enrollment:roster')}?village={target.pk}&year={pending['year']}")

    form = ImportForm(request.POST or None, request.FILES or None, villages=villages, initial={"village": village})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        target = form.cleaned_data["village"]
        try:
            check_upload(upload, name=upload.name)
            data = upload.read()
            run = roster_import_run(actor=user, village=target, year=year, data=data, dry_run=True)
        except PermissionDenied:
            raise
        except intake.ReaderError:  # passed the guard, but calamine could not read it: its detail is not for clerks
            form.add_error("file", ERR_UNREADABLE)
        except UploadError as exc:
            form.add_error("file", exc.message)
        except Exception:  # a file the reader cannot read is the user's problem, said plainly
            log.info("roster import: unreadable file %r", upload.name, exc_info=True)
            form.add_error("file", ERR_UNREADABLE)
        else:
            counts = run.counts
            ctx.update(problems=run.problems, counts=counts, moves=run.moves, total_rows=run.result.total_rows, target=target)
            if not run.problems:
                token = uuid.uuid4().hex
                (_import_dir() / f"{token}.upload").write_bytes(data)
                request.session[SESSION_KEY] = {"token": token, "village": target.pk, "year": year, "name": upload.name,
                                                "moves": [asdict(m) for m in run.moves]}
                ctx["token"] = token
                messages.info(request, MSG_PREVIEW_OK.format(**counts))
            else:
                messages.error(request, MSG_NOTHING_WRITTEN)
    ctx["form"] = form
    return render(request, "enrollment/import.html", ctx)
