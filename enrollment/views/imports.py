"""The roster import's upload page: the file goes to the one import flow (``core.imports``), whose
run page previews it, confirms it and writes every row or none. What a roster row does is
``enrollment.roster_import`` (plugged in by ``enrollment.importers``)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from openpyxl import Workbook

from core.access import needs
from core.choices import RegionLevel
from core.imports import flow
from core.imports import views as import_views
from core.spreadsheets import UploadError, write_rows, xlsx_response

from .. import importers, selectors
from ..forms import ImportForm
from ..resources import TEMPLATE_COLUMNS
from .common import page_year, picked_regions


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
        write_rows(wb.active, TEMPLATE_COLUMNS, [["0001", "示例村1组", "张三", "", "户主", "", "", "否", "", "", "参保", "", 1]], id_columns=(1, 4))
        return xlsx_response(wb, "花名册导入模板.xlsx")
    form = ImportForm(request.POST or None, request.FILES or None, villages=villages, initial={"village": village})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = flow.import_upload(actor=user, kind=importers.ROSTER.kind, region=form.cleaned_data["village"], year=year, upload=upload)
        except UploadError as exc:
            form.add_error("file", exc.message)
        else:
            return import_views.start(request, run)
    return render(request, "enrollment/import.html", {"year": year, "village": village, "form": form})
